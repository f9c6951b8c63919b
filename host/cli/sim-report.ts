// The convergence report of `x0t sim`: report.json (everything, deterministic for a seed: no wall-clock values),
// report.md (the summary tables) and routes.svg (fraction of connected pairs with a working route over time, with
// a marker per fault and heal). The SVG is drawn here because the chart needs fault markers.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError } from '../errors/index.js';
import type { ScenarioResult } from '../core/routing/sim-scenario.js';

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

/** The report as JSON text; identical bytes for identical runs. */
export function simReportJson(r: ScenarioResult): string {
  const s = r.simulation;
  return JSON.stringify({
    config: r.config,
    topology: { name: r.topology.name, nodes: r.topology.nodes, edges: r.topology.edges },
    summary: {
      ...r.summary,
      controlBytesPerNodePerS: round(r.summary.controlBytesPerNodePerS, 1),
      controlMessagesPerNodePerS: round(r.summary.controlMessagesPerNodePerS, 2),
      finalWorkingFraction: round(r.summary.finalWorkingFraction, 4),
      warmupWorkingFraction: round(r.summary.warmupWorkingFraction, 4),
    },
    faultPlan: r.faultPlan,
    faults: s.faults,
    samples: s.samples,
    controlBytes: s.controlBytes,
    controlMessages: s.controlMessages,
    routeChanges: s.routeChanges,
  }, null, 1) + '\n';
}

const ms = (v: number | null): string => (v === null ? '—' : `${Math.round(v)} ms`);

export function simReportMarkdown(r: ScenarioResult): string {
  const c = r.config;
  const rc = c.routingResolved;
  const lines = [
    `# x0t sim — ${c.nodes} nodes, ${c.topology} topology, seed ${c.seed}`,
    '',
    `${r.topology.edges.length} links; hello ${c.helloMs} ms; link delay ${c.link.delayMs} ms + jitter ${c.link.jitterMs} ms, loss ${c.link.loss}, ` +
      `duplication ${c.link.duplicate}; carrier events ${c.carrierDelayMs} ms after the cut; ${r.simulation.durationMs / 1000} s simulated.`,
    `Probes: reply expected within max(${rc.probeTimeoutRttFactor}·srtt, ${rc.probeTimeoutFloorMs} ms) (cap ${rc.probeTimeoutMaxMs} ms), ` +
      `dead after ${rc.deadAfterMisses} misses: worst-case silent detection H + N·T = ${r.summary.silentDetectionBoundMs} ms.`,
    '',
    '## Recovery per fault kind',
    '',
    '| event | count | recovered | recovery max | recovery mean | detection max |',
    '|---|---|---|---|---|---|',
    ...Object.entries(r.summary.byKind).map(([k, v]) => `| ${k} | ${v.count} | ${v.recovered} | ${ms(v.recoveryMsMax)} | ${ms(v.recoveryMsMean)} | ${ms(v.detectMsMax)} |`),
    '',
    'Recovery: time from the event until every pair it broke (and that is still connected) has a working route again',
    '(primaries followed hop by hop reach the destination over live links, no loop). Detection: until the routers at',
    'the fault stopped using the link or node.',
    '',
    '## Faults',
    '',
    '| at | event | target | pairs broken | recovery | detection |',
    '|---|---|---|---|---|---|',
    ...r.simulation.faults.map((f) => `| ${(f.at / 1000).toFixed(3)} s | ${f.kind} | ${f.target} | ${f.affectedPairs} | ${ms(f.recoveryMs)} | ${ms(f.detectMs)} |`),
    '',
    '## Overhead and health',
    '',
    `- control traffic: ${r.summary.controlBytesPerNodePerS.toFixed(0)} bytes/s per node (encoded routing messages, before sealing), ` +
      `${r.summary.controlMessagesPerNodePerS.toFixed(1)} messages/s per node`,
    `- samples with a routing loop: ${r.summary.loopSamples} of ${r.simulation.samples.length}`,
    `- working fraction at the end of warm-up: ${(100 * r.summary.warmupWorkingFraction).toFixed(1)} %; at the end: ${(100 * r.summary.finalWorkingFraction).toFixed(1)} %`,
    `- route changes reported: ${r.simulation.routeChanges}`,
    '',
    'Plot: routes.svg.',
    '',
  ];
  return lines.join('\n');
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Working-route fraction over time, with fault (red) and heal (green) markers. */
export function simReportSvg(r: ScenarioResult): string {
  const w = 900, h = 380, left = 60, right = 20, top = 40, bottom = 50;
  const T = Math.max(1, r.simulation.durationMs);
  const px = (t: number): number => left + (t / T) * (w - left - right);
  const py = (f: number): number => h - bottom - f * (h - top - bottom);
  const n = (v: number): string => (Math.round(v * 10) / 10).toString();
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2}" y="22" text-anchor="middle" font-size="15">${esc(`Routes working — ${r.config.nodes} nodes, ${r.config.topology}, seed ${r.config.seed}`)}</text>`,
    `<text x="${(left + w - right) / 2}" y="${h - 10}" text-anchor="middle">simulated time (s)</text>`,
    `<text transform="translate(16 ${(top + h - bottom) / 2}) rotate(-90)" text-anchor="middle">connected pairs with a working route (%)</text>`,
  ];
  for (let k = 0; k <= 5; k++) {
    const y = py(k / 5);
    out.push(`<line x1="${left}" x2="${w - right}" y1="${n(y)}" y2="${n(y)}" stroke="#ddd"/><text x="${left - 6}" y="${n(y + 4)}" text-anchor="end">${k * 20}</text>`);
    const t = (T * k) / 5;
    out.push(`<text x="${n(px(t))}" y="${h - bottom + 16}" text-anchor="middle">${n(t / 1000)}</text>`);
  }
  for (const f of r.simulation.faults) {
    const heal = f.kind.startsWith('heal-');
    out.push(`<line x1="${n(px(f.at))}" x2="${n(px(f.at))}" y1="${top}" y2="${h - bottom}" stroke="${heal ? '#2ca02c' : '#d62728'}" stroke-dasharray="4 3"><title>${esc(`${f.kind} ${f.target} at ${(f.at / 1000).toFixed(3)} s: recovery ${ms(f.recoveryMs)}`)}</title></line>`);
    out.push(`<text x="${n(px(f.at) + 3)}" y="${top + 12}" font-size="10" fill="${heal ? '#2ca02c' : '#d62728'}">${esc(heal ? 'heal' : f.kind)}</text>`);
  }
  const pts = r.simulation.samples.filter((s) => s.connectedPairs > 0);
  if (pts.length > 0) {
    const d = pts.map((s, i) => `${i === 0 ? 'M' : 'L'}${n(px(s.t))},${n(py(s.workingPairs / s.connectedPairs))}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="#1f77b4" stroke-width="1.8"/>`);
  }
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${h - bottom}" stroke="#333"/><line x1="${left}" x2="${w - right}" y1="${h - bottom}" y2="${h - bottom}" stroke="#333"/>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Writes report.json, report.md and routes.svg into `dir` (created); returns the paths. */
export async function writeSimReport(dir: string, r: ScenarioResult): Promise<string[]> {
  const files: [string, string][] = [['report.json', simReportJson(r)], ['report.md', simReportMarkdown(r)], ['routes.svg', simReportSvg(r)]];
  try {
    await mkdir(dir, { recursive: true });
    for (const [name, text] of files) await writeFile(join(dir, name), text);
  } catch (e) {
    throw new IoError(`cannot write the simulation report to ${dir}`, { path: dir }, { cause: e });
  }
  return files.map(([name]) => join(dir, name));
}
