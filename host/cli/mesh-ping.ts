// x0t mesh ping FINGERPRINT [-c N] [-i MS] [-W MS] [-s BYTES]: echo requests through the mesh (forwarded hop by hop)
// from the node the admin API belongs to, one line per reply, then the loss and RTT summary. Exit 1 when no reply
// came back, like ping(8).
import type { Command } from 'commander';
import { UsageError } from '../errors/index.js';
import { isMeshAddress } from '../mesh/inner/mesh-address.js';
import type { PingResult } from '../node/mesh/ping-tracker.js';
import { meshRequest, withMeshAdmin, type MeshCommandOptions } from './mesh-admin.js';
import { formatMs, intOption, printJson, printLine } from './output.js';

interface PingOptions extends MeshCommandOptions {
  count: number;
  interval: number;
  timeout: number;
  size: number;
}

export function registerMeshPing(mesh: Command): void {
  withMeshAdmin(mesh.command('ping')
    .description('echo requests to another node through the mesh, forwarded hop by hop')
    .argument('<fingerprint>', 'the destination node\'s fingerprint (32 hex characters, see x0t mesh routes)')
    .option('-c, --count <n>', 'requests to send', intOption(1, 100_000), 4)
    .option('-i, --interval <ms>', 'milliseconds between requests', intOption(1, 60_000), 1000)
    .option('-W, --timeout <ms>', 'milliseconds to wait for each reply', intOption(1, 60_000), 1000)
    .option('-s, --size <bytes>', 'padding bytes per request', intOption(0, 8192), 0))
    .action(async (fingerprint: string, opts: PingOptions) => {
      const to = fingerprint.toLowerCase();
      if (!isMeshAddress(to)) throw new UsageError(`the destination must be a fingerprint of 32 hex characters, got ${JSON.stringify(fingerprint)}`, { path: 'fingerprint' });
      const r = await meshRequest(opts, '/ping', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to, count: opts.count, intervalMs: opts.interval, timeoutMs: opts.timeout, size: opts.size }),
      }) as PingResult;
      if (opts.json) {
        printJson(r);
      } else {
        for (const s of r.samples) printLine(s.rttMs === null ? `seq ${s.seq}: no reply${s.error ? ` (${s.error})` : ''}` : `seq ${s.seq}: reply in ${formatMs(s.rttMs)} ms`);
        const rtts = r.samples.flatMap((s) => (s.rttMs === null ? [] : [s.rttMs]));
        const loss = r.sent === 0 ? 0 : (100 * (r.sent - r.received)) / r.sent;
        const stats = rtts.length === 0 ? '' : `; rtt min/avg/max ${formatMs(Math.min(...rtts))}/${formatMs(rtts.reduce((a, b) => a + b, 0) / rtts.length)}/${formatMs(Math.max(...rtts))} ms`;
        printLine(`${r.sent} sent, ${r.received} received, ${loss.toFixed(0)}% loss${stats}`);
      }
      if (r.received === 0) process.exitCode = 1;
    });
}
