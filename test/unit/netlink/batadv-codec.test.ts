// Generic netlink and batman-adv messages. Round trips run through our encoders and decoders; the hand-written byte
// arrays are laid out from the UAPI by hand (nlmsghdr, genlmsghdr, the attribute numbers of linux/batman_adv.h and
// linux/genetlink.h, the sizes of the kernel's batman-adv netlink policy), so the decoder is checked against the
// documented layout and not only against its own encoder. Random and damaged bytes may only raise CodecError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BATADV_CMD, decodeGateway, decodeMeshInfo, decodeNeighbour, decodeOriginator, decodeRequest, encodeDumpTable, encodeGateway, encodeGetMesh,
  encodeMeshInfo, encodeNeighbour, encodeOriginator, encodeSetMesh, GW_MODES,
  type Gateway, type MeshInfo, type MeshSettings, type Neighbour, type Originator,
} from '../../../host/driver/netlink/batadv-codec.js';
import { formatMac } from '../../../host/driver/netlink/mac-address.js';
import { decodeFamily, decodeGeneric, encodeFamily, encodeGetFamily } from '../../../host/driver/netlink/genetlink-codec.js';
import { decodeMessages, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, type NetlinkMessage } from '../../../host/driver/netlink/netlink-message.js';
import { CodecError } from '../../../host/errors/index.js';
import { damaged, hex, onlyCodecError } from './codec-helpers.js';

const one = (bytes: Uint8Array): NetlinkMessage => {
  const ms = decodeMessages(bytes);
  assert.equal(ms.length, 1);
  return ms[0]!;
};
/** fast-check records have a null prototype; compare plain copies. */
const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const macA = fc.uint8Array({ minLength: 6, maxLength: 6 }).map(formatMac);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const text = fc.string({ maxLength: 20 }).filter((s) => !s.includes('\0'));
const env = fc.record({ family: fc.integer({ min: 0x11, max: 0xffff }), seq: u32, pid: u32 });
const settings: fc.Arbitrary<MeshSettings> = fc.record({
  aggregatedOgms: fc.boolean(), apIsolation: fc.boolean(), isolationMark: u32, isolationMask: u32, bonding: fc.boolean(),
  bridgeLoopAvoidance: fc.boolean(), distributedArpTable: fc.boolean(), fragmentation: fc.boolean(), gwBandwidthDown: u32,
  gwBandwidthUp: u32, gwMode: fc.constantFrom(...GW_MODES), gwSelClass: u32, hopPenalty: fc.integer({ min: 0, max: 255 }), logLevel: u32,
  multicastForceflood: fc.boolean(), networkCoding: fc.boolean(), origInterval: u32, multicastFanout: u32,
}, { requiredKeys: [] });
const meshInfo: fc.Arbitrary<MeshInfo> = fc.record({
  version: text, algorithm: text, meshIfindex: fc.integer({ min: 1, max: 0x7fffffff }), meshIfname: text, meshAddress: macA,
  hardIfindex: fc.option(u32), hardIfname: fc.option(text), hardAddress: fc.option(macA), settings,
});
const originator: fc.Arbitrary<Originator> = fc.record({
  originator: macA, neighbour: macA, hardIfindex: u32, lastSeenMs: u32, tq: fc.option(fc.integer({ min: 0, max: 255 })), throughput: fc.option(u32), best: fc.boolean(),
});
const neighbour: fc.Arbitrary<Neighbour> = fc.record({ neighbour: macA, hardIfindex: u32, lastSeenMs: u32, throughput: fc.option(u32) });
const gateway: fc.Arbitrary<Gateway> = fc.record({
  originator: macA, router: macA, hardIfname: fc.option(text), bandwidthDown: fc.option(u32), bandwidthUp: fc.option(u32),
  tq: fc.option(fc.integer({ min: 0, max: 255 })), throughput: fc.option(u32), best: fc.boolean(),
});

describe('generic netlink controller messages', () => {
  it('encodes CTRL_CMD_GETFAMILY as the UAPI lays it out', () => {
    // len 32 | GENL_ID_CTRL | REQUEST | seq 9 | pid 0 | cmd 3 version 1 | CTRL_ATTR_FAMILY_NAME "batadv\0" (len 11, 1 pad)
    assert.deepEqual(encodeGetFamily('batadv', 9), hex('20000000 1000 0100 09000000 00000000 | 03 01 0000 | 0b00 0200 62617461647600 00'));
  });

  it('decodes a hand-written CTRL_CMD_NEWFAMILY reply, skipping attributes it does not need', () => {
    const bytes = hex(`
      40000000 1000 0000 09000000 39300000
      01 02 0000
      0b00 0200 62617461647600 00
      0600 0100 1c00 0000
      0800 0300 01000000
      1000 0780 0c00 0100 0800 0200 05000000`); // family "batadv" id 0x1c version 1; MCAST_GROUPS (nested) ignored
    assert.deepEqual(decodeFamily(decodeGeneric(one(bytes))), { id: 0x1c, name: 'batadv', version: 1 });
  });

  it('round-trips family descriptions', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), text, u32, u32, (id, name, version, seq) => {
      assert.deepEqual(decodeFamily(decodeGeneric(one(encodeFamily({ id, name, version }, seq, 1)))), { id, name, version });
    }));
  });
});

