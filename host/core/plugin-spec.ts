// A PluginSpec is the inert, validated, frozen form of a plugin manifest: nothing in it is live.
// host/runtime turns it into a PluginInstance (which must be closed).

export const HOST_PERMISSIONS = ['log', 'config', 'var', 'clock', 'random'] as const;
export type HostPermission = (typeof HOST_PERMISSIONS)[number];

/** `worker`: own thread, hard timeout (terminate + restart). `in-thread`: fastest, for trusted plugins only. */
export const ISOLATIONS = ['worker', 'in-thread'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export interface PluginLimits {
  /** Linear-memory ceiling in 64 KiB pages; also caps Extism kernel memory. */
  readonly maxMemoryPages: number;
  readonly callTimeoutMs: number;
  readonly maxInputBytes: number;
  readonly maxOutputBytes: number;
}

export interface PluginSignature {
  readonly algorithm: string;
  readonly publicKey: string;
  readonly value: string;
}

export interface PluginSpec {
  readonly name: string;
  readonly version: string;
  readonly capability: string;
  /** Inclusive range of host ABI versions the plugin works with. */
  readonly abi: { readonly min: number; readonly max: number };
  /** `path` is absolute (resolved against the manifest's folder). */
  readonly wasm: { readonly path: string; readonly sha256: string };
  readonly limits: PluginLimits;
  readonly isolation: Isolation;
  readonly permissions: { readonly host: readonly HostPermission[] };
  readonly config: Readonly<Record<string, string>>;
  readonly signature: PluginSignature | null;
  readonly description: string;
  /** Absolute path of the manifest this spec came from; null for ad-hoc specs (e.g. `x0t plugin call x.wasm`). */
  readonly manifestPath: string | null;
}

export const DEFAULT_LIMITS: PluginLimits = Object.freeze({
  maxMemoryPages: 256, // 16 MiB
  callTimeoutMs: 1000,
  maxInputBytes: 4 * 1024 * 1024,
  maxOutputBytes: 4 * 1024 * 1024,
});
