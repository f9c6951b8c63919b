// Sends an exact number of UDP datagrams; run inside a namespace by the bpf tests and the driver benchmark:
//   node dist/test/integration/bpf/udp-sender.js --to ADDR [--port 9] [--count N] [--size BYTES] [--from ADDR]...
// With several --from addresses each sends --count datagrams from its own socket (new peers for the XDP program).
// Every send is awaited in batches of --window, so the sender never outruns its socket buffer (no ENOBUFS, no
// silent local loss) and the count leaving the interface is exactly the count asked for. Prints one JSON line
// {"sent": N, "ms": elapsed}.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

function option(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`udp-sender: ${name} is required`);
  return v;
}

const to = option('--to');
const port = Number(option('--port', '9'));
const count = Number(option('--count', '1'));
const size = Number(option('--size', '64'));
const windowSize = Number(option('--window', '64'));
const froms = process.argv.flatMap((a, i) => (a === '--from' && process.argv[i + 1] !== undefined ? [process.argv[i + 1]!] : []));
const type = isIPv6(to) ? 'udp6' : 'udp4';
const payload = Buffer.alloc(size, 0x78);

async function open(from: string | undefined): Promise<Socket> {
  const s = createSocket(type);
  await new Promise<void>((res, rej) => {
    s.once('error', rej);
    s.bind(from === undefined ? {} : { address: from }, () => res());
  });
  return s;
}

function send(s: Socket): Promise<void> {
  return new Promise((res, rej) => s.send(payload, port, to, (e) => (e ? rej(e) : res())));
}

const started = process.hrtime.bigint();
let sent = 0;
for (const from of froms.length > 0 ? froms : [undefined]) {
  const s = await open(from);
  for (let done = 0; done < count; ) {
    const n = Math.min(windowSize, count - done);
    await Promise.all(Array.from({ length: n }, () => send(s)));
    done += n;
    sent += n;
  }
  s.close();
}
process.stdout.write(`${JSON.stringify({ sent, ms: Number(process.hrtime.bigint() - started) / 1e6 })}\n`);
