// x0t plugin build [names…]
// Builds plugins to wasm/ and re-pins their manifests' hashes; the work is done by sdk/tools/build-plugins.ts.
import type { Command } from 'commander';
import { printJson, printLine, withJson } from './output.js';

export function registerPluginBuild(plugin: Command): void {
  withJson(
    plugin
      .command('build')
      .description('build plugins from plugins/<name> into wasm/ and write their manifests (all when no names are given)')
      .argument('[names...]', 'plugin names'),
  ).action(async (names: string[], opts: { json?: boolean }) => {
    // Loaded on use so that the rest of the CLI starts without the SDK tool-chain.
    const { buildPlugins } = await import('../../sdk/tools/build-plugins.js');
    const report = await buildPlugins(names);
    if (opts.json) {
      printJson(report);
      return;
    }
    for (const b of report.built) printLine(`${b.wasm}  ${b.bytes} bytes  sha256 ${b.sha256}`);
    printLine(`built ${report.built.length} module${report.built.length === 1 ? '' : 's'}`);
  });
}
