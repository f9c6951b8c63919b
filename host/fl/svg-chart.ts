// Small, dependency-free SVG charts for the FL reports: accuracy curves over rounds, and grouped bars (final
// accuracy per aggregation rule and attack, with the spread over seeds and optional reference marks).
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

export interface LineSeries {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  readonly yMin?: number;
  readonly yMax?: number;
  readonly width?: number;
  readonly height?: number;
}

const M = { left: 60, right: 170, top: 40, bottom: 50 };

function frame(w: number, h: number, title: string, xLabel: string, yLabel: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2 - M.right / 2 + M.left / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<text x="${M.left + (w - M.left - M.right) / 2}" y="${h - 10}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + (h - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
}

function yAxis(out: string[], w: number, y0: number, y1: number, yMin: number, yMax: number): void {
  for (let k = 0; k <= 5; k++) {
    const v = yMin + ((yMax - yMin) * k) / 5;
    const y = y1 - ((y1 - y0) * k) / 5;
    out.push(`<line x1="${M.left}" x2="${w - M.right}" y1="${num(y)}" y2="${num(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${M.left - 6}" y="${num(y + 4)}" text-anchor="end">${num(v)}</text>`);
  }
}

function legend(out: string[], w: number, names: readonly string[]): void {
  names.forEach((name, i) => {
    const y = M.top + 8 + i * 18;
    out.push(`<rect x="${w - M.right + 14}" y="${y - 9}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>`);
    out.push(`<text x="${w - M.right + 32}" y="${y + 1}">${esc(name)}</text>`);
  });
}

export function lineChart(o: LineChartOptions): string {
  const w = o.width ?? 760;
  const h = o.height ?? 420;
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, 1);
  const yMin = o.yMin ?? Math.min(...ys, 0);
  const yMax = o.yMax ?? Math.max(...ys, 1);
  const x0 = M.left;
  const x1 = w - M.right;
  const y0 = M.top;
  const y1 = h - M.bottom;
  const px = (x: number): number => x0 + ((x - xMin) / (xMax - xMin || 1)) * (x1 - x0);
  const py = (y: number): number => y1 - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin || 1)) * (y1 - y0);
  const out = frame(w, h, o.title, o.xLabel, o.yLabel);
  yAxis(out, w, y0, y1, yMin, yMax);
  for (let k = 0; k <= 5; k++) {
    const v = xMin + ((xMax - xMin) * k) / 5;
    out.push(`<text x="${num(px(v))}" y="${y1 + 16}" text-anchor="middle">${num(v)}</text>`);
  }
  out.push(`<line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#333"/><line x1="${x0}" x2="${x1}" y1="${y1}" y2="${y1}" stroke="#333"/>`);
  o.series.forEach((s, i) => {
    const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${num(px(p[0]))},${num(py(p[1]))}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.8"/>`);
  });
  legend(out, w, o.series.map((s) => s.name));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface BarSeries {
  readonly name: string;
  /** One value per group (null: not measured). */
  readonly values: readonly (number | null)[];
  /** Optional [low, high] whiskers per group (e.g. min and max over seeds). */
  readonly ranges?: readonly (readonly [number, number] | null)[];
  /** Optional reference value per group, drawn as a black tick (e.g. a paper's figure). */
  readonly reference?: readonly (number | null)[];
}

export interface BarChartOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly groups: readonly string[];
  readonly series: readonly BarSeries[];
  readonly yMin?: number;
  readonly yMax?: number;
  readonly note?: string;
  /** Legend text of the reference ticks, shown when any series has one. */
  readonly referenceLabel?: string;
  readonly width?: number;
  readonly height?: number;
}

export function groupedBarChart(o: BarChartOptions): string {
  const w = o.width ?? 860;
  const h = o.height ?? 440;
  const yMin = o.yMin ?? 0;
  const yMax = o.yMax ?? 100;
  const x0 = M.left;
  const x1 = w - M.right;
  const y0 = M.top;
  const y1 = h - M.bottom;
  const py = (y: number): number => y1 - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin || 1)) * (y1 - y0);
  const out = frame(w, h, o.title, o.note ?? '', o.yLabel);
  yAxis(out, w, y0, y1, yMin, yMax);
  const gw = (x1 - x0) / Math.max(1, o.groups.length);
  const bw = (gw * 0.8) / Math.max(1, o.series.length);
  o.groups.forEach((g, gi) => {
    out.push(`<text x="${num(x0 + gw * gi + gw / 2)}" y="${y1 + 16}" text-anchor="middle">${esc(g)}</text>`);
    o.series.forEach((s, si) => {
      const bx = x0 + gw * gi + gw * 0.1 + bw * si;
      const v = s.values[gi];
      if (v !== null && v !== undefined) {
        out.push(`<rect x="${num(bx)}" y="${num(py(v))}" width="${num(bw - 2)}" height="${num(y1 - py(v))}" fill="${PALETTE[si % PALETTE.length]}"><title>${esc(`${s.name} ${g}: ${v.toFixed(1)}`)}</title></rect>`);
      }
      const r = s.ranges?.[gi];
      if (r) {
        const cx = bx + (bw - 2) / 2;
        out.push(`<line x1="${num(cx)}" x2="${num(cx)}" y1="${num(py(r[0]))}" y2="${num(py(r[1]))}" stroke="#222"/>`);
      }
      const ref = s.reference?.[gi];
      if (ref !== null && ref !== undefined) {
        out.push(`<line x1="${num(bx)}" x2="${num(bx + bw - 2)}" y1="${num(py(ref))}" y2="${num(py(ref))}" stroke="black" stroke-width="3"/>`);
      }
    });
  });
  out.push(`<line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#333"/><line x1="${x0}" x2="${x1}" y1="${y1}" y2="${y1}" stroke="#333"/>`);
  legend(out, w, o.series.map((s) => s.name));
  if (o.series.some((s) => s.reference?.some((r) => r !== null && r !== undefined))) {
    const y = M.top + 8 + o.series.length * 18;
    out.push(`<line x1="${w - M.right + 14}" x2="${w - M.right + 26}" y1="${y - 3}" y2="${y - 3}" stroke="black" stroke-width="3"/>`);
    out.push(`<text x="${w - M.right + 32}" y="${y + 1}">${esc(o.referenceLabel ?? 'reference')}</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
