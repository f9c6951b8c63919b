// x0t mesh status [--admin URL] [--json]: who the node is on the mesh (fingerprint, SPIFFE id, trust mode), where it
// listens, and its neighbours with link quality, RTT and session state.
import type { Command } from 'commander';
import type { MeshStatus } from '../node/mesh/mesh-service.js';
import { meshRequest, shortFp, withMeshAdmin, type MeshCommandOptions } from './mesh-admin.js';
import { formatMs, printJson, printLine, table } from './output.js';

export function registerMeshStatus(mesh: Command): void {
  withMeshAdmin(mesh.command('status').description('the node\'s mesh identity, endpoints and neighbours'))
    .action(async (opts: MeshCommandOptions) => {
      const s = await meshRequest(opts, '') as MeshStatus;
      if (opts.json) return printJson(s);
      const trust = s.trust as { mode?: string };
      printLine(`mesh node ${s.fingerprint}`);
      printLine(`  id          ${s.spiffeId}`);
      printLine(`  trust       ${trust.mode ?? '?'}; suite ${s.suite}; crypto from ${s.crypto}`);
      printLine(`  listening   ${s.endpoints.join(', ')} (hello ${s.helloMs} ms)`);
      printLine(`  routes      ${s.routes}${s.gateway === null ? '' : `; gateway ${shortFp(s.gateway)}`}`);
      printLine('');
      if (s.neighbours.length === 0) {
        printLine('no neighbours yet');
        return;
      }
      printLine(table(['NEIGHBOUR', 'ENDPOINT', 'IF', 'UP', 'SESSION', 'TQ', 'RTT ms'], s.neighbours.map((n) => [
        n.fingerprint, n.endpoint ?? '-', n.interface ?? '-', n.up ? 'yes' : 'no', n.session ? 'yes' : 'no', String(n.tq), formatMs(n.rttMs),
      ])));
    });
}
