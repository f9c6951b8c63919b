// x0t mesh sessions [--admin URL] [--json]: the node's sealed sessions with its neighbours (suite, role, age,
// rekeys, packets each way).
import type { Command } from 'commander';
import { meshRequest, withMeshAdmin, type MeshCommandOptions } from './mesh-admin.js';
import { printJson, printLine, table } from './output.js';

interface SessionRow {
  peer: string;
  spiffeId: string;
  endpoint: { address: string; port: number };
  suite: string;
  role: string;
  slot: string;
  ageMs: number;
  rekeys: number;
  txPackets: number;
  rxPackets: number;
}

export function registerMeshSessions(mesh: Command): void {
  withMeshAdmin(mesh.command('sessions').description('the node\'s sessions: peer, suite, role, age, rekeys, packets'))
    .action(async (opts: MeshCommandOptions) => {
      const { sessions } = await meshRequest(opts, '/sessions') as { sessions: SessionRow[] };
      if (opts.json) return printJson({ sessions });
      if (sessions.length === 0) {
        printLine('no sessions');
        return;
      }
      const ep = (e: SessionRow['endpoint']): string => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);
      printLine(table(['PEER', 'ENDPOINT', 'SUITE', 'ROLE', 'SLOT', 'AGE s', 'REKEYS', 'TX', 'RX'], sessions.map((s) => [
        s.peer, ep(s.endpoint), s.suite, s.role, s.slot, (s.ageMs / 1000).toFixed(0), String(s.rekeys), String(s.txPackets), String(s.rxPackets),
      ])));
    });
}
