// The XDP driver's failures are typed: a missing object (IoError), an object whose hash differs from its pin
// (HashMismatchError), an interface that does not exist (DriverError, if_nametoindex ENODEV), a bad option
// (UsageError), and — run as an unprivileged user with every capability dropped (setpriv) — no permission for BPF
// (UnsupportedError, reason 'permission'). None of them leaves anything in the bpffs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openLibbpf } from '../../../host/driver/libbpf.js';
import { openXdpDriver } from '../../../host/driver/xdp-driver.js';
import { DriverError, HashMismatchError, IoError, UnsupportedError, UsageError } from '../../../host/errors/index.js';
import { TestBpffs } from '../../support/driver-lab.js';

const execFileP = promisify(execFile);
const root = process.getuid?.() === 0;
const built = existsSync('bpf/x0t_xdp.o');
const libbpfMissing = (() => {
  try {
    openLibbpf();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
})();

describe('XDP driver failures are typed', () => {
  let tmp: string;
  let bpffs: TestBpffs | null = null;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'x0t-drv-err-'));
    if (root) bpffs = await TestBpffs.mount();
  });

  after(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await bpffs?.unmount();
  });

  it('a missing object file is IoError naming the path', async () => {
    const path = join(tmp, 'absent.o');
    await assert.rejects(openXdpDriver({ interface: 'lo', objectPath: path, pinRoot: join(tmp, 'pins') }), (e) => {
      assert.ok(e instanceof IoError);
      assert.equal(e.details['path'], path);
      return true;
    });
    assert.equal(existsSync(join(tmp, 'pins')), false, 'nothing created');
  });

  it('an object that differs from its pin is HashMismatchError', { skip: built ? false : 'bpf/x0t_xdp.o is not built' }, async () => {
    const path = join(tmp, 'x0t_xdp.o');
    copyFileSync('bpf/x0t_xdp.o', path);
    writeFileSync(join(tmp, 'x0t_xdp.json'), JSON.stringify({ sha256: '0'.repeat(64) }));
    await assert.rejects(openXdpDriver({ interface: 'lo', objectPath: path }), (e) => {
      assert.ok(e instanceof HashMismatchError);
      assert.equal(e.details['expected'], '0'.repeat(64));
      return true;
    });
    await assert.rejects(openXdpDriver({ interface: 'lo', objectPath: path, expectedSha256: 'ab'.repeat(32) }), HashMismatchError);
  });

  it('bad options are UsageError', async () => {
    await assert.rejects(openXdpDriver({ interface: 'lo', mode: 'turbo' as 'auto' }), (e) => e instanceof UsageError && e.details['path'] === 'mode');
    await assert.rejects(openXdpDriver({ interface: 'lo', eventsPerSecond: -1 }), (e) => e instanceof UsageError && e.details['path'] === 'eventsPerSecond');
    await assert.rejects(openXdpDriver({ interface: 'lo', program: 'x0t_other' as 'x0t_xdp' }), (e) => e instanceof UsageError && e.details['path'] === 'program');
  });

  it('an interface that does not exist is DriverError (if_nametoindex, ENODEV)', { skip: !built ? 'bpf/x0t_xdp.o is not built' : libbpfMissing ?? false }, async () => {
    await assert.rejects(openXdpDriver({ interface: 'x0t-no-such0', pinRoot: bpffs?.path ?? join(tmp, 'pins') }), (e) => {
      assert.ok(e instanceof DriverError, String(e));
      assert.equal(e.details['call'], 'if_nametoindex');
      assert.equal(e.details['errno'], constants.errno.ENODEV);
      return true;
    });
    if (bpffs) assert.deepEqual(bpffs.leftovers(), []);
  });

  it('without the permission for BPF it is UnsupportedError (reason permission)', {
    skip: !root ? 'needs root to drop to an unprivileged user' : !built ? 'bpf/x0t_xdp.o is not built' : !existsSync('/usr/bin/setpriv') ? 'setpriv (util-linux) is not installed' : false,
  }, async (t) => {
    // A child as nobody with no capabilities at all: the first bpf() call (loading) is refused.
    const script = `
      let openXdpDriver;
      try { ({ openXdpDriver } = await import(${JSON.stringify(resolve('dist/host/driver/xdp-driver.js'))})); }
      catch (e) { console.log(JSON.stringify({ unreadable: String(e.message).split('\\n')[0] })); process.exit(0); }
      try { await openXdpDriver({ interface: 'lo', pinRoot: ${JSON.stringify(bpffs!.path)} }); console.log(JSON.stringify({ opened: true })); }
      catch (e) { console.log(JSON.stringify({ name: e.constructor.name, code: e.code, details: e.details })); }`;
    const { stdout } = await execFileP('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', process.execPath, '--input-type=module', '-e', script], { timeout: 30_000 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { name: string; code: string; details: Record<string, unknown>; unreadable?: string };
    if (r.unreadable !== undefined) {
      t.skip(`the checkout is not readable by an unprivileged user: ${r.unreadable}`);
      return;
    }
    assert.equal(r.code, new UnsupportedError('').code, stdout);
    assert.equal(r.details['reason'], 'permission');
    assert.equal(r.details['errno'], constants.errno.EPERM);
    assert.deepEqual(bpffs!.leftovers(), []);
  });
});
