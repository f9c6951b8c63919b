// x0t driver quarantine add <addr> | del <addr> | ls [--json]: the addresses whose packets a running node's driver
// drops (in the kernel with XDP; refused by the node's transport with the user-space driver).
import type { Command } from 'commander';
import type { QuarantineEntry } from '../node/node-driver.js';
import { driverRequest, withAdmin, type DriverCommandOptions } from './driver-admin.js';
import { printJson, printLine, table } from './output.js';

export function registerDriverQuarantine(driver: Command): void {
  const quarantine = driver.command('quarantine').description('drop, release and list quarantined peer addresses');

  withAdmin(quarantine
    .command('add')
    .description('quarantine an address: its packets are dropped from now on (idempotent)')
    .argument('<address>', 'IPv4 or IPv6 address'))
    .action(async (address: string, opts: DriverCommandOptions) => {
      const body = await driverRequest(opts, '/quarantine', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ address }),
      }) as { entry: QuarantineEntry; added: boolean };
      if (opts.json) printJson(body);
      else printLine(body.added ? `quarantined ${body.entry.address}` : `${body.entry.address} was already quarantined (${body.entry.drops} drops)`);
    });

  withAdmin(quarantine
    .command('del')
    .alias('rm')
    .description('release a quarantined address (exit 2 when it is not quarantined)')
    .argument('<address>', 'IPv4 or IPv6 address'))
    .action(async (address: string, opts: DriverCommandOptions) => {
      const body = await driverRequest(opts, `/quarantine/${encodeURIComponent(address)}`, { method: 'DELETE' }) as {
        address: string; removed: boolean;
      };
      if (opts.json) printJson(body);
      else printLine(`released ${body.address}`);
    });

  withAdmin(quarantine
    .command('ls')
    .description('the quarantined addresses and the packets dropped from each'))
    .action(async (opts: DriverCommandOptions) => {
      const body = await driverRequest(opts, '/quarantine') as { quarantine: QuarantineEntry[] };
      if (opts.json) {
        printJson(body);
        return;
      }
      if (body.quarantine.length === 0) {
        printLine('no address is quarantined');
        return;
      }
      printLine(table(['ADDRESS', 'FAMILY', 'DROPS'], body.quarantine.map((q) => [q.address, `IPv${q.family}`, String(q.drops)])));
    });
}
