// The committed XDP object and its pin: the pin describes the object (hash, size, the contract's programs and maps),
// the object carries BTF and .BTF.ext for the loader and no path of the machine that built it, and a fresh build
// with the same compiler gives the same bytes (what `build-bpf --check` enforces in CI).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BPF_OBJECT, BPF_PIN, buildBpf, pinFor, type BpfPin } from '../../../sdk/tools/build-bpf.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const object = readFileSync(join(root, BPF_OBJECT));
const pin = JSON.parse(readFileSync(join(root, BPF_PIN), 'utf8')) as BpfPin;

function clangVersion(): string | null {
  try {
    return (execFileSync(process.env['X0T_BPF_CLANG'] ?? 'clang', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '').trim();
  } catch {
    return null;
  }
}

describe('bpf/x0t_xdp.o and its pin', () => {
  it('the pin holds the object’s SHA-256 and size', () => {
    assert.equal(pin.sha256, createHash('sha256').update(object).digest('hex'));
    assert.equal(pin.size, object.length);
    assert.equal(pin.object, BPF_OBJECT);
  });

  it('the object defines exactly the contract’s programs and maps', () => {
    const read = pinFor(object, pin.compiler);
    assert.deepEqual(read.programs, ['x0t_xdp', 'x0t_xdp_count', 'x0t_xdp_count_quarantine', 'x0t_xdp_empty']);
    assert.deepEqual(read.maps, ['config', 'events', 'peer_cache', 'peers_v4', 'peers_v6', 'quarantine_filter', 'quarantine_v4', 'quarantine_v6', 'stats']);
    assert.deepEqual(pin.programs, read.programs);
    assert.deepEqual(pin.maps, read.maps);
  });

  it('keeps .BTF and .BTF.ext, drops DWARF, and holds no absolute path of the build machine', () => {
    const names = object.toString('latin1');
    assert.ok(names.includes('\0.BTF\0') || names.includes('.BTF\0'), '.BTF section');
    assert.ok(names.includes('.BTF.ext'), '.BTF.ext section');
    assert.ok(!names.includes('.debug_info'), 'DWARF stripped');
    assert.ok(!names.includes(root), 'no repository path');
    assert.ok(!names.includes('/tmp/'), 'no temporary build path');
  });

  const clang = clangVersion();
  const skip = clang === null ? 'clang is not installed' : clang !== pin.compiler ? `clang is "${clang}", the pin was built with "${pin.compiler}"` : false;
  it('a fresh build is byte-identical to the committed object', { skip }, () => {
    const { differences } = buildBpf({ root, check: true });
    assert.deepEqual(differences, []);
  });
});
