#!/usr/bin/env node
// x0t — the x0tta6bl4 command line. Wires the command files together, and is where the exit code is decided:
// the X0tError's exitCode (2 for usage errors, 1 for anything unexpected).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UsageError } from '../errors/index.js';
import { registerDriver } from './driver.js';
import { registerFl } from './fl.js';
import { registerKb } from './kb.js';
import { registerKeysGen } from './keys-gen.js';
import { registerKeysShow } from './keys-show.js';
import { registerMesh } from './mesh.js';
import { registerNodeDemoMesh } from './node-demo-mesh.js';
import { registerNodeStart } from './node-start.js';
import { cliState, flushOutput, reportError } from './output.js';
import { registerPluginBuild } from './plugin-build.js';
import { registerPluginCall } from './plugin-call.js';
import { registerPluginInspect } from './plugin-inspect.js';
import { registerPluginLs } from './plugin-ls.js';
import { registerPluginNew } from './plugin-new.js';
import { registerPluginSign } from './plugin-sign.js';
import { registerPluginSwap } from './plugin-swap.js';
import { registerPluginTest } from './plugin-test.js';
import { registerPqc } from './pqc.js';
import { registerSim } from './sim.js';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function buildProgram(): Command {
  const program = new Command('x0t')
    .description('x0tta6bl4 node runtime: run, test and hot-swap sandboxed WebAssembly capability plugins')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    // Commander's own error text is replaced by ours (`x0t: X0T_USAGE: …`), see main().
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError(true);
  program.hook('preAction', (_root, action) => {
    cliState.json = action.opts()['json'] === true;
  });

  const plugin = program.command('plugin').description('inspect, run, test, build and swap plugins');
  registerPluginLs(plugin);
  registerPluginInspect(plugin);
  registerPluginCall(plugin);
  registerPluginTest(plugin);
  registerPluginSwap(plugin);
  registerPluginNew(plugin);
  registerPluginBuild(plugin);
  registerPluginSign(plugin);

  const node = program.command('node').description('run a node');
  registerNodeStart(node);
  registerNodeDemoMesh(node);

  const keys = program.command('keys').description("generate and show a node's identity keys");
  registerKeysGen(keys);
  registerKeysShow(keys);

  registerPqc(program);
  registerFl(program);
  registerKb(program);
  registerDriver(program);
  registerSim(program);
  registerMesh(program);
  return program;
}

/** Runs the CLI and resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      // Help shown because a command was missing (already printed to stderr).
      if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : 2;
      return reportError(new UsageError(e.message.replace(/^error: /, ''), { commander: e.code }));
    }
    return reportError(e);
  }
}

// A reader that goes away early (`x0t plugin inspect … | head`) ends the command quietly, as for other Unix tools.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const code = await main(process.argv);
await flushOutput();
// A command that finished but wants a non-zero status (e.g. `kb ingest` with files it could not read) sets
// process.exitCode; an error's own code wins.
process.exit(code !== 0 ? code : typeof process.exitCode === 'number' ? process.exitCode : 0);
