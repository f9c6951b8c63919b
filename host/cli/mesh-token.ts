// x0t mesh token create [--ttl 1h]: on the mesh CA node (through its admin API), a single-use join token and the
// trust bundle's SHA-256 — what a new node's manifest needs in identity.join.
import type { Command } from 'commander';
import { UsageError } from '../errors/index.js';
import type { JoinToken } from '../node/mesh/mesh-trust.js';
import { meshRequest, parseDuration, withMeshAdmin, type MeshCommandOptions } from './mesh-admin.js';
import { printJson, printLine } from './output.js';

export function registerMeshToken(mesh: Command): void {
  const token = mesh.command('token').description('join tokens for new nodes (on the mesh CA node)');
  withMeshAdmin(token.command('create')
    .description('make a single-use join token on the CA node and print it with the bundle SHA-256')
    .option('--ttl <duration>', 'how long the token stays usable: 30m, 1h, 2d, … (1 s to 7 d)', '1h'))
    .action(async (opts: MeshCommandOptions & { ttl: string }) => {
      const ttlMs = parseDuration(opts.ttl);
      if (ttlMs === null || ttlMs < 1000 || ttlMs > 7 * 86_400_000) {
        throw new UsageError(`--ttl must be a duration from 1s to 7d such as 30m or 1h, got ${JSON.stringify(opts.ttl)}`, { path: '--ttl' });
      }
      const t = await meshRequest(opts, '/token', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ttlMs }),
      }) as JoinToken;
      if (opts.json) return printJson(t);
      printLine(`token         ${t.token}`);
      printLine(`expires       ${t.expiresAt}`);
      printLine(`bundleSha256  ${t.bundleSha256}`);
      printLine(`server        ${t.server}`);
      printLine('');
      printLine('in the new node\'s manifest:');
      printLine(`  "identity": { …, "join": { "server": "${t.server}", "token": "${t.token}", "bundleSha256": "${t.bundleSha256}" } }`);
    });
}
