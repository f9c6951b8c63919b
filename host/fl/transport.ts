// The one transport interface federated learning runs over: opaque bytes between node ids. It knows nothing about
// FL (kinds, rounds, signatures are the wire codec's and drivers' business), so the in-process hub used in tests
// and simulations today and the mesh transport later are interchangeable.

/** Called for every message delivered to this endpoint; `from` is the sending node's id as the network knows it. */
export type MessageHandler = (from: string, bytes: Uint8Array) => void;

export interface Transport {
  /** This endpoint's node id. */
  readonly id: string;
  /**
   * Hands `bytes` to the network for `to`. Best effort, like a datagram: resolving means accepted for delivery,
   * not delivered; a message may be lost, duplicated or reordered. The bytes are copied before it returns.
   */
  send(to: string, bytes: Uint8Array): Promise<void>;
  /** Adds a handler (a node's client and coordinator share one endpoint); returns a function removing it. */
  onMessage(handler: MessageHandler): () => void;
  /** Stops sending and delivering; idempotent. */
  close(): Promise<void>;
}
