// x0t node start [--config manifests/nodes/default.json] [--admin HOST:PORT] [--demo] [--no-watch]
// Starts the node (slots, admin API, live reload of the node manifest) and runs until SIGINT or SIGTERM, then
// stops cleanly. In --json mode every line on stdout is one JSON object (the first one says where the API is).
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { asX0tError } from '../errors/index.js';
import type { KnowledgeEvent } from '../node/node-knowledge.js';
import { NodeRuntime, type NodeEvent } from '../node/node-runtime.js';
import { linkEventJson } from '../node/node-link-state.js';
import { describeBatman, describeLinkEvent, describeLinkWatch } from './driver-links.js';
import { describeDriver } from './driver-status.js';
import { describeMeshEvent, meshEventJson } from './mesh-events.js';
import { startDemo, type DemoLine } from './node-demo.js';
import { printErrLine, printJson, printLine, withJson } from './output.js';

interface StartOptions {
  config: string;
  admin?: string;
  demo?: boolean;
  watch: boolean;
  json?: boolean;
}

function describeEvent(e: NodeEvent): { text: string; stderr: boolean } | null {
  switch (e.type) {
    case 'applied': {
      const r = e.report;
      const parts = [
        ...r.swapped.map((s) => `slot ${s.slot}: ${s.record.outcome} ${s.record.from ?? '(none)'} → ${s.record.to}`),
        ...r.opened.map((s) => `slot ${s}: opened`),
        ...r.closed.map((s) => `slot ${s}: closed`),
        ...r.failed.map((f) => `slot ${f.slot}: kept its plugin, ${f.code}: ${f.message}`),
      ];
      return { text: `manifest reloaded: ${parts.length === 0 ? 'no changes' : parts.join('; ')}`, stderr: r.failed.length > 0 };
    }
    case 'watch-error':
      return { text: `manifest reload failed, node unchanged: ${e.error.code}: ${e.error.message}`, stderr: true };
    case 'admin-swap':
      return {
        text: e.ok ? `admin API: swapped slot ${e.slot} to ${e.manifest}` : `admin API: swap of slot ${e.slot} to ${e.manifest} failed: ${e.code}`,
        stderr: !e.ok,
      };
    case 'plugin-log':
      return { text: `[plugin ${e.plugin}] ${e.level}: ${e.message}`, stderr: e.level === 'warn' || e.level === 'error' };
    case 'kb':
      return describeKnowledge(e.kb);
    case 'driver':
      return {
        text: e.driver.kind === 'new-peer'
          ? `driver: new peer ${e.driver.address}`
          : `driver: dropped a packet from quarantined ${e.driver.address}`,
        stderr: false,
      };
    case 'link':
      return { text: describeLinkEvent(e.event, e.interface, e.driverInterface), stderr: false };
    case 'link-error':
      return { text: `link watcher stopped, the node runs without link events: ${e.error.code}: ${e.error.message}`, stderr: true };
    case 'mesh':
      return describeMeshEvent(e.mesh);
  }
}

function describeKnowledge(e: KnowledgeEvent): { text: string; stderr: boolean } {
  switch (e.kind) {
    case 'notice':
      return { text: `knowledge base: ${e.message}`, stderr: false };
    case 'ingesting':
      return {
        text: `knowledge base: ingesting ${e.paths.join(', ')} in the background with ${e.embedder} (unchanged files are skipped)`,
        stderr: false,
      };
    case 'failed':
      return { text: `knowledge base unavailable, the node runs without it: ${e.code}: ${e.message}`, stderr: true };
    case 'ready': {
      const s = e.stats;
      const r = e.ingest;
      const ingest = r === null ? '' : `, ingest: ${r.filesAdded} new, ${r.filesChanged} changed, ${r.filesRemoved} removed, ` +
        `${r.filesUnchanged} unchanged file(s)`;
      return {
        text: `knowledge base ready in ${(e.ms / 1000).toFixed(1)} s: ${s.documents} documents, ${s.chunks} chunks ` +
          `(${s.embedder.id}, ${s.index.kind})${ingest}; GET /kb/search?q=… searches it`,
        stderr: false,
      };
    }
  }
}

function eventJson(e: NodeEvent): Record<string, unknown> {
  if (e.type === 'watch-error' || e.type === 'link-error') return { event: e.type, error: e.error.toJSON() };
  if (e.type === 'mesh') return meshEventJson(e.mesh);
  // One flat line per link event: {event: 'link', interface, driverInterface, kind, link|address, reason?, atNs}.
  if (e.type === 'link') return { event: e.type, interface: e.interface, driverInterface: e.driverInterface, ...linkEventJson(e.event) };
  const { type, ...rest } = e;
  return { event: type, ...rest };
}

let watchdogArmed = false;

/** Signals this soon after the first are the same stop request, not a second one that forces the exit. */
const SAME_STOP_REQUEST_MS = 1_000;

/** Kills this process after `ms` unless it has exited by then (a separate, detached process does it). */
function armExitWatchdog(ms: number): void {
  if (watchdogArmed) return;
  watchdogArmed = true;
  const script = `setTimeout(() => { try { process.kill(${process.pid}, 'SIGKILL'); } catch {} }, ${ms});`;
  try {
    spawn(process.execPath, ['-e', script], { detached: true, stdio: 'ignore' }).unref();
  } catch {
    // Without a watchdog the stop still runs; it just has no deadline.
  }
}

