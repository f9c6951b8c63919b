// x0t mesh routes [--admin URL] [--json]: the router's table — each destination with its primary and backup next
// hop, path quality (TQ, 0-255), hop count and where the route came from (OGMs or on-demand discovery).
import type { Command } from 'commander';
import type { RouteStatus } from '../node/mesh/mesh-service.js';
import { meshRequest, shortFp, withMeshAdmin, type MeshCommandOptions } from './mesh-admin.js';
import { printJson, printLine, table } from './output.js';

export function registerMeshRoutes(mesh: Command): void {
  withMeshAdmin(mesh.command('routes').description('the node\'s routing table: next hops (primary, backup), TQ, hops'))
    .action(async (opts: MeshCommandOptions) => {
      const routes = await meshRequest(opts, '/routes') as RouteStatus[];
      if (opts.json) return printJson(routes);
      if (routes.length === 0) {
        printLine('no routes yet');
        return;
      }
      printLine(table(['DESTINATION', 'VIA', 'BACKUP', 'TQ', 'HOPS', 'SOURCE'], routes.map((r) => [
        r.dest, shortFp(r.nextHops[0] ?? '-'), r.nextHops[1] === undefined ? '-' : shortFp(r.nextHops[1]), String(r.tq), String(r.hops),
        r.source + (r.gatewayClass > 0 ? ' (gateway)' : ''),
      ])));
    });
}
