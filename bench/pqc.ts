// Post-quantum benchmark: ML-KEM-768 keygen/encaps/decaps and ML-DSA-65 keygen/sign/verify, ops/s, in one run:
// ours through the slot (PqcSuite: the shipped PQClean-built plugins, worker isolation, sequential awaited calls),
// ours in-thread (the same plugins without the worker hop, for scale), @oqs/liboqs-js 0.15.1 (liboqs in wasm),
// @noble/post-quantum 0.7.1 (pure JS) and pqclean 0.8.1 (PQClean as a native addon, or its wasm fallback).
// Each figure is the median of several timed windows; within a round every implementation runs one window of the
// same operation, in a rotating order, so machine noise falls on all alike.
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { createMLDSA65, createMLKEM768 } from '@oqs/liboqs-js';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PqcSuite } from '../host/crypto/pqc-suite.js';
import type { BenchOptions } from './main.js';
import { fmt, median } from './stats.js';

const ROOT = process.cwd();
const OPS = ['kem_keygen', 'kem_encaps', 'kem_decaps', 'dsa_keygen', 'dsa_sign', 'dsa_verify'] as const;
type OpName = (typeof OPS)[number];
/** One call of an operation; sync for the in-process peers, async for ours. */
type Op = () => unknown;

interface Impl {
  /** JSON key suffix ('' for ours through the slot). */
  readonly key: string;
  readonly label: string;
  readonly async: boolean;
  readonly ops: Record<OpName, Op>;
}

// The classic API of node-pqclean (CommonJS, no types).
interface PqcleanKem {
  keypair(): { publicKey: Uint8Array; privateKey: Uint8Array };
  generateKey(publicKey: Uint8Array): { key: Uint8Array; encryptedKey: Uint8Array };
  decryptKey(privateKey: Uint8Array, encryptedKey: Uint8Array): Uint8Array;
}
interface PqcleanSign {
  keypair(): { publicKey: Uint8Array; privateKey: Uint8Array };
  sign(privateKey: Uint8Array, message: Uint8Array): Uint8Array;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}
interface Pqclean {
  KEM: new (name: string) => PqcleanKem;
  Sign: new (name: string) => PqcleanSign;
}

const version = (pkg: string): string => {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
};

/** Loads pqclean and tells whether its native addon loaded (it falls back to wasm with a process warning). */
async function loadPqclean(): Promise<{ lib: Pqclean; backend: 'native' | 'wasm' }> {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => { warnings.push(w.message); };
  process.on('warning', onWarning);
  try {
    const lib = createRequire(import.meta.url)('pqclean') as Pqclean;
    await new Promise((r) => setImmediate(r)); // process warnings are emitted on the next tick
    return { lib, backend: warnings.some((w) => /WebAssembly backend/i.test(w)) ? 'wasm' : 'native' };
  } finally {
    process.off('warning', onWarning);
  }
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`pqc bench: ${what}`);
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Runs `op` back to back for at least `ms` milliseconds; returns ops/s. */
async function window(impl: Impl, op: OpName, ms: number): Promise<number> {
  const f = impl.ops[op];
  let n = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  let now = t0;
  if (impl.async) {
    while (now < end) { await f(); n++; now = performance.now(); }
  } else {
    while (now < end) { f(); n++; now = performance.now(); }
  }
  return n / ((now - t0) / 1000);
}