export function registerNodeStart(node: Command): void {
  withJson(
    node
      .command('start')
      .description('start a node: open its slots, serve the admin API, reload the manifest when it changes')
      .option('--config <file>', 'node manifest', 'manifests/nodes/default.json')
      .option('--admin <host:port>', 'admin API address (overrides listen.admin; port 0 picks a free port)')
      .option('--demo', 'every 2 s run a FedAvg round through the aggregator slot, a selftest sum, a key exchange, a signature and a knowledge-base search')
      .option('--no-watch', 'do not reload the node manifest when the file changes'),
  ).action(async (opts: StartOptions) => {
    const json = opts.json === true;
    const onEvent = (e: NodeEvent): void => {
      if (json) return printJson(eventJson(e));
      const d = describeEvent(e);
      if (d) (d.stderr ? printErrLine : printLine)(d.text);
    };
    const runtime = await NodeRuntime.start({
      manifestPath: opts.config,
      ...(opts.admin === undefined ? {} : { admin: opts.admin }),
      watch: opts.watch,
      onEvent,
    });
    // Listening before anything is printed: whoever reads "Ctrl-C stops the node" may send the signal at once.
    const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
      let stoppingSince = -1;
      // The listeners stay for the whole stop: removing and re-adding them lost a signal that arrived in between.
      const onSignal = (sig: NodeJS.Signals): void => {
        const now = performance.now();
        if (stoppingSince < 0) {
          stoppingSince = now;
          resolve(sig);
          return;
        }
        // Ctrl-C sends SIGINT to the whole process group, and a supervisor (the demo mesh, a service manager) may
        // follow with its own SIGTERM at once: that is the same request. A signal after that ends the process now;
        // process.exit can stall while a plugin worker is being terminated, hence the watchdog.
        if (now - stoppingSince < SAME_STOP_REQUEST_MS) return;
        armExitWatchdog(5_000);
        process.exit(130);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      // Started by a parent over IPC (the demo mesh): stop when it goes away, so no node outlives it. A stop that
      // hangs (seen once: the process stuck in exit after its parent was killed) is ended by a small watchdog
      // process, since nothing in this one may run by then.
      if (process.connected) {
        process.once('disconnect', () => {
          armExitWatchdog(20_000);
          onSignal('SIGTERM');
        });
      }
      // A reader that went away (the parent died) ends the node the same way, cleanly, instead of exiting at once
      // with its plugins and sockets still open (the CLI's default for a broken pipe).
      for (const stream of [process.stdout, process.stderr]) {
        stream.removeAllListeners('error');
        stream.on('error', (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EPIPE') return;
          armExitWatchdog(20_000);
          onSignal('SIGTERM');
        });
      }
    });
    const info = runtime.host.info();
    if (json) {
      printJson({
        event: 'started', node: { name: info.node.name, trustDomain: info.node.trustDomain }, admin: runtime.adminUrl, manifest: runtime.manifestPath,
        slots: info.slots.map((s) => ({ name: s.name, capability: s.capability, plugin: s.plugin })),
        driver: runtime.driver.status(),
        links: { watching: runtime.driver.links.watching, reason: runtime.driver.links.reason },
        batman: runtime.driver.links.batman,
        mesh: runtime.mesh === null ? null : {
          fingerprint: runtime.mesh.fingerprint, spiffeId: runtime.mesh.spiffeId,
          endpoints: runtime.mesh.endpoints.map((e) => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`)),
          adminMtls: runtime.admin.mtlsUrl,
        },
      });
    } else {
      printLine(`x0tta6bl4 node ${info.node.name}: admin API on ${runtime.adminUrl} (slots: ${info.slots.map((s) => s.name).join(', ')})`);
      for (const s of info.slots) {
        printLine(`  slot ${s.name} (${s.capability}): ${s.plugin.name}@${s.plugin.version} ${s.plugin.isolation}, sha256 ${s.plugin.sha256.slice(0, 12)}…`);
      }
      printLine(`  ${describeDriver(runtime.driver.status())}`);
      printLine(`  ${describeLinkWatch(runtime.driver.links.watching, runtime.driver.links.reason)}`);
      printLine(`  ${describeBatman(runtime.driver.links.batman)}`);
      if (runtime.mesh !== null) {
        const m = runtime.mesh.status();
        printLine(`  mesh: ${m.fingerprint} (${m.spiffeId}) on ${m.endpoints.join(', ')}, trust ${String((m.trust as { mode?: string }).mode)}, suite ${m.suite}`);
        if (runtime.admin.mtlsUrl !== null) printLine(`  admin API over mutual TLS (SVIDs of ${info.node.trustDomain}) on ${runtime.admin.mtlsUrl}`);
      }
      printLine(opts.watch ? `watching ${runtime.manifestPath} for changes; Ctrl-C stops the node` : 'Ctrl-C stops the node');
    }

    const demo = opts.demo
      ? startDemo(runtime.host, (line: DemoLine) => {
        if (json) printJson({ event: 'demo', ...line });
        else (line.ok ? printLine : printErrLine)(`[demo] ${line.text}`);
      }, { knowledge: runtime.knowledge })
      : null;

    const signal = await stopSignal;
    if (!json) printLine(`${signal}: stopping`);
    try {
      await demo?.stop();
      await runtime.stop();
    } catch (e) {
      throw asX0tError(e);
    }
    if (json) printJson({ event: 'stopped', signal });
    else printLine('stopped');
  });
}
