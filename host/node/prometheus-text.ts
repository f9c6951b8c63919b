// Pieces of the Prometheus text exposition format 0.0.4 that every hand-written /metrics family shares: label and
// HELP escaping, sample values, and one family's block.

export type MetricType = 'counter' | 'gauge' | 'summary';

export interface MetricSample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number | null;
}

export function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value; null and NaN print as NaN. */
export function formatValue(v: number | null): string {
  if (v === null || Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

export function formatLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

/** The HELP and TYPE lines of one family and its samples (none is fine: the family is then declared but empty). */
export function familyLines(name: string, type: MetricType, help: string, samples: readonly MetricSample[]): string[] {
  return [
    `# HELP ${name} ${escapeHelp(help)}`,
    `# TYPE ${name} ${type}`,
    ...samples.map((s) => `${name}${formatLabels(s.labels)} ${formatValue(s.value)}`),
  ];
}
