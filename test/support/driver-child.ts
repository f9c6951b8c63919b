// A process that holds an XDP driver inside a network namespace for the driver tests (the ifindex must be the
// namespace's, so the driver cannot run in the test process itself):
//
//   ip netns exec NS node dist/test/support/driver-child.js --interface DEV --pin-root DIR [--mode auto|native|generic]
//                                                           [--object PATH --sha256 HEX] [--events-per-sec N]
//
// stdout, one JSON object per line: {"type":"ready","status":…} once open (or {"type":"error","error":…} and exit 1),
// {"type":"event","event":…} for every driver event (atNs as a decimal string), and one {"type":"reply","id":…,
// "ok":true,"result":…} or {"ok":false,"error":…} per command. Commands on stdin, one JSON object per line:
// {"id":N,"cmd":"peers"|"status"|"quarantine-add"|"quarantine-del"|"quarantine-ls"|"events"|"close","address"?}.
// After "close" the child answers and exits 0.
import { createInterface } from 'node:readline';
import { asX0tError } from '../../host/errors/index.js';
import type { DriverEvent } from '../../host/driver/packet-driver.js';
import { openXdpDriver, type XdpAttachMode, type XdpPacketDriver } from '../../host/driver/xdp-driver.js';

export interface DriverChildCommand {
  readonly id: number;
  readonly cmd: 'peers' | 'status' | 'quarantine-add' | 'quarantine-del' | 'quarantine-ls' | 'events' | 'close';
  readonly address?: string;
}

/** A DriverEvent as it crosses the pipe (bigint as a decimal string). */
export type WireDriverEvent = Omit<DriverEvent, 'atNs'> & { readonly atNs: string };

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function emit(line: unknown): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const wire = (e: DriverEvent): WireDriverEvent => ({ ...e, atNs: e.atNs.toString() });

async function main(): Promise<void> {
  const iface = option('--interface');
  if (!iface) throw new Error('driver-child: --interface is required');
  const objectPath = option('--object');
  const sha256 = option('--sha256');
  const pinRoot = option('--pin-root');
  const eventsPerSec = option('--events-per-sec');
  let driver: XdpPacketDriver;
  try {
    driver = await openXdpDriver({
      interface: iface,
      mode: (option('--mode') ?? 'auto') as XdpAttachMode,
      ...(pinRoot !== undefined ? { pinRoot } : {}),
      ...(objectPath !== undefined ? { objectPath } : {}),
      ...(sha256 !== undefined ? { expectedSha256: sha256 } : {}),
      ...(eventsPerSec !== undefined ? { eventsPerSecond: Number(eventsPerSec) } : {}),
    });
  } catch (e) {
    emit({ type: 'error', error: asX0tError(e).toJSON() });
    process.exitCode = 1;
    return;
  }
  const events: WireDriverEvent[] = [];
  driver.onEvent((e) => {
    const w = wire(e);
    events.push(w);
    emit({ type: 'event', event: w });
  });
  emit({ type: 'ready', status: driver.status() });

  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const c = JSON.parse(line) as DriverChildCommand;
    try {
      let result: unknown;
      switch (c.cmd) {
        case 'peers': result = driver.peers(); break;
        case 'status': result = driver.status(); break;
        case 'quarantine-add': driver.quarantineAdd(c.address ?? ''); result = null; break;
        case 'quarantine-del': result = driver.quarantineDelete(c.address ?? ''); break;
        case 'quarantine-ls': result = driver.quarantineList(); break;
        case 'events': result = events; break;
        case 'close': await driver.close(); result = driver.status(); break;
        default: throw new Error(`unknown command ${String((c as { cmd: unknown }).cmd)}`);
      }
      emit({ type: 'reply', id: c.id, ok: true, result });
    } catch (e) {
      emit({ type: 'reply', id: c.id, ok: false, error: asX0tError(e).toJSON() });
    }
    if (c.cmd === 'close') break;
  }
  lines.close();
  await driver.close();
}

await main();
