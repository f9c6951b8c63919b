// Scenario transcripts for the slot lifecycle: each file under test/scenarios/slot-lifecycle is a list of timed
// events (`@ms event args`) each followed by the effects the machine must return, indented. Run with
// UPDATE_TRANSCRIPTS=1 to rewrite the expected effects on purpose after a deliberate change.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SlotLifecycle, type LifecycleEffect, type LifecycleEvent, type VersionRef } from '../../../host/core/slot-lifecycle.js';

const dir = join(process.cwd(), 'test', 'scenarios', 'slot-lifecycle');

function ref(label: string): VersionRef {
  return { id: Number(label.replace(/\D/g, '')), label };
}

function parseEvent(words: string[]): LifecycleEvent {
  const [kind, v, ...rest] = words;
  const version = ref(v ?? 'v0');
  const reason = rest.join(' ');
  switch (kind) {
    case 'opened': return { type: 'opened', version };
    case 'swap': return { type: 'swap-requested', version };
    case 'ready': return { type: 'candidate-ready', version };
    case 'load-failed': return { type: 'candidate-failed', version, reason };
    case 'selftest-pass': return { type: 'selftest-passed', version };
    case 'selftest-fail': return { type: 'selftest-failed', version, reason };
    case 'fail': return { type: 'call-failed', version, code: reason };
    case 'tick': return { type: 'tick' };
    default: throw new Error(`unknown event ${kind}`);
  }
}

function formatEffect(e: LifecycleEffect): string {
  switch (e.type) {
    case 'record': {
      const r = e.record;
      return `record ${r.outcome} from=${r.from} to=${r.to}${r.reason ? ` reason="${r.reason}"` : ''}`;
    }
    case 'reject-swap': return `reject-swap ${e.version.label} "${e.reason}"`;
    default: return `${e.type} ${e.version.label}`;
  }
}

function run(text: string): string {
  const out: string[] = [];
  let machine: SlotLifecycle | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('  ') || line.trim() === '') continue; // expected effects are regenerated
    out.push(line);
    if (line.startsWith('#')) continue;
    const words = line.trim().split(/\s+/);
    if (words[0] === 'policy') {
      const [threshold, windowMs, observeMs] = words.slice(1).map(Number);
      machine = new SlotLifecycle({ failureThreshold: threshold!, windowMs: windowMs!, observeMs: observeMs! });
      continue;
    }
    const at = Number(words[0]!.slice(1));
    const effects = machine!.step(parseEvent(words.slice(1)), at);
    for (const e of effects) out.push(`  ${formatEffect(e)}`);
    const snap = machine!.snapshot();
    out.push(`  = ${snap.phase} active=${snap.active?.label ?? '-'} standby=${snap.standby?.label ?? '-'}`);
  }
  return out.join('\n').trimEnd() + '\n';
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`slot lifecycle transcript ${file}`, () => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    const actual = run(text);
    if (process.env['UPDATE_TRANSCRIPTS'] === '1') writeFileSync(path, actual);
    else assert.equal(actual, text);
  });
}
