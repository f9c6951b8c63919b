// The `x0t node start --demo` workload: every interval, one FedAvg round of 8 random clients × 1,000 floats through
// the node's aggregator slot, one selftest sum, and (when the node has those slots) a post-quantum key exchange
// through its kem slot and a signature through its signer slot, one line each, so a newcomer sees the node working;
// once the node's knowledge base is ready, one operator question per round searched in it.
import { decodeF32Vector, decodeF64Vector, encodeAggregateRequest, encodeF32Vector } from '../../sdk/abi/generated/contract.js';
import { PluginKem } from '../crypto/plugin-kem.js';
import { PluginSigner } from '../crypto/plugin-signer.js';
import { asX0tError } from '../errors/index.js';
import type { NodeKnowledge } from '../node/node-knowledge.js';
import type { PluginHost } from '../runtime/plugin-host.js';
import type { Slot } from '../runtime/slot.js';
import { formatMs } from './output.js';

export interface DemoLine {
  readonly round: number;
  readonly slot: string;
  readonly plugin: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly text: string;
  readonly first?: readonly number[];
  readonly error?: { readonly code: string; readonly message: string };
}

const CLIENTS = 8;
const DIM = 1000;

function slotFor(host: PluginHost, capability: string): Slot | null {
  for (const s of host.slots.values()) if (s.capability === capability) return s;
  return null;
}

function randomFloats(n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (Math.random() * 2 - 1) * scale;
  return a;
}

function label(slot: Slot): string {
  try {
    return `${slot.spec.name}@${slot.spec.version}`;
  } catch {
    return '(no plugin)';
  }
}

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t0 };
}

async function aggregatorRound(round: number, slot: Slot): Promise<DemoLine> {
  const plugin = label(slot);
  const weights = Float32Array.from({ length: CLIENTS }, () => 1 + Math.floor(Math.random() * 10));
  const updates = randomFloats(CLIENTS * DIM, 0.1);
  const t0 = performance.now();
  try {
    const { value, ms } = await timed(() => slot.call('aggregate', encodeAggregateRequest({ clients: CLIENTS, dim: DIM, weights, updates })));
    const out = decodeF32Vector(value);
    const first = [...out.values.subarray(0, 3)];
    return {
      round, slot: slot.name, plugin, ok: true, ms, first,
      text: `round ${round}  ${slot.name} ${plugin}: ${CLIENTS} clients × ${DIM} floats in ${formatMs(ms)} ms → ` +
        `[${first.map((x) => x.toFixed(5)).join(', ')}, …] (${out.len} values)`,
    };
  } catch (e) {
    const err = asX0tError(e);
    const ms = performance.now() - t0;
    return { round, slot: slot.name, plugin, ok: false, ms, error: { code: err.code, message: err.message },
      text: `round ${round}  ${slot.name} ${plugin}: FAILED ${err.code}: ${err.message}` };
  }
}

async function selftestSum(round: number, slot: Slot): Promise<DemoLine> {
  const plugin = label(slot);
  const values = randomFloats(DIM);
  let expected = 0;
  for (const x of values) expected += x;
  const t0 = performance.now();
  try {
    const { value, ms } = await timed(() => slot.call('sum', encodeF32Vector({ len: values.length, values })));
    const sum = decodeF64Vector(value).values[0] ?? NaN;
    return {
      round, slot: slot.name, plugin, ok: true, ms, first: [sum],
      text: `round ${round}  ${slot.name} ${plugin}: sum of ${DIM} floats = ${sum.toFixed(6)} (host: ${expected.toFixed(6)}) ` +
        `in ${formatMs(ms)} ms`,
    };
  } catch (e) {
    const err = asX0tError(e);
    const ms = performance.now() - t0;
    return { round, slot: slot.name, plugin, ok: false, ms, error: { code: err.code, message: err.message },
      text: `round ${round}  ${slot.name} ${plugin}: FAILED ${err.code}: ${err.message}` };
  }
}

function failed(round: number, slot: Slot, plugin: string, t0: number, e: unknown): DemoLine {
  const err = asX0tError(e);
  return { round, slot: slot.name, plugin, ok: false, ms: performance.now() - t0, error: { code: err.code, message: err.message },
    text: `round ${round}  ${slot.name} ${plugin}: FAILED ${err.code}: ${err.message}` };
}

function hexPrefix(bytes: Uint8Array, n = 6): string {
  return Buffer.from(bytes.subarray(0, n)).toString('hex');
}

