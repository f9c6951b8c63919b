// The node's incident records: what happened, what was seen, what was done. They are read from `*.incident.json`
// files (one record, or an array of records) and `*.jsonl` files (one record per line), validated field by field
// (a malformed record names its file, line and field and nothing from that file is stored), and rendered into
// text for retrieval: one chunk per incident, cut further by the recursive chunker only when it is long.
import { KbIngestError } from '../errors/index.js';
import { type Chunk, type ChunkerSpec, chunkerSpec } from './chunkers/chunk.js';
import { recursiveSpans } from './chunkers/recursive.js';

export type IncidentSeverity = 'minor' | 'major' | 'critical';
export const INCIDENT_SEVERITIES: readonly IncidentSeverity[] = ['minor', 'major', 'critical'];

export interface IncidentRecord {
  readonly id: string;
  /** ISO 8601 timestamps. */
  readonly opened: string;
  readonly closed?: string;
  readonly severity: IncidentSeverity;
  readonly nodes: readonly string[];
  readonly title: string;
  readonly symptoms: string;
  readonly diagnosis?: string;
  readonly actions: readonly string[];
  readonly resolution?: string;
  readonly tags: readonly string[];
}

/** Retrieval metadata every incident chunk carries. */
export interface IncidentMetadata {
  readonly incidentId: string;
  readonly severity: IncidentSeverity;
  readonly tags: readonly string[];
  readonly nodes: readonly string[];
  readonly opened: string;
}

export interface IncidentChunk extends Chunk {
  readonly incident: IncidentMetadata;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const KNOWN_FIELDS = new Set(['id', 'opened', 'closed', 'severity', 'nodes', 'title', 'symptoms', 'diagnosis', 'actions', 'resolution', 'tags']);

/** Where a record came from, for error messages: file and 1-based line (`undefined` line = the whole file). */
export interface RecordOrigin {
  readonly file: string;
  readonly line?: number;
}

function fail(origin: RecordOrigin, field: string, why: string): never {
  const at = origin.line === undefined ? origin.file : `${origin.file}:${origin.line}`;
  throw new KbIngestError(`${at}: incident field "${field}" ${why}`, { file: origin.file, line: origin.line, field });
}

function str(o: Record<string, unknown>, field: string, origin: RecordOrigin, required: boolean): string | undefined {
  const v = o[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string') fail(origin, field, v === undefined ? 'is missing' : `must be a string, got ${typeof v}`);
  if (v.trim().length === 0) fail(origin, field, 'must not be empty');
  return v;
}

function strList(o: Record<string, unknown>, field: string, origin: RecordOrigin): string[] {
  const v = o[field];
  if (!Array.isArray(v)) fail(origin, field, v === undefined ? 'is missing' : 'must be an array of strings');
  v.forEach((x, i) => {
    if (typeof x !== 'string' || x.trim().length === 0) fail(origin, `${field}[${i}]`, 'must be a non-empty string');
  });
  return v as string[];
}

function timestamp(o: Record<string, unknown>, field: string, origin: RecordOrigin, required: boolean): string | undefined {
  const v = str(o, field, origin, required);
  if (v !== undefined && (!ISO_8601.test(v) || Number.isNaN(Date.parse(v)))) fail(origin, field, `must be an ISO 8601 timestamp, got "${v}"`);
  return v;
}

/** Validates one parsed JSON value as an incident record; unknown fields are refused (they are usually typos). */
export function parseIncidentRecord(value: unknown, origin: RecordOrigin): IncidentRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(origin, '(record)', 'must be a JSON object');
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KNOWN_FIELDS.has(k)) fail(origin, k, 'is not a known incident field');
  const id = str(o, 'id', origin, true)!;
  if (!ID.test(id)) fail(origin, 'id', `must match ${ID.source}, got "${id}"`);
  const opened = timestamp(o, 'opened', origin, true)!;
  const closed = timestamp(o, 'closed', origin, false);
  if (closed !== undefined && Date.parse(closed) < Date.parse(opened)) fail(origin, 'closed', 'is before "opened"');
  const severity = o['severity'];
  if (typeof severity !== 'string' || !(INCIDENT_SEVERITIES as readonly string[]).includes(severity)) {
    fail(origin, 'severity', `must be one of ${INCIDENT_SEVERITIES.join(', ')}`);
  }
  const rec: IncidentRecord = {
    id,
    opened,
    ...(closed !== undefined ? { closed } : {}),
    severity: severity as IncidentSeverity,
    nodes: strList(o, 'nodes', origin),
    title: str(o, 'title', origin, true)!,
    symptoms: str(o, 'symptoms', origin, true)!,
    ...(o['diagnosis'] !== undefined ? { diagnosis: str(o, 'diagnosis', origin, true)! } : {}),
    actions: strList(o, 'actions', origin),
    ...(o['resolution'] !== undefined ? { resolution: str(o, 'resolution', origin, true)! } : {}),
    tags: strList(o, 'tags', origin),
  };
  return rec;
}

