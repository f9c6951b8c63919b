// x0t driver peers [--admin URL] [--json]: the per-peer packet and byte counters of a running node's driver.
import type { Command } from 'commander';
import type { PeerCounters } from '../node/node-driver.js';
import { driverRequest, withAdmin, type DriverCommandOptions } from './driver-admin.js';
import { printJson, printLine, table } from './output.js';

export function registerDriverPeers(driver: Command): void {
  withAdmin(driver
    .command('peers')
    .description('packets and bytes received from each peer address, and whether it is quarantined'))
    .action(async (opts: DriverCommandOptions) => {
      const body = await driverRequest(opts, '/peers') as { peers: PeerCounters[] };
      if (opts.json) {
        printJson(body);
        return;
      }
      if (body.peers.length === 0) {
        printLine('no peers counted yet');
        return;
      }
      printLine(table(
        ['ADDRESS', 'FAMILY', 'PACKETS', 'BYTES', 'QUARANTINED'],
        body.peers.map((p) => [p.address, `IPv${p.family}`, String(p.packets), String(p.bytes), p.quarantined ? 'yes' : 'no']),
      ));
    });
}
