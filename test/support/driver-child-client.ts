// The test side of test/support/driver-child.ts: starts the child in a lab namespace, sends commands, collects the
// events it reports, and rebuilds errors as registry classes.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { errorFromWire, type WireError } from '../../host/errors/index.js';
import type { DriverStatus, PeerCounters, QuarantineEntry } from '../../host/driver/packet-driver.js';
import type { XdpDriverStatus } from '../../host/driver/xdp-driver.js';
import type { DriverChildCommand, WireDriverEvent } from './driver-child.js';
import type { NetnsLab } from './netns.js';

export const DRIVER_CHILD = 'dist/test/support/driver-child.js';

type Line =
  | { type: 'ready'; status: XdpDriverStatus }
  | { type: 'error'; error: WireError }
  | { type: 'event'; event: WireDriverEvent }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: WireError };

export class DriverChild {
  readonly events: WireDriverEvent[] = [];
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  readonly #eventWaiters = new Set<() => void>();
  readonly ready: Promise<XdpDriverStatus>;
  readonly exited: Promise<number | null>;
  #next = 1;
  #stderr = '';

  constructor(lab: NetnsLab, ns: string, args: readonly string[]) {
    this.#child = lab.spawn(ns, [process.execPath, DRIVER_CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    this.ready = new Promise((resolve, reject) => {
      const lines = createInterface({ input: this.#child.stdout! });
      lines.on('line', (text) => {
        const line = JSON.parse(text) as Line;
        if (line.type === 'ready') resolve(line.status);
        else if (line.type === 'error') reject(errorFromWire(line.error));
        else if (line.type === 'event') {
          this.events.push(line.event);
          for (const w of this.#eventWaiters) w();
        } else {
          const p = this.#pending.get(line.id);
          this.#pending.delete(line.id);
          if (line.ok) p?.resolve(line.result);
          else p?.reject(errorFromWire(line.error));
        }
      });
      void this.exited.then((code) => {
        const gone = new Error(`driver child exited (${code}) ${this.#stderr.trim()}`);
        reject(gone);
        for (const p of this.#pending.values()) p.reject(gone);
        this.#pending.clear();
      });
    });
  }

  get pid(): number {
    return this.#child.pid!;
  }

  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  #send<T>(cmd: DriverChildCommand['cmd'], address?: string): Promise<T> {
    const id = this.#next++;
    const command: DriverChildCommand = address === undefined ? { id, cmd } : { id, cmd, address };
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.stdin!.write(`${JSON.stringify(command)}\n`);
    });
  }

  peers(): Promise<PeerCounters[]> { return this.#send('peers'); }
  status(): Promise<XdpDriverStatus> { return this.#send('status'); }
  quarantineAdd(address: string): Promise<null> { return this.#send('quarantine-add', address); }
  quarantineDelete(address: string): Promise<boolean> { return this.#send('quarantine-del', address); }
  quarantineList(): Promise<QuarantineEntry[]> { return this.#send('quarantine-ls'); }
  /** Closes the driver; resolves with its final status once the child has exited. */
  async close(): Promise<DriverStatus> {
    const status = await this.#send<DriverStatus>('close');
    await this.exited;
    return status;
  }

  /** Waits until `predicate` holds for the events received so far; rejects after `timeoutMs`. */
  waitForEvents(predicate: (events: readonly WireDriverEvent[]) => boolean, timeoutMs = 5000): Promise<void> {
    if (predicate(this.events)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this.events)) return;
        clearTimeout(timer);
        this.#eventWaiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#eventWaiters.delete(check);
        reject(new Error(`events not seen within ${timeoutMs} ms; have ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      this.#eventWaiters.add(check);
    });
  }
}
