// A federated round staged in an aggregator's memory: the AggregateRequest frame ("AGR1") laid out in a staged-input
// lease, with typed windows for the weights and each client's update row, so a coordinator can copy every update
// from its network buffer straight to where the plugin will read it, then aggregate in place.
import { byteLengthAggregateRequest, FRAME_MAGIC } from '../../sdk/abi/generated/contract.js';
import { CodecError, UsageError } from '../errors/index.js';
import type { Slot } from './slot.js';
import type { StagedCallPath, StagedInput } from './staged-input.js';

/** Where the sections of an AggregateRequest frame of `clients` × `dim` lie (the codec's layout). */
function aggregateRequestLayout(clients: number, dim: number): { weightsAt: number; updatesAt: number; byteLength: number } {
  for (const [name, v] of [['clients', clients], ['dim', dim]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new CodecError(`AggregateRequest.${name} must be a u32, got ${v}`, { field: name });
  }
  const byteLength = byteLengthAggregateRequest(clients, dim);
  const updatesAt = byteLength - Math.ceil((clients * dim * 4) / 8) * 8;
  return { weightsAt: 16, updatesAt, byteLength };
}

export class StagedRound {
  readonly clients: number;
  readonly dim: number;
  readonly #lease: StagedInput;
  readonly #weights: Float32Array;
  readonly #updates: Float32Array;

  private constructor(lease: StagedInput, clients: number, dim: number) {
    this.#lease = lease;
    this.clients = clients;
    this.dim = dim;
    const layout = aggregateRequestLayout(clients, dim);
    const bytes = lease.bytes;
    if (bytes.byteOffset % 4 !== 0) throw new CodecError('staged input is not 4-byte aligned', { offset: bytes.byteOffset });
    const dv = new DataView(bytes.buffer, bytes.byteOffset, layout.byteLength);
    dv.setUint32(0, FRAME_MAGIC.AggregateRequest, true);
    dv.setUint32(4, clients, true);
    dv.setUint32(8, dim, true);
    dv.setUint32(12, 0, true);
    this.#weights = new Float32Array(bytes.buffer, bytes.byteOffset + layout.weightsAt, clients);
    this.#updates = new Float32Array(bytes.buffer, bytes.byteOffset + layout.updatesAt, clients * dim);
    // Padding after the sections is part of the frame: keep it deterministic.
    bytes.fill(0, layout.weightsAt + clients * 4, layout.updatesAt);
    bytes.fill(0, layout.updatesAt + clients * dim * 4, layout.byteLength);
  }

  /** Leases room for a round of `clients` × `dim` in `slot`'s aggregator and writes the frame header. */
  static async open(slot: Slot, clients: number, dim: number): Promise<StagedRound> {
    const layout = aggregateRequestLayout(clients, dim);
    const lease = await slot.stage(layout.byteLength);
    try {
      return new StagedRound(lease, clients, dim);
    } catch (e) {
      await lease.release();
      throw e;
    }
  }

  /** Client weights (write one per client). Valid until `aggregate` or `release`. */
  get weights(): Float32Array {
    this.#checkOpen();
    return this.#weights;
  }

  /** Client `c`'s update row of `dim` floats (write it in place). Valid until `aggregate` or `release`. */
  row(c: number): Float32Array {
    this.#checkOpen();
    if (!Number.isInteger(c) || c < 0 || c >= this.clients) {
      throw new UsageError(`client ${c} is outside this round of ${this.clients}`, { client: c, clients: this.clients });
    }
    return this.#updates.subarray(c * this.dim, (c + 1) * this.dim);
  }

  /** How the aggregate call ran (null before it). */
  get path(): StagedCallPath | null {
    return this.#lease.path;
  }

  /** Runs `aggregate` on the staged frame (single use; releases the lease). Resolves with the F32Vector output frame. */
  aggregate(into?: Uint8Array): Promise<Uint8Array> {
    return this.#lease.call('aggregate', into);
  }

  release(): Promise<void> {
    return this.#lease.release();
  }

  #checkOpen(): void {
    if (!this.#lease.open) throw new UsageError('staged round was already aggregated or released');
  }
}
