// The error registry lives in the contract (sdk/abi/errors.ts) so plugins' tool-chains, the SDK and the host
// share one set of codes; host code imports it from here.
export * from '../../sdk/abi/errors.js';
