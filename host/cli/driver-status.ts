// x0t driver status [--admin URL] [--json]: which packet driver the node runs, its links (rtnetlink) and whether
// batman-adv is there. The user-space fallback, and a node without link events, are stated as such with the reason,
// so a node without XDP or netlink is never mistaken for one with it.
import type { Command } from 'commander';
import type { DriverReport, DriverStatus, PeerCounters, QuarantineEntry } from '../node/node-driver.js';
import { driverRequest, withAdmin, type DriverCommandOptions } from './driver-admin.js';
import { linksTable } from './driver-links.js';
import { printJson, printLine } from './output.js';

/** One line: the mode, where it runs, and for anything short of native XDP, why. */
export function describeDriver(s: DriverStatus): string {
  if (s.mode === 'userspace') {
    return `driver: userspace fallback, the XDP program is not running: ${s.reason ?? 'no reason given'}`;
  }
  const where = `${s.mode} on ${s.interface ?? '?'}${s.ifindex === null ? '' : ` (ifindex ${s.ifindex})`}`;
  return s.reason === null ? `driver: ${where}` : `driver: ${where}; ${s.reason}`;
}

export function registerDriverStatus(driver: Command): void {
  withAdmin(driver
    .command('status')
    .description('the packet driver a running node uses (XDP native or generic, or the user-space fallback and why), its links and batman-adv'))
    .action(async (opts: DriverCommandOptions) => {
      const status = await driverRequest(opts, '') as DriverReport;
      if (opts.json) {
        printJson(status);
        return;
      }
      const { peers } = await driverRequest(opts, '/peers') as { peers: PeerCounters[] };
      const { quarantine } = await driverRequest(opts, '/quarantine') as { quarantine: QuarantineEntry[] };
      // The XDP driver adds the ring-buffer reader's failure to its status: events stop arriving, counters do not.
      const readerError = (status as DriverStatus & { eventReaderError?: { code: string; message: string } | null }).eventReaderError ?? null;
      const rows: [string, string][] = [
        ['mode', status.mode === 'userspace' ? 'userspace (fallback: counts only what the node\'s own transport hands it)' : status.mode],
        ['reason', status.reason ?? '-'],
        ['interface', status.interface === null ? '-' : `${status.interface}${status.ifindex === null ? '' : ` (ifindex ${status.ifindex})`}`],
        ['program', status.programId === null ? '-' : `id ${status.programId}${status.pinDir === null ? '' : `, pinned under ${status.pinDir}`}`],
        ['object', status.objectSha256 === null ? '-' : `sha256 ${status.objectSha256}`],
        ['events', `${status.eventsDelivered} delivered, ${status.eventsSuppressed} suppressed` +
          (readerError === null ? '' : `; the event reader stopped: ${readerError.code}: ${readerError.message}`)],
        ['peers', `${peers.length} seen` + (status.peerTableFull > 0
          ? `; the peer table is full: ${status.peerTableFull} packet(s) from new sources not counted` : '')],
        ['quarantine', `${quarantine.length} address${quarantine.length === 1 ? '' : 'es'}`],
        ['links', status.links === null
          ? `not watched, no link events: ${status.linksReason ?? 'no reason given'}`
          : `${status.links.length} interface${status.links.length === 1 ? '' : 's'}, watched through rtnetlink`],
        ['batman-adv', status.batman.available ? 'available' : `not available: ${status.batman.reason}`],
      ];
      printLine(describeDriver(status));
      for (const [k, v] of rows) printLine(`  ${k.padEnd(12)}${v}`);
      if (status.links !== null && status.links.length > 0) {
        printLine('');
        for (const line of linksTable(status.links).split('\n')) printLine(`  ${line}`);
      }
    });
}