describe('batman-adv requests', () => {
  it('encodes GET_MESH, a dump and SET_MESH as the UAPI lays them out', () => {
    // len 28 | family 0x1c | REQUEST | seq 1 | pid 0 | BATADV_CMD_GET_MESH (1) version 1 | MESH_IFINDEX (3) = 7
    assert.deepEqual(encodeGetMesh(0x1c, 7, 1), hex('1c000000 1c00 0100 01000000 00000000 | 01 01 0000 | 0800 0300 07000000'));
    // the originator dump: REQUEST|DUMP (0x301), BATADV_CMD_GET_ORIGINATORS (8)
    assert.deepEqual(encodeDumpTable(0x1c, 'originators', 7, 2), hex('1c000000 1c00 0103 02000000 00000000 | 08 01 0000 | 0800 0300 07000000'));
    // SET_MESH (15) with ACK: orig_interval (57) u32 2000, gw_mode (51) u8 server (2)
    assert.deepEqual(
      encodeSetMesh(0x1c, 7, { gwMode: 'server', origInterval: 2000 }, 3),
      hex('2c000000 1c00 0500 03000000 00000000 | 0f 01 0000 | 0800 0300 07000000 | 0500 3300 02 000000 | 0800 3900 d0070000'),
    );
  });

  it('round-trip: every request decodes to what was asked', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 0x7fffffff }), settings, u32, (ifindex, s, seq) => {
      const set = one(encodeSetMesh(0x20, ifindex, s, seq));
      assert.equal(set.flags, NLM_F_REQUEST | NLM_F_ACK);
      assert.deepEqual(plain(decodeRequest(set)), plain({ cmd: BATADV_CMD.SET_MESH, meshIfindex: ifindex, dump: false, settings: s }));
      for (const table of ['originators', 'neighbours', 'gateways'] as const) {
        const r = decodeRequest(one(encodeDumpTable(0x20, table, ifindex, seq)));
        assert.equal(r.dump, true);
        assert.equal(r.meshIfindex, ifindex);
      }
      assert.equal(one(encodeGetMesh(0x20, ifindex, seq)).flags & NLM_F_DUMP, 0);
    }));
  });

  it('refuses settings it cannot encode', () => {
    assert.throws(() => encodeSetMesh(0x1c, 7, { gwMode: 'relay' as never }, 1), CodecError);
    assert.throws(() => encodeSetMesh(0x1c, 7, { hopPenalty: 256 }, 1), CodecError);
    assert.throws(() => encodeGetMesh(0x1c, 0, 1), CodecError);
  });
});

