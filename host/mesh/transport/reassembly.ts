// Fragment reassembly as a pure state machine: fragments and the current time go in, a completed frame or a
// drop reason comes out. Memory is bounded: a message is at most `maxMessageBytes` and `maxFragments` pieces, a
// sender has at most `maxPerSender` messages in flight (a new one evicts that sender's oldest, so a sender can only
// hurt itself), all senders together at most `maxTotal` (a new message beyond that is refused), and an incomplete
// message is dropped after `timeoutMs`. Overlap handling follows RFC 5722's spirit: the same fragment again with
// the same bytes is a harmless duplicate; with different bytes (or a different count) the whole message is dropped.
import type { Fragment } from '../wire/fragment.js';

export interface ReassemblyLimits {
  readonly maxMessageBytes: number;
  readonly maxFragments: number;
  readonly maxPerSender: number;
  readonly maxTotal: number;
  readonly timeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxMessageBytes: 64 * 1024,
  maxFragments: 64,
  maxPerSender: 64,
  maxTotal: 256,
  timeoutMs: 3000,
};

/** Why fragments or a partial message were thrown away; every one is counted. */
export type ReassemblyDrop =
  | 'duplicate'      // a fragment already held (same bytes), or one of a message completed moments ago
  | 'conflict'       // same index with other bytes, or a count that disagrees: the whole message goes
  | 'too-many-fragments'
  | 'too-large'
  | 'evicted'        // the sender's oldest message, to make room for its new one
  | 'global-limit'   // a new message refused: all buffers in use
  | 'timeout';

export const REASSEMBLY_DROPS: readonly ReassemblyDrop[] = ['duplicate', 'conflict', 'too-many-fragments', 'too-large', 'evicted', 'global-limit', 'timeout'];

export type ReassemblyResult =
  | { readonly kind: 'complete'; readonly bytes: Uint8Array }
  | { readonly kind: 'pending' }
  | { readonly kind: 'dropped'; readonly reason: ReassemblyDrop };

interface PartialMessage {
  readonly sender: string;
  readonly msgId: number;
  readonly count: number;
  readonly firstAtMs: number;
  readonly chunks: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
}

/** How many recently finished message ids are remembered (for duplicate detection). */
const FINISHED_CAP = 4096;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Reassembler {
  readonly limits: ReassemblyLimits;
  /** Insertion order is age order: the first entry of a sender is its oldest message. */
  private readonly partials = new Map<string, PartialMessage>();
  private readonly perSender = new Map<string, number>();
  /** Recently completed or dropped messages: late fragments of them are duplicates, not new buffers. */
  private readonly finished = new Map<string, number>();
  private readonly drops = new Map<ReassemblyDrop, number>(REASSEMBLY_DROPS.map((r) => [r, 0]));
  private completed = 0;

  constructor(limits: Partial<ReassemblyLimits> = {}) {
    this.limits = { ...DEFAULT_REASSEMBLY_LIMITS, ...limits };
  }

  private count(reason: ReassemblyDrop): ReassemblyResult {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    return { kind: 'dropped', reason };
  }

  private remove(key: string, p: PartialMessage, nowMs: number): void {
    this.partials.delete(key);
    const n = (this.perSender.get(p.sender) ?? 1) - 1;
    if (n <= 0) this.perSender.delete(p.sender);
    else this.perSender.set(p.sender, n);
    this.finished.set(key, nowMs + this.limits.timeoutMs);
    // Bounded too: past the cap the oldest memories go (their late fragments then time out instead).
    if (this.finished.size > FINISHED_CAP) this.finished.delete(this.finished.keys().next().value!);
  }

  /** One fragment from `sender` (an endpoint key) at `nowMs`. */
  push(sender: string, f: Fragment, nowMs: number): ReassemblyResult {
    this.expire(nowMs);
    const key = `${sender}#${f.msgId}`;
    if (f.count > this.limits.maxFragments) return this.count('too-many-fragments');
    let p = this.partials.get(key);
    if (!p) {
      if (this.finished.has(key)) return this.count('duplicate');
      if ((this.perSender.get(sender) ?? 0) >= this.limits.maxPerSender) {
        for (const [k, old] of this.partials) {
          if (old.sender !== sender) continue;
          this.remove(k, old, nowMs);
          this.count('evicted');
          break;
        }
      }
      if (this.partials.size >= this.limits.maxTotal) return this.count('global-limit');
      p = { sender, msgId: f.msgId, count: f.count, firstAtMs: nowMs, chunks: new Array(f.count), received: 0, bytes: 0 };
      this.partials.set(key, p);
      this.perSender.set(sender, (this.perSender.get(sender) ?? 0) + 1);
    }
    if (f.count !== p.count) {
      this.remove(key, p, nowMs);
      return this.count('conflict');
    }
    const held = p.chunks[f.index];
    if (held) {
      if (equalBytes(held, f.chunk)) return this.count('duplicate');
      this.remove(key, p, nowMs);
      return this.count('conflict');
    }
    if (p.bytes + f.chunk.byteLength > this.limits.maxMessageBytes) {
      this.remove(key, p, nowMs);
      return this.count('too-large');
    }
    p.chunks[f.index] = f.chunk;
    p.received++;
    p.bytes += f.chunk.byteLength;
    if (p.received < p.count) return { kind: 'pending' };
    this.remove(key, p, nowMs);
    const out = new Uint8Array(p.bytes);
    let off = 0;
    for (const c of p.chunks) {
      out.set(c!, off);
      off += c!.byteLength;
    }
    this.completed++;
    return { kind: 'complete', bytes: out };
  }

  /** Drops messages older than the timeout; returns how many. Call it from a timer too, not only on arrivals. */
  expire(nowMs: number): number {
    let n = 0;
    for (const [k, p] of this.partials) {
      if (nowMs - p.firstAtMs < this.limits.timeoutMs) continue;
      this.remove(k, p, nowMs);
      this.count('timeout');
      n++;
    }
    // Entries are added with non-decreasing deadlines, so the first live one ends the sweep.
    for (const [k, until] of this.finished) {
      if (until > nowMs) break;
      this.finished.delete(k);
    }
    return n;
  }

  /** Messages waiting for fragments. */
  get inFlight(): number {
    return this.partials.size;
  }

  get reassembled(): number {
    return this.completed;
  }

  dropCounts(): Record<ReassemblyDrop, number> {
    return Object.fromEntries(REASSEMBLY_DROPS.map((r) => [r, this.drops.get(r) ?? 0])) as Record<ReassemblyDrop, number>;
  }
}
