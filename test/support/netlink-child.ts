// Runs inside a test's network namespace: opens the link watcher and reports on stdout, one JSON object per line,
// every event (with the CLOCK_MONOTONIC time the worker read it and the time the listener ran). Commands arrive
// as JSON lines on stdin: `ip` runs an `ip` command from here, noting the monotonic time just before it starts, so
// the test can measure command → event latency on one clock; `state` reports links() / addresses(); `close` closes
// the watcher and exits. `state` also reports the process's CPU time (all threads), to show the watcher idles.
import { execFile } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { isX0tError } from '../../host/errors/index.js';
import { openLinkWatcher } from '../../host/driver/netlink/index.js';

const run = promisify(execFile);
const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))}\n`);

type Command =
  | { readonly id: number; readonly op: 'ip'; readonly argv: readonly string[] }
  | { readonly id: number; readonly op: 'state' }
  | { readonly id: number; readonly op: 'close' };

// `--rcvbuf N` shrinks the socket's receive buffer so a test can make the kernel drop messages.
const rcvbufArg = process.argv.indexOf('--rcvbuf');
const receiveBufferBytes = rcvbufArg >= 0 ? Number(process.argv[rcvbufArg + 1]) : undefined;
const t0 = process.hrtime.bigint();
let watcher;
try {
  watcher = await openLinkWatcher(receiveBufferBytes === undefined ? {} : { receiveBufferBytes });
} catch (e) {
  out({ t: 'error', ...(isX0tError(e) ? e.toJSON() : { code: 'UNKNOWN', message: String(e), details: {} }) });
  process.exit(1);
}
const w = watcher;
w.on((event) => out({ t: 'event', ...event, deliveredNs: process.hrtime.bigint() }));
w.onError((e) => out({ t: 'error', ...e.toJSON() }));
out({ t: 'ready', openMs: Number(process.hrtime.bigint() - t0) / 1e6, links: w.links(), addresses: w.addresses() });

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === '') continue;
  const c = JSON.parse(line) as Command;
  if (c.op === 'ip') {
    const startNs = process.hrtime.bigint();
    run('ip', [...c.argv]).then(
      () => out({ t: 'ran', id: c.id, ok: true, startNs, endNs: process.hrtime.bigint() }),
      (e: Error) => out({ t: 'ran', id: c.id, ok: false, error: e.message, startNs }),
    );
  } else if (c.op === 'state') {
    out({ t: 'state', id: c.id, links: w.links(), addresses: w.addresses(), stats: w.stats(), cpu: process.cpuUsage() });
  } else {
    const s = process.hrtime.bigint();
    await w.close();
    out({ t: 'closed', id: c.id, closeMs: Number(process.hrtime.bigint() - s) / 1e6 });
    process.exit(0);
  }
}
// stdin closed: the test is gone.
await w.close();
