// Incident records: valid records parse from *.incident.json (object or array) and *.jsonl; every malformed field
// is a KbIngestError naming file, line and field; rendering and chunk metadata; long incidents are split.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KbIngestError } from '../../../host/errors/index.js';
import { incidentChunks, parseIncidentFile, parseIncidentRecord, renderIncident } from '../../../host/kb/incident-record.js';

const good = {
  id: 'INC-2026-0042', opened: '2026-11-02T08:14:00Z', closed: '2026-11-02T09:01:00Z', severity: 'major',
  nodes: ['node-a', 'node-b'], title: 'Wi-Fi link flaps between node-a and node-b',
  symptoms: 'wlan0 carrier lost every few minutes; routing reconverges.', diagnosis: 'DFS radar events on channel 52.',
  actions: ['moved to channel 36', 'pinned channel in config'], resolution: 'No flaps for 24 h.', tags: ['wifi', 'dfs'],
};

function ingestError(fn: () => unknown, file: string, line: number | undefined, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KbIngestError, String(e));
    assert.equal(e.code, 'X0T_KB_INGEST');
    assert.equal(e.details['file'], file);
    assert.equal(e.details['line'], line);
    assert.equal(e.details['field'], field);
    return true;
  });
}

describe('parseIncidentRecord', () => {
  test('a complete record and a minimal one parse', () => {
    assert.deepEqual(parseIncidentRecord(good, { file: 'x.incident.json' }), good);
    const { closed: _c, diagnosis: _d, resolution: _r, ...minimal } = good;
    assert.deepEqual(parseIncidentRecord(minimal, { file: 'x.incident.json' }), minimal);
  });

  test('each malformed field is named', () => {
    const o = { file: 'a.jsonl', line: 3 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, id: undefined }, 'id'], [{ ...good, id: 'has space' }, 'id'], [{ ...good, opened: 'yesterday' }, 'opened'],
      [{ ...good, closed: '2026-11-01T00:00:00Z' }, 'closed'], [{ ...good, severity: 'huge' }, 'severity'],
      [{ ...good, nodes: 'node-a' }, 'nodes'], [{ ...good, nodes: ['ok', 3] }, 'nodes[1]'], [{ ...good, title: '' }, 'title'],
      [{ ...good, symptoms: 42 }, 'symptoms'], [{ ...good, actions: undefined }, 'actions'], [{ ...good, tags: [''] }, 'tags[0]'],
      [{ ...good, diagnosis: 7 }, 'diagnosis'], [{ ...good, sevrity: 'minor' }, 'sevrity'],
    ];
    for (const [rec, field] of cases) ingestError(() => parseIncidentRecord(rec, o), 'a.jsonl', 3, field);
    ingestError(() => parseIncidentRecord([good], o), 'a.jsonl', 3, '(record)');
  });
});

describe('parseIncidentFile', () => {
  test('jsonl: one record per line, blank lines ignored; the failing line is reported', () => {
    const b = { ...good, id: 'INC-2' };
    assert.equal(parseIncidentFile('i.jsonl', `${JSON.stringify(good)}\n\n${JSON.stringify(b)}\n`).length, 2);
    ingestError(() => parseIncidentFile('i.jsonl', `${JSON.stringify(good)}\n{"id": "x",\n`), 'i.jsonl', 2, '(json)');
    ingestError(() => parseIncidentFile('i.jsonl', `${JSON.stringify(good)}\n${JSON.stringify({ ...b, severity: 'low' })}`), 'i.jsonl', 2, 'severity');
    ingestError(() => parseIncidentFile('i.jsonl', `${JSON.stringify(good)}\n${JSON.stringify(good)}`), 'i.jsonl', undefined, 'id');
  });

  test('*.incident.json: an object or an array (element index as line)', () => {
    assert.equal(parseIncidentFile('x.incident.json', JSON.stringify(good)).length, 1);
    assert.equal(parseIncidentFile('x.incident.json', JSON.stringify([good, { ...good, id: 'B' }])).length, 2);
    ingestError(() => parseIncidentFile('x.incident.json', JSON.stringify([good, { ...good, id: 'B', nodes: [1] }])), 'x.incident.json', 2, 'nodes[0]');
    ingestError(() => parseIncidentFile('x.incident.json', '{'), 'x.incident.json', undefined, '(json)');
  });
});

describe('incident chunks', () => {
  test('one chunk with the whole rendering and the metadata', () => {
    const r = parseIncidentRecord(good, { file: 'x' });
    const text = renderIncident(r);
    assert.ok(text.startsWith('Incident INC-2026-0042: Wi-Fi link flaps'));
    for (const part of [good.symptoms, good.diagnosis, good.resolution, ...good.actions, 'node-a, node-b', 'wifi, dfs']) assert.ok(text.includes(part), part);
    const chunks = incidentChunks(r);
    assert.equal(chunks.length, 1);
    const c = chunks[0]!;
    assert.equal(c.text, text);
    assert.equal(c.source, 'incident:INC-2026-0042');
    assert.deepEqual(c.headingPath, [good.title]);
    assert.deepEqual(c.incident, { incidentId: good.id, severity: 'major', tags: good.tags, nodes: good.nodes, opened: good.opened });
  });

  test('a long incident is split; offsets address the rendering', () => {
    const r = parseIncidentRecord({ ...good, actions: Array.from({ length: 40 }, (_, i) => `step ${i}: checked the link budget and the antenna`) }, { file: 'x' });
    const text = renderIncident(r);
    const chunks = incidentChunks(r, { size: 256, overlap: 32 });
    assert.ok(chunks.length > 3);
    for (const c of chunks) {
      assert.equal(text.slice(c.start, c.end), c.text);
      assert.ok(c.text.length <= 256);
      assert.equal(c.incident.severity, 'major');
    }
  });
});
