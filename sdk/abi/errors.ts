// The one registry of x0tta6bl4 errors. Every error has a stable `code` (never renamed once
// released) and a process exit code for the CLI. Callers branch on `code` or `instanceof`,
// never on message text. Errors cross worker boundaries as {code, message, details} and are
// rebuilt here with `errorFromWire`.

export type ErrorDetails = Readonly<Record<string, unknown>>;

export abstract class X0tError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;
  readonly details: ErrorDetails;
  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.details = details;
  }
  override get name(): string {
    return this.constructor.name;
  }
  toJSON(): WireError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export interface WireError {
  code: string;
  message: string;
  details: ErrorDetails;
}

// Exit codes: 1 internal, 2 usage, 3 manifest, 4 I/O, 5 load refused, 6 build, 7 cryptographic input, 10-19 plugin
// call, 20 slot, 30 unsupported, 40-49 federated learning, 50-59 knowledge base, 60 driver, 70-79 mesh.
export class InternalError extends X0tError { readonly code = 'X0T_INTERNAL'; readonly exitCode = 1; }
export class UsageError extends X0tError { readonly code = 'X0T_USAGE'; readonly exitCode = 2; }
/** A manifest failed validation; `details.path` names the field, e.g. `slots.aggregator.plugin`. */
export class ManifestInvalidError extends X0tError { readonly code = 'X0T_MANIFEST_INVALID'; readonly exitCode = 3; }
export class IoError extends X0tError { readonly code = 'X0T_IO'; readonly exitCode = 4; }
/** A plugin's source did not build (compiler error, bad plugin.json, an import its manifest would not grant). */
export class BuildFailedError extends X0tError { readonly code = 'X0T_BUILD_FAILED'; readonly exitCode = 6; }
/**
 * A key, ciphertext, seed or context the cryptography refuses: wrong length, or a value FIPS 203/204 says to reject
 * (an encapsulation key failing the modulus check, a decapsulation key whose hash does not match). A signature that
 * does not verify is not an error: verification answers false.
 */
export class CryptoInputError extends X0tError { readonly code = 'X0T_CRYPTO_INPUT'; readonly exitCode = 7; }
export class HashMismatchError extends X0tError { readonly code = 'X0T_HASH_MISMATCH'; readonly exitCode = 5; }
export class ModuleInvalidError extends X0tError { readonly code = 'X0T_MODULE_INVALID'; readonly exitCode = 5; }
/** The module imports a function its manifest does not grant. */
export class ImportNotPermittedError extends X0tError { readonly code = 'X0T_IMPORT_NOT_PERMITTED'; readonly exitCode = 5; }
export class AbiIncompatibleError extends X0tError { readonly code = 'X0T_ABI_INCOMPATIBLE'; readonly exitCode = 5; }
export class CapabilityMismatchError extends X0tError { readonly code = 'X0T_CAPABILITY_MISMATCH'; readonly exitCode = 5; }
export class SelfTestFailedError extends X0tError { readonly code = 'X0T_SELFTEST_FAILED'; readonly exitCode = 5; }
export class SignatureError extends X0tError { readonly code = 'X0T_SIGNATURE'; readonly exitCode = 5; }
/** The node's policy refuses the plugin (e.g. in-thread isolation forbidden, signature required). */
export class PolicyRefusedError extends X0tError { readonly code = 'X0T_POLICY_REFUSED'; readonly exitCode = 5; }

