// The session layer's public surface (what the node wires in): the manager, its events and info, the suites, and
// the pinned-key verifier. The handshake and channel internals are importable from their own files for tests.
export { SessionManager, DEFAULT_REKEY_AFTER_MS, MAX_REKEY_AFTER_MS, DEFAULT_HANDSHAKE_TIMEOUT_MS } from './session-manager.js';
export type { SessionManagerOptions, SessionLimits } from './session-manager.js';
export type { SessionEvent, SessionInfo, SessionStats, RejectReason } from './session-types.js';
export { SUITES, suiteById, type SessionSuite, type SuiteName } from './session-suite.js';
export { PinnedKeyVerifier, pinnedCredentials, pinnedIdentity, encodePinnedKey, decodePinnedKey, type PinnedKey } from './pinned-key-verifier.js';