function parseJson(text: string, origin: RecordOrigin): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const at = origin.line === undefined ? origin.file : `${origin.file}:${origin.line}`;
    throw new KbIngestError(`${at}: not valid JSON (${(e as Error).message})`, { file: origin.file, line: origin.line, field: '(json)' }, { cause: e });
  }
}

/** Parses a whole `*.incident.json` (an object or an array of objects) or `*.jsonl` file; all or nothing. Duplicate
 *  ids within the file are refused. */
export function parseIncidentFile(file: string, text: string): IncidentRecord[] {
  const records: IncidentRecord[] = [];
  if (file.endsWith('.jsonl')) {
    const lines = text.split('\n');
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line.length === 0) return;
      const origin = { file, line: i + 1 };
      records.push(parseIncidentRecord(parseJson(line, origin), origin));
    });
  } else {
    const v = parseJson(text, { file });
    const list = Array.isArray(v) ? v : [v];
    list.forEach((x, i) => records.push(parseIncidentRecord(x, Array.isArray(v) ? { file, line: i + 1 } : { file })));
  }
  const seen = new Set<string>();
  records.forEach((r, i) => {
    if (seen.has(r.id)) fail({ file, line: file.endsWith('.jsonl') ? undefined : i + 1 }, 'id', `"${r.id}" appears twice`);
    seen.add(r.id);
  });
  return records;
}

/** The incident as readable text; the title line first so a short chunk still says what it is about. */
export function renderIncident(r: IncidentRecord): string {
  const lines = [
    `Incident ${r.id}: ${r.title}`,
    `Severity: ${r.severity}. Opened ${r.opened}${r.closed ? `, closed ${r.closed}` : ', still open'}.`,
    `Nodes: ${r.nodes.join(', ') || 'none'}. Tags: ${r.tags.join(', ') || 'none'}.`,
    `Symptoms: ${r.symptoms}`,
  ];
  if (r.diagnosis) lines.push(`Diagnosis: ${r.diagnosis}`);
  if (r.actions.length > 0) lines.push('Actions:', ...r.actions.map((a) => `- ${a}`));
  if (r.resolution) lines.push(`Resolution: ${r.resolution}`);
  return lines.join('\n');
}

export function incidentSource(id: string): string {
  return `incident:${id}`;
}

/** Chunks of one incident: the whole rendering when it fits in `size`, else recursive chunks of it. Offsets are
 *  into `renderIncident(r)`; the heading path is the incident's title. */
export function incidentChunks(r: IncidentRecord, spec: Partial<ChunkerSpec> = {}): IncidentChunk[] {
  // Incidents are always cut by the recursive chunker (their fields are lines), with the caller's size and overlap.
  const s = chunkerSpec({ ...spec, name: 'recursive' });
  const text = renderIncident(r);
  const meta: IncidentMetadata = { incidentId: r.id, severity: r.severity, tags: r.tags, nodes: r.nodes, opened: r.opened };
  const spans = text.length <= s.size ? [{ start: 0, end: text.length }] : recursiveSpans(text, 0, text.length, s.size, s.overlap);
  return spans.map((sp) => ({
    text: text.slice(sp.start, sp.end), source: incidentSource(r.id), headingPath: [r.title], start: sp.start, end: sp.end,
    chunker: s, incident: meta,
  }));
}