export class PluginTrapError extends X0tError { readonly code = 'X0T_PLUGIN_TRAP'; readonly exitCode = 10; }
export class PluginTimeoutError extends X0tError { readonly code = 'X0T_PLUGIN_TIMEOUT'; readonly exitCode = 11; }
export class PluginMemoryLimitError extends X0tError { readonly code = 'X0T_PLUGIN_MEMORY_LIMIT'; readonly exitCode = 12; }
export class OutputLimitError extends X0tError { readonly code = 'X0T_PLUGIN_OUTPUT_LIMIT'; readonly exitCode = 13; }
export class InputLimitError extends X0tError { readonly code = 'X0T_PLUGIN_INPUT_LIMIT'; readonly exitCode = 14; }
export class MalformedOutputError extends X0tError { readonly code = 'X0T_PLUGIN_MALFORMED_OUTPUT'; readonly exitCode = 15; }
/** The plugin itself reported a failure (Extism error_set, or a negative x0t status). */
export class PluginReportedError extends X0tError { readonly code = 'X0T_PLUGIN_ERROR'; readonly exitCode = 16; }
export class FunctionNotFoundError extends X0tError { readonly code = 'X0T_FUNCTION_NOT_FOUND'; readonly exitCode = 17; }
export class PluginClosedError extends X0tError { readonly code = 'X0T_PLUGIN_CLOSED'; readonly exitCode = 18; }
/** A binary frame did not decode (wrong length, magic, or dimensions). */
export class CodecError extends X0tError { readonly code = 'X0T_CODEC'; readonly exitCode = 19; }

export class SlotUnavailableError extends X0tError { readonly code = 'X0T_SLOT_UNAVAILABLE'; readonly exitCode = 20; }
export class SwapRejectedError extends X0tError { readonly code = 'X0T_SWAP_REJECTED'; readonly exitCode = 20; }
export class UnsupportedError extends X0tError { readonly code = 'X0T_UNSUPPORTED'; readonly exitCode = 30; }

// Federated learning (exit codes 40-49).
/** An FL wire message did not decode (bad magic, version, kind, lengths or sizes); `details.what` names the field. */
export class FlProtocolError extends X0tError { readonly code = 'X0T_FL_PROTOCOL'; readonly exitCode = 40; }
/** A federated round ended without a model (quorum not reached, aggregation failed); `details.reason` says which. */
export class FlRoundFailedError extends X0tError { readonly code = 'X0T_FL_ROUND_FAILED'; readonly exitCode = 41; }
/** A federated-learning or differential-privacy setting is out of range or unreachable; `details.field` names it. */
export class FlConfigError extends X0tError { readonly code = 'X0T_FL_CONFIG'; readonly exitCode = 42; }
/** A client's model update cannot be used: a NaN or infinite coordinate leaves its norm, so its clipping, unbounded. */
export class FlUpdateInvalidError extends X0tError { readonly code = 'X0T_FL_UPDATE_INVALID'; readonly exitCode = 43; }
/** Why a secure-aggregation step failed; stable values, carried in `details.reason` and as `reason`. */
export type SecAggFailure = 'config' | 'input' | 'threshold' | 'signature' | 'decrypt' | 'protocol' | 'refused';
/**
 * A secure-aggregation party refused a message or could not go on: bad parameters ('config'), a bad update
 * ('input'), fewer than t clients or shares ('threshold'), a key not signed by its client ('signature'), a share
 * ciphertext that does not authenticate ('decrypt'), a message out of step or inconsistent ('protocol'), or a
 * request to reveal both secrets of one client ('refused'). Malformed frames are CodecError.
 */
export class SecAggError extends X0tError {
  readonly code = 'X0T_SECAGG';
  readonly exitCode = 44;
  get reason(): SecAggFailure {
    return this.details['reason'] as SecAggFailure;
  }
}

