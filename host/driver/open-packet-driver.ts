// Opens the packet driver a node runs: the XDP program on the configured interface when the kernel, the permission
// and libbpf allow it, else the user-space driver with the reason in its status. Only a missing feature is degraded
// (UnsupportedError); a kernel call that fails where the feature exists (DriverError) propagates, because running on
// quietly without the driver the operator configured would hide a real fault.
import { UnsupportedError } from '../errors/index.js';
import type { PacketDriver } from './packet-driver.js';
import { UserspaceDriver } from './userspace-driver.js';
import type { XdpAttachMode } from './xdp-driver.js';

export type { XdpAttachMode } from './xdp-driver.js';

export interface OpenPacketDriverOptions {
  /** The interface to attach to; null or absent = none configured, so the user-space driver. */
  readonly interface?: string | null;
  readonly mode?: XdpAttachMode;
  readonly pinRoot?: string;
  /** The BPF object to load (default: the driver's own, bpf/x0t_xdp.o). */
  readonly objectPath?: string;
  readonly eventsPerSecond?: number;
  /** When true, an UnsupportedError is thrown instead of falling back to the user-space driver. */
  readonly required?: boolean;
}

/** The status reason of a node whose manifest names no interface. */
export const NO_INTERFACE_REASON = 'no driver interface configured';

/**
 * The XDP driver module, loaded on first use: it loads koffi (a native addon) and through it libbpf, which a machine
 * without them (another CPU architecture, no libbpf.so.1) cannot, and that is a missing feature like any other.
 */
async function loadXdpModule(): Promise<typeof import('./xdp-driver.js')> {
  try {
    return await import('./xdp-driver.js');
  } catch (e) {
    throw new UnsupportedError(`the XDP driver cannot load here: ${(e as Error).message.split('\n')[0]}`, {
      feature: 'xdp-driver',
    }, { cause: e });
  }
}

export async function openPacketDriver(opts: OpenPacketDriverOptions = {}): Promise<PacketDriver> {
  const eventsPerSecond = opts.eventsPerSecond;
  const fallback = (reason: string): UserspaceDriver =>
    new UserspaceDriver({ reason, ...(eventsPerSecond !== undefined ? { eventsPerSecond } : {}) });
  if (opts.interface === undefined || opts.interface === null) {
    if (opts.required) throw new UnsupportedError(`the XDP driver is required but ${NO_INTERFACE_REASON}`, { feature: 'xdp-driver' });
    return fallback(NO_INTERFACE_REASON);
  }
  try {
    const xdp = await loadXdpModule();
    return await xdp.openXdpDriver({
      interface: opts.interface,
      ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
      ...(opts.pinRoot !== undefined ? { pinRoot: opts.pinRoot } : {}),
      ...(opts.objectPath !== undefined ? { objectPath: opts.objectPath } : {}),
      ...(eventsPerSecond !== undefined ? { eventsPerSecond } : {}),
    });
  } catch (e) {
    if (!(e instanceof UnsupportedError) || opts.required) throw e;
    return fallback(`XDP on ${opts.interface} is unavailable: ${e.message}`);
  }
}