/** Both ends of a key exchange on this node: keygen, encapsulate, decapsulate; the two secrets must agree. */
async function kemExchange(round: number, slot: Slot): Promise<DemoLine> {
  const plugin = label(slot);
  const t0 = performance.now();
  try {
    const kem = await PluginKem.open((fn, input) => slot.call(fn, input), plugin);
    const { value, ms } = await timed(async () => {
      const kp = await kem.keygen();
      const enc = await kem.encapsulate(kp.publicKey);
      const ss = await kem.decapsulate(kp.secretKey, enc.ciphertext);
      return { enc, agree: Buffer.from(ss).equals(enc.sharedSecret) };
    });
    return {
      round, slot: slot.name, plugin, ok: value.agree, ms,
      text: `round ${round}  ${slot.name} ${plugin}: keygen + encaps (${value.enc.ciphertext.length}-byte ciphertext) + decaps ` +
        `in ${formatMs(ms)} ms, shared secret ${hexPrefix(value.enc.sharedSecret)}… ${value.agree ? 'agrees' : 'DIFFERS'}`,
    };
  } catch (e) {
    return failed(round, slot, plugin, t0, e);
  }
}

/** Signs a 1 KiB message under a fresh key and verifies it. */
async function signAndVerify(round: number, slot: Slot): Promise<DemoLine> {
  const plugin = label(slot);
  const t0 = performance.now();
  try {
    const signer = await PluginSigner.open((fn, input) => slot.call(fn, input), plugin);
    const message = Uint8Array.from({ length: 1024 }, () => Math.floor(Math.random() * 256));
    const context = new TextEncoder().encode('x0t-demo');
    const { value, ms } = await timed(async () => {
      const kp = await signer.keygen();
      const sig = await signer.sign(kp.secretKey, message, { context });
      return { sig, valid: await signer.verify(kp.publicKey, message, sig, { context }) };
    });
    return {
      round, slot: slot.name, plugin, ok: value.valid, ms,
      text: `round ${round}  ${slot.name} ${plugin}: keygen + sign 1 KiB (${value.sig.length}-byte signature) + verify ` +
        `in ${formatMs(ms)} ms → ${value.valid ? 'valid' : 'INVALID'}`,
    };
  } catch (e) {
    return failed(round, slot, plugin, t0, e);
  }
}

/** Operator questions the demo asks the knowledge base, one per round in turn. */
export const DEMO_QUESTIONS: readonly string[] = [
  'a mesh link keeps flapping between up and down',
  'a plugin call times out on a slow board',
  'the SD card wore out and the root filesystem went read-only',
];

/** One search through the node's knowledge base: the best hit's source and heading. */
async function knowledgeSearch(round: number, asked: number, knowledge: NodeKnowledge): Promise<DemoLine> {
  const query = DEMO_QUESTIONS[asked % DEMO_QUESTIONS.length]!;
  const t0 = performance.now();
  const base = { round, slot: 'kb', plugin: knowledge.status().stats?.embedder.id ?? '(knowledge base)' };
  try {
    const r = await knowledge.search({ query, k: 1 });
    const hit = r.hits[0];
    const where = hit === undefined ? 'no results'
      : `${hit.chunk.source}${hit.chunk.headingPath.length > 0 ? ` › ${hit.chunk.headingPath.join(' › ')}` : ''}`;
    return { ...base, ok: true, ms: r.ms, text: `kb: ${JSON.stringify(query)} → ${where}` };
  } catch (e) {
    const err = asX0tError(e);
    return { ...base, ok: false, ms: performance.now() - t0, error: { code: err.code, message: err.message },
      text: `kb: ${JSON.stringify(query)} → FAILED ${err.code}: ${err.message}` };
  }
}

export interface DemoOptions {
  /** Milliseconds between rounds (default 2000). */
  readonly intervalMs?: number;
  /** The node's knowledge base: searched once a round while it is ready. */
  readonly knowledge?: NodeKnowledge | null;
}

/** Runs a round now and then every `intervalMs` (never two at once) until stopped. */
export function startDemo(host: PluginHost, emit: (line: DemoLine) => void, opts: DemoOptions = {}): { stop(): Promise<void> } {
  const intervalMs = opts.intervalMs ?? 2000;
  let kbAsked = 0;
  let round = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  const tick = (): void => {
    timer = null;
    running = (async () => {
      round++;
      const agg = slotFor(host, 'aggregator');
      const st = slotFor(host, 'selftest');
      if (agg && !stopped) emit(await aggregatorRound(round, agg));
      if (st && !stopped) emit(await selftestSum(round, st));
      const kem = slotFor(host, 'kem');
      const signer = slotFor(host, 'signer');
      if (kem && !stopped) emit(await kemExchange(round, kem));
      if (signer && !stopped) emit(await signAndVerify(round, signer));
      if (opts.knowledge?.state === 'ready' && !stopped) emit(await knowledgeSearch(round, kbAsked++, opts.knowledge));
    })().finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
    },
  };
}