/** A knowledge-base setting or request is out of range (chunk size, overlap, k, mode, a missing KB folder). */
export class KbConfigError extends X0tError { readonly code = 'X0T_KB_CONFIG'; readonly exitCode = 50; }
/** A saved index or KB file is torn, truncated or fails its checksum; the caller rebuilds from the knowledge base. */
export class KbIndexCorruptError extends X0tError { readonly code = 'X0T_KB_INDEX_CORRUPT'; readonly exitCode = 51; }
/** A model (embedder or re-ranker) is missing, incomplete or fails its pinned hash; details say which file. */
export class ModelUnavailableError extends X0tError { readonly code = 'X0T_MODEL_UNAVAILABLE'; readonly exitCode = 52; }
/** The model runtime (onnxruntime-web) failed to load a model or run it. */
export class ModelRuntimeError extends X0tError { readonly code = 'X0T_MODEL_RUNTIME'; readonly exitCode = 53; }
/** A document could not be read or parsed for ingestion (binary, malformed incident record); nothing is stored from it. */
export class KbIngestError extends X0tError { readonly code = 'X0T_KB_INGEST'; readonly exitCode = 54; }
/**
 * A kernel call made by the driver failed (libbpf, bpf(2), netlink, a namespace or interface operation) on a machine
 * that does support it; details carry `call` and `errno`. A missing kernel feature or permission is UnsupportedError.
 */
export class DriverError extends X0tError { readonly code = 'X0T_DRIVER'; readonly exitCode = 60; }

// Mesh (exit codes 70-79). A mesh datagram that does not decode is a CodecError (details: `kind`, `reason`).
/**
 * A session handshake or sealed packet was refused: details carry `reason` ('tampered', 'replayed', 'reflected',
 * 'downgrade', 'unknown-peer', 'identity', 'stale', 'decrypt', 'no-session', 'suite'). Nothing is delivered from it.
 */
export class SessionError extends X0tError { readonly code = 'X0T_SESSION'; readonly exitCode = 71; }
/**
 * A SPIFFE identity operation failed: an SVID or bundle that does not verify, a forged or expired certificate, a
 * join token that is unknown, used or expired, a CA that cannot issue. Details carry `reason`.
 */
export class IdentityError extends X0tError { readonly code = 'X0T_IDENTITY'; readonly exitCode = 72; }
/** A routing request cannot be served: no route to the destination after on-demand discovery, a bad routing config. */
export class RoutingError extends X0tError { readonly code = 'X0T_ROUTING'; readonly exitCode = 73; }

type ErrorClass = new (message: string, details?: ErrorDetails, options?: { cause?: unknown }) => X0tError;

const CLASSES: readonly ErrorClass[] = [
  InternalError, UsageError, ManifestInvalidError, IoError, BuildFailedError, CryptoInputError, HashMismatchError, ModuleInvalidError,
  ImportNotPermittedError, AbiIncompatibleError, CapabilityMismatchError, SelfTestFailedError, SignatureError,
  PolicyRefusedError,
  PluginTrapError, PluginTimeoutError, PluginMemoryLimitError, OutputLimitError, InputLimitError,
  MalformedOutputError, PluginReportedError, FunctionNotFoundError, PluginClosedError, CodecError,
  SlotUnavailableError, SwapRejectedError, UnsupportedError,
  FlProtocolError, FlRoundFailedError, FlConfigError, FlUpdateInvalidError, SecAggError,
  KbConfigError, KbIndexCorruptError, ModelUnavailableError, ModelRuntimeError, KbIngestError,
  DriverError,
  SessionError, IdentityError, RoutingError,
];

/** code → class; built once, and checked for duplicate codes at module load. */
export const ERROR_REGISTRY: ReadonlyMap<string, ErrorClass> = (() => {
  const m = new Map<string, ErrorClass>();
  for (const C of CLASSES) {
    const code = new C('').code;
    if (m.has(code)) throw new Error(`duplicate error code ${code}`);
    m.set(code, C);
  }
  return m;
})();

export function errorFromWire(w: WireError): X0tError {
  const C = ERROR_REGISTRY.get(w.code) ?? InternalError;
  return new C(w.message, w.details);
}

export function isX0tError(e: unknown): e is X0tError {
  return e instanceof X0tError;
}

/** Wraps anything thrown into an X0tError, keeping X0tErrors as they are. */
export function asX0tError(e: unknown): X0tError {
  if (e instanceof X0tError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new InternalError(msg, {}, { cause: e });
}
