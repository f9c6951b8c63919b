// Ethernet frames for BPF_PROG_TEST_RUN (bpftool prog run data_in): what the XDP program parses, built field by
// field so the expected parse result is known. Checksums are left zero: the program does not read them.
import { ipv4Key, ipv6Key } from './bpftool-object.js';

const ETH_HEADER = 14;
const VLAN_TAG = 4;
const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const UDP_HEADER = 8;

function ethernet(etherType: number, vlanId: number | undefined, payloadLength: number): { frame: Buffer; l3: number } {
  const l3 = ETH_HEADER + (vlanId === undefined ? 0 : VLAN_TAG);
  const frame = Buffer.alloc(l3 + payloadLength);
  frame.set([0x02, 0, 0, 0, 0, 0x02], 0); // destination (locally administered)
  frame.set([0x02, 0, 0, 0, 0, 0x01], 6); // source
  if (vlanId === undefined) frame.writeUInt16BE(etherType, 12);
  else {
    frame.writeUInt16BE(0x8100, 12);
    frame.writeUInt16BE(vlanId & 0x0fff, 14);
    frame.writeUInt16BE(etherType, 16);
  }
  return { frame, l3 };
}

/** Ethernet [+ 802.1Q] + IPv4 + UDP with `payload` bytes: 14 [+4] + 20 + 8 + payload bytes long. */
export function udp4Frame(src: string, dst: string, payload: number, vlanId?: number): Buffer {
  const { frame, l3 } = ethernet(0x0800, vlanId, IPV4_HEADER + UDP_HEADER + payload);
  frame[l3] = 0x45;
  frame.writeUInt16BE(IPV4_HEADER + UDP_HEADER + payload, l3 + 2);
  frame[l3 + 8] = 64; // TTL
  frame[l3 + 9] = 17; // UDP
  ipv4Key(src).copy(frame, l3 + 12);
  ipv4Key(dst).copy(frame, l3 + 16);
  const udp = l3 + IPV4_HEADER;
  frame.writeUInt16BE(40000, udp);
  frame.writeUInt16BE(9, udp + 2);
  frame.writeUInt16BE(UDP_HEADER + payload, udp + 4);
  return frame;
}

/** Ethernet [+ 802.1Q] + IPv6 + UDP with `payload` bytes: 14 [+4] + 40 + 8 + payload bytes long. */
export function udp6Frame(src: string, dst: string, payload: number, vlanId?: number): Buffer {
  const { frame, l3 } = ethernet(0x86dd, vlanId, IPV6_HEADER + UDP_HEADER + payload);
  frame.writeUInt32BE(0x60000000, l3);
  frame.writeUInt16BE(UDP_HEADER + payload, l3 + 4);
  frame[l3 + 6] = 17; // next header UDP
  frame[l3 + 7] = 64; // hop limit
  ipv6Key(src).copy(frame, l3 + 8);
  ipv6Key(dst).copy(frame, l3 + 24);
  const udp = l3 + IPV6_HEADER;
  frame.writeUInt16BE(40000, udp);
  frame.writeUInt16BE(9, udp + 2);
  frame.writeUInt16BE(UDP_HEADER + payload, udp + 4);
  return frame;
}

/** An ARP request (who-has `target` tell `sender`): 14 + 28 bytes, not IP. */
export function arpFrame(sender: string, target: string): Buffer {
  const { frame, l3 } = ethernet(0x0806, undefined, 28);
  frame.writeUInt16BE(1, l3); // hardware type Ethernet
  frame.writeUInt16BE(0x0800, l3 + 2);
  frame[l3 + 4] = 6;
  frame[l3 + 5] = 4;
  frame.writeUInt16BE(1, l3 + 6); // request
  frame.set([0x02, 0, 0, 0, 0, 0x01], l3 + 8);
  ipv4Key(sender).copy(frame, l3 + 14);
  ipv4Key(target).copy(frame, l3 + 24);
  return frame;
}
