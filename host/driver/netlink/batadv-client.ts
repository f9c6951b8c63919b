// The batman-adv client: resolves the "batadv" generic netlink family and reads and changes a mesh interface's
// settings and tables. Where the kernel has no batman-adv, opening fails with UnsupportedError from the real
// family lookup.
import { DriverError, UnsupportedError } from '../../errors/index.js';
import {
  BATADV_FAMILY_NAME, decodeGateway, decodeMeshInfo, decodeNeighbour, decodeOriginator, encodeDumpTable, encodeGetMesh, encodeSetMesh,
  type Gateway, type MeshInfo, type MeshSettings, type Neighbour, type Originator,
} from './batadv-codec.js';
import { GenericNetlink } from './generic-netlink.js';
import type { GenericFamily } from './genetlink-codec.js';

export interface BatadvClient {
  /** The family as the kernel registered it (its id is the message type of every request). */
  readonly family: GenericFamily;
  /** Mesh information and settings of the batman-adv interface `meshIfindex` (BATADV_CMD_GET_MESH). */
  meshInfo(meshIfindex: number): Promise<MeshInfo>;
  /** Changes the given settings (BATADV_CMD_SET_MESH, acknowledged); keys left out stay as they are. */
  setMesh(meshIfindex: number, settings: MeshSettings): Promise<void>;
  originators(meshIfindex: number): Promise<Originator[]>;
  neighbours(meshIfindex: number): Promise<Neighbour[]>;
  gateways(meshIfindex: number): Promise<Gateway[]>;
  close(): void;
}

/**
 * Opens the client. Rejects with UnsupportedError("batman-adv is not available in this kernel") — details
 * {call: 'CTRL_CMD_GETFAMILY', errno: 2, family: 'batadv'} — when the family lookup finds no batman-adv.
 */
export async function openBatadv(opts: { readonly timeoutMs?: number } = {}): Promise<BatadvClient> {
  const nl = GenericNetlink.open(opts.timeoutMs);
  let family: GenericFamily;
  try {
    family = await nl.resolveFamily(BATADV_FAMILY_NAME);
  } catch (e) {
    nl.close();
    if (e instanceof UnsupportedError) throw new UnsupportedError('batman-adv is not available in this kernel', e.details, { cause: e });
    throw e;
  }
  const id = family.id;
  return {
    family,
    async meshInfo(meshIfindex) {
      const seq = nl.nextSeq();
      const [reply] = await nl.request('BATADV_CMD_GET_MESH', encodeGetMesh(id, meshIfindex, seq), seq, 'reply');
      if (reply === undefined) throw new DriverError('batman-adv sent no mesh information', { call: 'BATADV_CMD_GET_MESH', errno: 0 });
      return decodeMeshInfo(reply);
    },
    async setMesh(meshIfindex, settings) {
      const seq = nl.nextSeq();
      await nl.request('BATADV_CMD_SET_MESH', encodeSetMesh(id, meshIfindex, settings, seq), seq, 'ack');
    },
    async originators(meshIfindex) {
      const seq = nl.nextSeq();
      return (await nl.request('BATADV_CMD_GET_ORIGINATORS', encodeDumpTable(id, 'originators', meshIfindex, seq), seq, 'dump')).map(decodeOriginator);
    },
    async neighbours(meshIfindex) {
      const seq = nl.nextSeq();
      return (await nl.request('BATADV_CMD_GET_NEIGHBORS', encodeDumpTable(id, 'neighbours', meshIfindex, seq), seq, 'dump')).map(decodeNeighbour);
    },
    async gateways(meshIfindex) {
      const seq = nl.nextSeq();
      return (await nl.request('BATADV_CMD_GET_GATEWAYS', encodeDumpTable(id, 'gateways', meshIfindex, seq), seq, 'dump')).map(decodeGateway);
    },
    close: () => nl.close(),
  };
}

