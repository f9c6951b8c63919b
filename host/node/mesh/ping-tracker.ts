// The client side of `POST /mesh/ping`: sends echo requests through the mesh at an interval and collects the
// replies, each sample stamped with its send time on the Date.now() clock (what convergence measurements line up
// against the moment a link was cut).
import { UsageError } from '../../errors/index.js';
import { MAX_ECHO_PADDING } from '../../mesh/inner/echo-codec.js';
import { isMeshAddress } from '../../mesh/inner/mesh-address.js';

export interface PingRequest {
  readonly to: string;
  readonly count: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Padding bytes per echo (default 0). */
  readonly size: number;
}

export interface PingSample {
  readonly seq: number;
  readonly sentAtMs: number;
  readonly rttMs: number | null;
  /**
   * 'not-sent' when the request could not leave this node at once (no route yet: it waited for on-demand discovery,
   * or no session to the next hop) and no reply came; absent otherwise.
   */
  readonly error?: string;
}

export interface PingResult {
  readonly to: string;
  readonly sent: number;
  readonly received: number;
  readonly samples: readonly PingSample[];
}

export const PING_LIMITS = Object.freeze({ maxCount: 100_000, maxIntervalMs: 60_000, maxTimeoutMs: 60_000, maxDurationMs: 15 * 60_000 });

/** Validates a `POST /mesh/ping` body into a PingRequest (defaults: count 4, interval 1000 ms, timeout 1000 ms). */
export function parsePingRequest(body: unknown): PingRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw new UsageError('the ping request is a JSON object {to, count, intervalMs, timeoutMs}', { path: '' });
  if (!isMeshAddress(b['to'])) throw new UsageError('to must be a node fingerprint (32 lower-case hex characters)', { path: 'to', value: b['to'] ?? null });
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const v = b[name] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`, { path: name, value: v as never });
    }
    return v;
  };
  const req = {
    to: b['to'],
    count: int('count', 4, 1, PING_LIMITS.maxCount),
    intervalMs: int('intervalMs', 1000, 1, PING_LIMITS.maxIntervalMs),
    timeoutMs: int('timeoutMs', 1000, 1, PING_LIMITS.maxTimeoutMs),
    size: int('size', 0, 0, MAX_ECHO_PADDING),
  };
  if (req.count * req.intervalMs + req.timeoutMs > PING_LIMITS.maxDurationMs) {
    throw new UsageError(`a ping may last at most ${PING_LIMITS.maxDurationMs / 60_000} minutes (count × intervalMs + timeoutMs)`, { path: 'count' });
  }
  return req;
}

interface Pending {
  readonly sentAt: number;
  readonly resolve: (rttMs: number | null) => void;
  readonly timer: NodeJS.Timeout;
}

export class PingTracker {
  readonly #pending = new Map<string, Pending>();
  #nextFlow = (Math.random() * 0x7fff_ffff) >>> 0;
  #closed = false;

  /** A flow id for a new ping (u32, distinct among pings running now). */
  newFlow(): number {
    this.#nextFlow = (this.#nextFlow + 1) >>> 0;
    return this.#nextFlow;
  }

  /** Waits for the reply (flow, seq): resolves with the RTT in ms, or null after timeoutMs. */
  expect(flow: number, seq: number, timeoutMs: number): Promise<number | null> {
    const key = `${flow}/${seq}`;
    return new Promise((resolve) => {
      if (this.#closed) return resolve(null);
      const timer = setTimeout(() => {
        this.#pending.delete(key);
        resolve(null);
      }, timeoutMs);
      this.#pending.set(key, { sentAt: performance.now(), resolve, timer });
    });
  }

  /** A reply arrived; false when nobody waits for it (late, duplicate or foreign). */
  reply(flow: number, seq: number): boolean {
    const key = `${flow}/${seq}`;
    const p = this.#pending.get(key);
    if (!p) return false;
    this.#pending.delete(key);
    clearTimeout(p.timer);
    p.resolve(performance.now() - p.sentAt);
    return true;
  }

  /** Ends every wait (as lost). */
  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.resolve(null);
    }
    this.#pending.clear();
  }
}
