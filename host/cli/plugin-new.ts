// x0t plugin new <capability> <name> [--dir plugins]
// Scaffolds a plugin from the SDK template of a capability; the work is done by sdk/tools/scaffold.ts.
import type { Command } from 'commander';
import { relative } from 'node:path';
import { printJson, printLine, withJson } from './output.js';

export function registerPluginNew(plugin: Command): void {
  withJson(
    plugin
      .command('new')
      .description('scaffold a new plugin of a capability (source and plugin.json)')
      .argument('<capability>', 'capability it implements, e.g. aggregator')
      .argument('<name>', 'plugin name (a lowercase slug), e.g. my-agg')
      .option('--dir <dir>', 'folder that holds plugin sources', 'plugins'),
  ).action(async (capability: string, name: string, opts: { dir: string; json?: boolean }) => {
    // Loaded on use so that the rest of the CLI starts without the SDK tool-chain.
    const { scaffoldPlugin } = await import('../../sdk/tools/scaffold.js');
    const result = await scaffoldPlugin(capability, name, opts.dir);
    if (opts.json) {
      printJson({ capability, name, ...result });
      return;
    }
    printLine(`created ${capability} plugin ${name}:`);
    for (const f of result.files) printLine(`  ${relative(process.cwd(), f)}`);
    printLine(`next: edit ${relative(process.cwd(), result.files[0] ?? result.dir)}, then x0t plugin build ${name}`);
  });
}
