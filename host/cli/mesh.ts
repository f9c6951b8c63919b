// x0t mesh … — the mesh of a running node, through its admin API: status, routes, sessions, ping, join tokens.
import type { Command } from 'commander';
import { registerMeshPing } from './mesh-ping.js';
import { registerMeshRoutes } from './mesh-routes.js';
import { registerMeshSessions } from './mesh-sessions.js';
import { registerMeshStatus } from './mesh-status.js';
import { registerMeshToken } from './mesh-token.js';

export function registerMesh(program: Command): void {
  const mesh = program.command('mesh').description('mesh of a running node: status, routes, sessions, ping, join tokens');
  registerMeshStatus(mesh);
  registerMeshRoutes(mesh);
  registerMeshSessions(mesh);
  registerMeshPing(mesh);
  registerMeshToken(mesh);
}
