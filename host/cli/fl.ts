// x0t fl … — federated learning from the command line: one aggregation for scripts, and a full simulated
// federation (MNIST, Byzantine clients, robust rules, DP, secure aggregation, LoRA). See docs/FL.md.
import type { Command } from 'commander';
import { registerFlAggregate } from './fl-aggregate.js';
import { registerFlReproduce } from './fl-reproduce.js';
import { registerFlSimulate } from './fl-simulate.js';

export function registerFl(program: Command): void {
  const fl = program.command('fl').description('federated learning: aggregate updates, simulate a federation');
  registerFlAggregate(fl);
  registerFlSimulate(fl);
  registerFlReproduce(fl);
}
