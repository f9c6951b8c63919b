// What the node asks of its packet driver, whichever implementation serves it: the XDP program through libbpf
// (per-peer counters in the kernel, quarantine by dropping at the driver) or, where BPF or the permission for it
// is missing, the user-space fallback (counters fed by the node's own transport, quarantine as a refusal list the
// transport consults). The implementation in use and the reason for a fallback are part of the status, so a
// node never degrades silently.

/** How the driver is running: XDP in the NIC driver, XDP in the generic (skb) path, or user space only. */
export type DriverMode = 'xdp-native' | 'xdp-generic' | 'userspace';

/** The address family of a peer, as counted. */
export type PeerFamily = 4 | 6;

export interface PeerCounters {
  /** The peer's source address in canonical text form (`10.0.0.2`, `fd00::2`). */
  readonly address: string;
  readonly family: PeerFamily;
  /** Packets and bytes received from this peer (summed over CPUs). */
  readonly packets: number;
  readonly bytes: number;
  /** True when the address is in the quarantine list. */
  readonly quarantined: boolean;
}

export interface QuarantineEntry {
  readonly address: string;
  readonly family: PeerFamily;
  /** Packets dropped for this address since it was quarantined. */
  readonly drops: number;
}

/** An event the driver reports as it happens (rate-limited in the kernel). */
export type DriverEvent =
  | { readonly kind: 'new-peer'; readonly address: string; readonly family: PeerFamily; readonly ifindex: number; readonly atNs: bigint }
  | { readonly kind: 'drop'; readonly address: string; readonly family: PeerFamily; readonly ifindex: number; readonly atNs: bigint };

export interface DriverStatus {
  readonly mode: DriverMode;
  /** The interface the program is attached to (null for the user-space driver). */
  readonly interface: string | null;
  readonly ifindex: number | null;
  /** The kernel's id of the attached program, and where its maps and link are pinned (null in user space). */
  readonly programId: number | null;
  readonly pinDir: string | null;
  /** Why the driver is not running natively (e.g. generic fallback, or no BPF); null when nothing was given up. */
  readonly reason: string | null;
  /** Events delivered to listeners, and events the kernel suppressed by its rate limit or lost to a full ring. */
  readonly eventsDelivered: number;
  readonly eventsSuppressed: number;
  /** The SHA-256 of the loaded BPF object (hex), null in user space. */
  readonly objectSha256: string | null;
  /**
   * Packets from new sources that found the peer table full (PEER_TABLE_CAPACITY per family): passed, but neither
   * counted nor reported. Non-zero means a source-spoofing flood or a mesh larger than the table.
   */
  readonly peerTableFull: number;
}

/** Peers counted per address family, by either driver (the XDP program's peers_v4/peers_v6 max_entries). */
export const PEER_TABLE_CAPACITY = 16384;

export interface PacketDriver {
  status(): DriverStatus;
  /** Every peer seen, with its counters; sorted by address. */
  peers(): PeerCounters[];
  /** Adds an address (IPv4 or IPv6 text) to the quarantine list; its packets are dropped from now on. Idempotent. */
  quarantineAdd(address: string): void;
  /** Removes an address; returns false when it was not quarantined. */
  quarantineDelete(address: string): boolean;
  quarantineList(): QuarantineEntry[];
  /** Subscribes to driver events; returns the unsubscribe function. */
  onEvent(listener: (event: DriverEvent) => void): () => void;
  /** Detaches the program, removes the pins and frees everything; safe to call twice. */
  close(): Promise<void>;
}