describe('batman-adv replies', () => {
  it('decode a hand-written GET_MESH reply', () => {
    const bytes = hex(`
      84000000 1c00 0000 01000000 d2040000
      01 01 0000
      0600 0100 7600 0000
      0e00 0200 4241544d414e5f495600 0000
      0800 0300 05000000
      0900 0400 6261743000 000000
      0a00 0500 020000000005 0000
      0500 1100 03 000000
      0500 2900 01 000000
      0500 3300 02 000000
      0500 3500 0f 000000
      0800 3900 e8030000
      0800 3100 64000000
      0800 3200 14000000`);
    // VERSION "v", ALGO_NAME "BATMAN_IV", MESH_IFINDEX 5, MESH_IFNAME "bat0", MESH_ADDRESS 02:00:00:00:00:05,
    // TT_TTVN 3 (not a setting: ignored), aggregated OGMs on, gw_mode server, hop penalty 15, orig_interval 1000 ms,
    // gw bandwidth down 100 / up 20
    assert.deepEqual(decodeMeshInfo(one(bytes)), {
      version: 'v', algorithm: 'BATMAN_IV', meshIfindex: 5, meshIfname: 'bat0', meshAddress: '02:00:00:00:00:05',
      hardIfindex: null, hardIfname: null, hardAddress: null,
      settings: { aggregatedOgms: true, gwBandwidthDown: 100, gwBandwidthUp: 20, gwMode: 'server', hopPenalty: 15, origInterval: 1000 },
    });
  });

  it('decode a hand-written originator (B.A.T.M.A.N. IV) and neighbour (B.A.T.M.A.N. V) entry', () => {
    const orig = hex(`
      48000000 1c00 0200 05000000 d2040000
      08 01 0000
      0a00 0900 020000000001 0000
      0a00 1800 020000000002 0000
      0800 0600 03000000
      0800 1700 e8030000
      0500 1900 ff 000000
      0400 1600`);
    assert.deepEqual(decodeOriginator(one(orig)), {
      originator: '02:00:00:00:00:01', neighbour: '02:00:00:00:00:02', hardIfindex: 3, lastSeenMs: 1000, tq: 255, throughput: null, best: true,
    });
    const neigh = hex(`
      38000000 1c00 0200 05000000 d2040000
      09 01 0000
      0a00 1800 020000000002 0000
      0800 0600 03000000
      0800 1700 64000000
      0800 1a00 10270000`);
    assert.deepEqual(decodeNeighbour(one(neigh)), { neighbour: '02:00:00:00:00:02', hardIfindex: 3, lastSeenMs: 100, throughput: 10000 });
  });

  it('decode a hand-written gateway entry', () => {
    const bytes = hex(`
      50000000 1c00 0200 06000000 d2040000
      0a 01 0000
      0a00 0900 020000000009 0000
      0a00 1d00 020000000002 0000
      0900 0700 6574683000 000000
      0800 1c00 64000000
      0800 1b00 14000000
      0500 1900 c8 000000`);
    assert.deepEqual(decodeGateway(one(bytes)), {
      originator: '02:00:00:00:00:09', router: '02:00:00:00:00:02', hardIfname: 'eth0', bandwidthDown: 100, bandwidthUp: 20, tq: 200, throughput: null, best: false,
    });
  });

  it('refuse replies to another command or without required attributes', () => {
    const orig = encodeOriginator({ originator: '02:00:00:00:00:01', neighbour: '02:00:00:00:00:02', hardIfindex: 1, lastSeenMs: 0, tq: 1, throughput: null, best: false }, { family: 0x1c, seq: 1, pid: 1 });
    assert.throws(() => decodeGateway(one(orig)), CodecError);
    assert.throws(() => decodeNeighbour(one(hex('1c000000 1c00 0200 01000000 00000000 | 09 01 0000 | 0800 0600 03000000'))), CodecError);
    // a MAC attribute of the wrong size
    assert.throws(() => decodeNeighbour(one(hex('2c000000 1c00 0200 01000000 00000000 | 09 01 0000 | 0900 1800 0200000000 000000 | 0800 0600 03000000 | 0800 1700 00000000'))), CodecError);
  });

  it('round-trip through our encoders', () => {
    fc.assert(fc.property(meshInfo, env, (m, e) => assert.deepEqual(plain(decodeMeshInfo(one(encodeMeshInfo(m, e)))), plain(m))));
    fc.assert(fc.property(originator, env, (o, e) => assert.deepEqual(decodeOriginator(one(encodeOriginator(o, e))), { ...o })));
    fc.assert(fc.property(neighbour, env, (n, e) => assert.deepEqual(decodeNeighbour(one(encodeNeighbour(n, e))), { ...n })));
    fc.assert(fc.property(gateway, env, (g, e) => assert.deepEqual(decodeGateway(one(encodeGateway(g, e))), { ...g })));
  });

  it('random and damaged bytes raise CodecError only', () => {
    const decoders = [decodeMeshInfo, decodeOriginator, decodeNeighbour, decodeGateway, decodeRequest, (m: NetlinkMessage) => decodeFamily(decodeGeneric(m))];
    const all = (b: Uint8Array) => onlyCodecError(() => {
      for (const m of decodeMessages(b)) for (const d of decoders) onlyCodecError(() => d(m));
    });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (body) => {
      const b = new Uint8Array(16 + body.byteLength);
      new DataView(b.buffer).setUint32(0, b.byteLength, true);
      b.set(body, 16);
      all(b);
    }));
    const valid = fc.oneof(
      fc.tuple(meshInfo, env).map(([m, e]) => encodeMeshInfo(m, e)),
      fc.tuple(originator, env).map(([o, e]) => encodeOriginator(o, e)),
      fc.tuple(gateway, env).map(([g, e]) => encodeGateway(g, e)),
      fc.tuple(neighbour, env).map(([n, e]) => encodeNeighbour(n, e)),
    );
    fc.assert(fc.property(valid, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (bytes, cut, at, v) => {
      for (const b of damaged(bytes, cut, at, v)) all(b);
    }));
  });
});