export async function pqcBench({ quick, log }: BenchOptions): Promise<Record<string, unknown>> {
  // Many short windows rather than a few long ones: a burst of load from elsewhere then lands on every
  // implementation's windows alike instead of on one implementation's single long window.
  const rounds = quick ? 7 : 21;
  const windowMs = quick ? 60 : 150;
  const warmMs = quick ? 40 : 200;
  const started = performance.now();

  const { lib: pqclean, backend } = await loadPqclean();
  const result: Record<string, unknown> = {
    quick, node: process.version, rounds, window_ms: windowMs,
    peers: {
      'liboqs-js': version('@oqs/liboqs-js'), noble: version('@noble/post-quantum'), pqclean: version('pqclean'),
    },
    pqclean_backend: backend,
    cpus: cpus().length,
    loadavg_start: loadavg()[0],
  };

  const msgs = Array.from({ length: 32 }, (_, i) => Uint8Array.from({ length: 64 }, (_, j) => (i * 31 + j * 7) & 0xff));
  let mi = 0;
  const nextMsg = (): Uint8Array => msgs[mi++ & 31]!;

  // ---- ours, through the slot (worker isolation) and, for scale, in-thread ----
  const impls: Impl[] = [];
  const suites: PqcSuite[] = [];
  const ours = async (key: string, label: string, suite: PqcSuite): Promise<Impl> => {
    suites.push(suite);
    const { kem, signer } = suite;
    const kp = await kem.keygen();
    const enc = await kem.encapsulate(kp.publicKey);
    check(equal(await kem.decapsulate(kp.secretKey, enc.ciphertext), enc.sharedSecret), `${label}: KEM round trip`);
    const sk = await signer.keygen();
    const sigs = await Promise.all(msgs.map((m) => signer.sign(sk.secretKey, m)));
    check(await signer.verify(sk.publicKey, msgs[0]!, sigs[0]!), `${label}: signature round trip`);
    let vi = 0;
    return {
      key, label, async: true, ops: {
        kem_keygen: () => kem.keygen(),
        kem_encaps: () => kem.encapsulate(kp.publicKey),
        kem_decaps: () => kem.decapsulate(kp.secretKey, enc.ciphertext),
        dsa_keygen: () => signer.keygen(),
        dsa_sign: () => signer.sign(sk.secretKey, nextMsg()),
        dsa_verify: () => { const i = vi++ & 31; return signer.verify(sk.publicKey, msgs[i]!, sigs[i]!); },
      },
    };
  };
  impls.push(await ours('', 'ours (slot, worker)', await PqcSuite.open()));
  try {
    impls.push(await ours('_inthread', 'ours (in-thread)', await PqcSuite.open({ isolation: 'in-thread' })));
  } catch (e) {
    log(`ours in-thread: not measured (${(e as Error).message})`);
  }

  // ---- @oqs/liboqs-js (rejects Buffers; everything here is a plain Uint8Array) ----
  const oqsKem = await createMLKEM768();
  const oqsSig = await createMLDSA65();
  {
    const kp = oqsKem.generateKeyPair();
    const enc = oqsKem.encapsulate(kp.publicKey);
    check(equal(oqsKem.decapsulate(enc.ciphertext, kp.secretKey), enc.sharedSecret), 'liboqs: KEM round trip');
    const sk = oqsSig.generateKeyPair();
    const sigs = msgs.map((m) => oqsSig.sign(m, sk.secretKey));
    check(oqsSig.verify(msgs[0]!, sigs[0]!, sk.publicKey), 'liboqs: signature round trip');
    let vi = 0;
    impls.push({
      key: '_liboqs', label: `@oqs/liboqs-js ${version('@oqs/liboqs-js')}`, async: false, ops: {
        kem_keygen: () => oqsKem.generateKeyPair(),
        kem_encaps: () => oqsKem.encapsulate(kp.publicKey),
        kem_decaps: () => oqsKem.decapsulate(enc.ciphertext, kp.secretKey),
        dsa_keygen: () => oqsSig.generateKeyPair(),
        dsa_sign: () => oqsSig.sign(nextMsg(), sk.secretKey),
        dsa_verify: () => { const i = vi++ & 31; return oqsSig.verify(msgs[i]!, sigs[i]!, sk.publicKey); },
      },
    });
  }

  // ---- @noble/post-quantum (hedged signing, its default, like the others) ----
  {
    const kp = ml_kem768.keygen();
    const enc = ml_kem768.encapsulate(kp.publicKey);
    check(equal(ml_kem768.decapsulate(enc.cipherText, kp.secretKey), enc.sharedSecret), 'noble: KEM round trip');
    const sk = ml_dsa65.keygen();
    const sigs = msgs.map((m) => ml_dsa65.sign(m, sk.secretKey));
    check(ml_dsa65.verify(sigs[0]!, msgs[0]!, sk.publicKey), 'noble: signature round trip');
    let vi = 0;
    impls.push({
      key: '_noble', label: `@noble/post-quantum ${version('@noble/post-quantum')}`, async: false, ops: {
        kem_keygen: () => ml_kem768.keygen(),
        kem_encaps: () => ml_kem768.encapsulate(kp.publicKey),
        kem_decaps: () => ml_kem768.decapsulate(enc.cipherText, kp.secretKey),
        dsa_keygen: () => ml_dsa65.keygen(),
        dsa_sign: () => ml_dsa65.sign(nextMsg(), sk.secretKey),
        dsa_verify: () => { const i = vi++ & 31; return ml_dsa65.verify(sigs[i]!, msgs[i]!, sk.publicKey); },
      },
    });
  }

  // ---- pqclean (classic API, synchronous) ----
  {
    const kem = new pqclean.KEM('ml-kem-768');
    const sign = new pqclean.Sign('ml-dsa-65');
    const kp = kem.keypair();
    const enc = kem.generateKey(kp.publicKey);
    check(equal(kem.decryptKey(kp.privateKey, enc.encryptedKey), enc.key), 'pqclean: KEM round trip');
    const sk = sign.keypair();
    const sigs = msgs.map((m) => sign.sign(sk.privateKey, m));
    check(sign.verify(sk.publicKey, msgs[0]!, sigs[0]!), 'pqclean: signature round trip');
    let vi = 0;
    impls.push({
      key: '_pqclean', label: `pqclean ${version('pqclean')} (${backend})`, async: false, ops: {
        kem_keygen: () => kem.keypair(),
        kem_encaps: () => kem.generateKey(kp.publicKey),
        kem_decaps: () => kem.decryptKey(kp.privateKey, enc.encryptedKey),
        dsa_keygen: () => sign.keypair(),
        dsa_sign: () => sign.sign(sk.privateKey, nextMsg()),
        dsa_verify: () => { const i = vi++ & 31; return sign.verify(sk.publicKey, msgs[i]!, sigs[i]!); },
      },
    });
  }

  // ---- measure: per operation, `rounds` rounds of one window per implementation, order rotating each round ----
  const opsPerSec = new Map<string, number>();
  for (const op of OPS) {
    for (const impl of impls) await window(impl, op, warmMs);
    const samples = impls.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < impls.length; j++) {
        const k = (j + r) % impls.length;
        samples[k]!.push(await window(impls[k]!, op, windowMs));
      }
    }
    impls.forEach((impl, k) => opsPerSec.set(`${op}${impl.key}`, median(samples[k]!)));
  }

  for (const s of suites) await s.close();
  oqsKem.destroy();
  oqsSig.destroy();

  // ---- report ----
  const get = (op: OpName, key: string): number => opsPerSec.get(`${op}${key}`) ?? NaN;
  for (const [k, v] of opsPerSec) result[`${k}_ops`] = v; // e.g. kem_encaps_ops (ours), kem_encaps_liboqs_ops
  for (const op of OPS) {
    result[`${op}_vs_liboqs`] = get(op, '') / get(op, '_liboqs');
    result[`${op}_vs_noble`] = get(op, '') / get(op, '_noble');
    result[`${op}_vs_pqclean`] = get(op, '') / get(op, '_pqclean');
  }

  const header = ['operation', ...impls.map((i) => i.label), 'ours/liboqs', 'ours/noble', 'ours/pqclean'];
  const rows = OPS.map((op) => [
    op.replace('kem_', 'ML-KEM-768 ').replace('dsa_', 'ML-DSA-65 '),
    ...impls.map((i) => fmt(get(op, i.key), 0)),
    `${fmt(get(op, '') / get(op, '_liboqs'))}×`,
    `${fmt(get(op, '') / get(op, '_noble'), 1)}×`,
    `${fmt(get(op, '') / get(op, '_pqclean'))}×`,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]): string => cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('  ');
  log(`pqc: ops/s, median of ${rounds} windows of ${windowMs} ms per implementation, interleaved (Node ${process.version})`);
  log(line(header));
  for (const r of rows) log(line(r));

  const goals: Array<{ goal: string; ratio: number; target: number; pass: boolean }> = [];
  for (const op of ['kem_keygen', 'kem_encaps', 'kem_decaps'] as const) {
    goals.push({ goal: `${op} ≥ 1.0× liboqs-js`, ratio: get(op, '') / get(op, '_liboqs'), target: 1, pass: false });
    goals.push({ goal: `${op} ≥ 8× noble`, ratio: get(op, '') / get(op, '_noble'), target: 8, pass: false });
  }
  goals.push({ goal: 'dsa_sign ≥ 1.0× liboqs-js', ratio: get('dsa_sign', '') / get('dsa_sign', '_liboqs'), target: 1, pass: false });
  for (const g of goals) g.pass = g.ratio >= g.target;
  for (const g of goals) log(`goal ${g.goal}: ${fmt(g.ratio)}× → ${g.pass ? 'PASS' : 'FAIL'}`);
  result.goals = goals;
  result.goals_pass = goals.every((g) => g.pass);
  result.seconds = (performance.now() - started) / 1000;
  result.loadavg_end = loadavg()[0];
  // Ours through the slot runs on two threads (the caller polls while the worker computes): on a 2-core machine a
  // third busy process costs it far more than the single-threaded peers. The load average says whether one was there.
  log(`pqc bench: ${fmt(result.seconds as number, 1)} s; pqclean backend: ${backend}; ${cpus().length} CPUs, ` +
    `1-min load average ${fmt(result.loadavg_start as number)} at start, ${fmt(result.loadavg_end as number)} at end`);
  return result;
}
