// x0t driver … — the node's packet driver (XDP per-peer counters and quarantine, or the user-space fallback), through
// a running node's admin API.
import type { Command } from 'commander';
import { registerDriverPeers } from './driver-peers.js';
import { registerDriverQuarantine } from './driver-quarantine.js';
import { registerDriverStatus } from './driver-status.js';

export function registerDriver(program: Command): void {
  const driver = program.command('driver').description('packet driver of a running node: status, per-peer counters, quarantine');
  registerDriverStatus(driver);
  registerDriverPeers(driver);
  registerDriverQuarantine(driver);
}
