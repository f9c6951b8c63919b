export type PluginCall = (fn: string, input: Uint8Array) => Promise<Uint8Array>;

export interface ConformanceCase {
  readonly name: string;
  /** Resolves when the plugin behaves; throws an Error saying what differed otherwise. */
  readonly run: (call: PluginCall) => Promise<void>;
}

export interface ConformanceReport {
  readonly capability: string;
  readonly cases: readonly { readonly name: string; readonly ms: number }[];
}

/** A small deterministic generator (mulberry32) so every run of a kit sends the same inputs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resolves if `p` rejects with one of `codes`; throws otherwise (a kit case that expects a clean refusal). */
export async function expectFailure(p: Promise<unknown>, codes: readonly string[], what: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && codes.includes(code)) return;
    throw new Error(`${what}: expected ${codes.join(' or ')}, got ${typeof code === 'string' ? code : String(e)}`);
  }
  throw new Error(`${what}: expected a refusal (${codes.join(' or ')}), got a result`);
}

export function assertClose(actual: number, expected: number, tol: number, what: string): void {
  if (!(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)))) {
    throw new Error(`${what}: got ${actual}, expected ${expected} (±${tol})`);
  }
}
