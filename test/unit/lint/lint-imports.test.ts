import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { findCycles, findImports, layerOf, lintImports, lintSources, type Violation } from '../../../scripts/lint-imports.js';

const lines = (...l: string[]): string => l.join('\n') + '\n';

const CLEAN: Record<string, string> = {
  'sdk/abi/errors.ts': lines("import contract from './contract.json' with { type: 'json' };", 'export const v = contract;'),
  'sdk/abi/codec.ts': lines("import type { v } from './errors.js';", 'export type V = typeof v;'),
  'host/errors/index.ts': lines("export * from '../../sdk/abi/errors.js';"),
  'host/core/lifecycle.ts': lines(
    "import path from 'node:path';",
    "import Ajv from 'ajv/dist/2020.js';",
    "import schema from '../../manifests/schema/plugin-manifest.v1.json' with { type: 'json' };",
    "import { v } from '../errors/index.js';",
    "import type { V } from '../../sdk/abi/codec.js';",
    'export { path, Ajv, schema, v };',
    'export type { V };',
  ),
  'host/runtime/slot.ts': lines(
    "import { createPlugin } from '@extism/extism';",
    "import { Worker } from 'node:worker_threads';",
    "import { v } from '../core/lifecycle.js';",
    'export { createPlugin, Worker, v };',
  ),
  'host/driver/xdp.ts': lines("import koffi from 'koffi';", "import { v } from '../errors/index.js';", 'export { koffi, v };'),
  'host/node/node.ts': lines(
    "import '../driver/xdp.js';",
    "import '../runtime/slot.js';",
    "import * as Y from 'yjs';",
    "const later = await import('../core/lifecycle.js');",
    'export { Y, later };',
  ),
  'host/cli/main.ts': lines("import { Command } from 'commander';", "import '../node/node.js';", 'export { Command };'),
  'sdk/kit/conformance.ts': lines("import '../../host/runtime/slot.js';", "import { readFile } from 'node:fs/promises';", 'export { readFile };'),
  // Type-only imports are erased at run time: this pair is not a cycle.
  'host/core/a.ts': lines("import type { B } from './b.js';", 'export type A = B | 1;'),
  'host/core/b.ts': lines("import { type A } from './a.js';", 'export type B = A | 2;'),
  'test/helpers.ts': lines("import '@extism/extism';", "import '../host/cli/main.js';", "import 'koffi';"),
  'bench/slots.ts': lines("import '@extism/extism';", "import '../test/helpers.js';"),
  'scripts/gen.ts': lines("import '../sdk/abi/codec.js';", "import { readFileSync } from 'node:fs';", 'export { readFileSync };'),
};

describe('lintSources', () => {
  it('passes a clean tree and counts files and imports', () => {
    const report = lintSources(CLEAN);
    assert.deepEqual(report.violations, []);
    assert.equal(report.files, Object.keys(CLEAN).length);
    assert.equal(report.imports, 30);
    assert.equal(report.cycles, 0);
  });

  it('reports each forbidden import with its file, line and rule', () => {
    const report = lintSources({
      ...CLEAN,
      'sdk/abi/codec.ts': lines('// pure', "import { readFileSync } from 'node:fs';", "import '../../host/errors/index.js';"),
      'host/core/lifecycle.ts': lines(
        "import path from 'node:path';",
        "import { readFile } from 'fs/promises';",
        "import type { Slot } from '../runtime/slot.js';",
        "import fc from 'fast-check';",
        "let x: import('../cli/main.js').Cmd;",
      ),
      'host/node/node.ts': lines("import { h } from '../../test/helpers.js';", "import { createPlugin } from '@extism/extism';"),
      'host/driver/xdp.ts': lines("import { v } from '../core/lifecycle.js';", 'const name = "x";', 'await import(name);'),
      'sdk/kit/conformance.ts': lines("import koffi from 'koffi';"),
      'scripts/gen.ts': lines("import '@extism/extism';"),
      'host/misc/util.ts': lines("import '../../../elsewhere.js';"),
    });
    const expected: Violation[] = [
      { file: 'host/core/lifecycle.ts', line: 2, rule: 'builtin', message: 'host/core may not import node:fs/promises; it may import only node:path (host/core does no I/O)' },
      { file: 'host/core/lifecycle.ts', line: 3, rule: 'layer', message: 'host/core may not import host/runtime (host/runtime/slot.ts); it may import sdk/abi, host/errors' },
      { file: 'host/core/lifecycle.ts', line: 4, rule: 'package', message: "host/core may not import 'fast-check'; it may import only ajv, ajv/dist/2020.js (host/core does no I/O)" },
      { file: 'host/core/lifecycle.ts', line: 5, rule: 'layer', message: 'host/core may not import host/cli (host/cli/main.ts): nothing in host/ depends on the CLI' },
      { file: 'host/driver/xdp.ts', line: 1, rule: 'layer', message: 'host/driver may not import host/core (host/core/lifecycle.ts); it may import host/errors' },
      { file: 'host/driver/xdp.ts', line: 3, rule: 'dynamic-import', message: 'import() with a non-literal specifier cannot be checked; use a string literal' },
      { file: 'host/misc/util.ts', line: 1, rule: 'outside-root', message: "'../../../elsewhere.js' points outside the repository" },
      { file: 'host/misc/util.ts', line: 1, rule: 'unknown-layer', message: 'host/misc/util.ts is in no layer of ARCHITECTURE.md' },
      { file: 'host/node/node.ts', line: 1, rule: 'layer', message: 'host/node may not import test/ (test/helpers.ts): product code never depends on test/' },
      { file: 'host/node/node.ts', line: 2, rule: 'exclusive', message: 'only host/runtime, test, bench may import @extism/extism' },
      { file: 'scripts/gen.ts', line: 1, rule: 'exclusive', message: 'only host/runtime, test, bench may import @extism/extism' },
      { file: 'sdk/abi/codec.ts', line: 2, rule: 'builtin', message: 'sdk/abi may not import node:fs; it may import no node builtins' },
      { file: 'sdk/abi/codec.ts', line: 3, rule: 'layer', message: 'sdk/abi may not import host/errors (host/errors/index.ts); it may import nothing' },
      { file: 'sdk/kit/conformance.ts', line: 1, rule: 'exclusive', message: 'only host/driver, test, bench, scripts may import koffi' },
    ];
    assert.deepEqual(report.violations, expected);
    assert.equal(report.cycles, 0);
  });

  it('reports a cycle once, at the import that starts it, naming every file', () => {
    const report = lintSources({
      ...CLEAN,
      'host/core/x.ts': lines("import { y } from './y.js';", 'export const x = y;'),
      'host/core/y.ts': lines('// y', "export { z as y } from './z.js';"),
      'host/core/z.ts': lines("import { x } from './x.js';", "import { w } from './w.js';", 'export const z = x + w;'),
      'host/core/w.ts': lines("import { z } from './z.js';", 'export const w = z;'),
      'host/runtime/self.ts': lines('// imports itself', '', "import './self.js';"),
    });
    assert.deepEqual(report.violations, [
      {
        file: 'host/core/w.ts',
        line: 1,
        rule: 'cycle',
        message: 'import cycle: host/core/w.ts → host/core/z.ts → host/core/w.ts; also in the cycle: host/core/x.ts, host/core/y.ts',
      },
      { file: 'host/runtime/self.ts', line: 3, rule: 'cycle', message: 'import cycle: host/runtime/self.ts → host/runtime/self.ts' },
    ]);
    assert.equal(report.cycles, 2);
  });
});

describe('findImports', () => {
  it('finds every kind of import with its line and whether it is erased', () => {
    const source = lines(
      "import a from 'a';",
      "import type { B } from 'b';",
      "import { type C, type D } from 'c';",
      "import { type E, F } from 'e';",
      "export * from 'g';",
      "export type { H } from 'h';",
      "import i = require('i');",
      "const j = await import('j');",
      'const k = await import(`k`);',
      "const l = require('l');",
      "let m: typeof import('m');",
      "import 'n';",
    );
    assert.deepEqual(
      findImports('host/node/x.ts', source).map((r) => [r.line, r.specifier, r.kind, r.typeOnly]),
      [
        [1, 'a', 'static', false],
        [2, 'b', 'static', true],
        [3, 'c', 'static', true],
        [4, 'e', 'static', false],
        [5, 'g', 'static', false],
        [6, 'h', 'static', true],
        [7, 'i', 'static', false],
        [8, 'j', 'dynamic', false],
        [9, 'k', 'dynamic', false],
        [10, 'l', 'require', false],
        [11, 'm', 'type', true],
        [12, 'n', 'static', false],
      ],
    );
  });
});

describe('layerOf', () => {
  it('classifies paths by folder', () => {
    assert.deepEqual(
      ['sdk/abi/generated/x.ts', 'sdk/kit/x.ts', 'sdk/x.ts', 'host/core/x.ts', 'host/x.ts', 'test/unit/x.ts', 'manifests/a.json', 'x.ts', '../x.ts'].map(layerOf),
      ['sdk/abi', 'sdk', 'sdk', 'host/core', 'host', 'test', 'manifests', '.', '..'],
    );
  });
});

describe('findCycles', () => {
  it('finds strongly connected components, sorted', () => {
    const g = new Map([
      ['d', [{ to: 'c', line: 1 }]],
      ['c', [{ to: 'd', line: 1 }, { to: 'e', line: 2 }]],
      ['e', []],
      ['a', [{ to: 'b', line: 1 }]],
      ['b', [{ to: 'a', line: 1 }]],
    ]);
    assert.deepEqual(findCycles(g), [
      ['a', 'b'],
      ['c', 'd'],
    ]);
  });
});

describe('lintImports (on disk)', () => {
  const makeTree = (files: Record<string, string>): string => {
    const root = mkdtempSync(path.join(tmpdir(), 'lint-imports-'));
    for (const [file, source] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), source);
    }
    return root;
  };

  it('scans host/, sdk/ (not sdk/as or sdk/templates), test/, bench/ and scripts/', () => {
    const root = makeTree({
      ...CLEAN,
      // AssemblyScript and files outside the scanned folders are not linted.
      'sdk/as/index.ts': lines("import 'node:fs';"),
      'sdk/templates/plugin/index.ts': lines("import 'node:fs';"),
      'plugins/echo/index.ts': lines("import 'node:fs';"),
      'host/core/io.ts': lines("import { readFileSync } from 'node:fs';", "import './io2.js';"),
      'host/core/io2.ts': lines("import './io.js';"),
    });
    try {
      assert.deepEqual(lintImports(root), [
        { file: 'host/core/io.ts', line: 1, rule: 'builtin', message: 'host/core may not import node:fs; it may import only node:path (host/core does no I/O)' },
        { file: 'host/core/io.ts', line: 2, rule: 'cycle', message: 'import cycle: host/core/io.ts → host/core/io2.ts → host/core/io.ts' },
      ]);
      assert.deepEqual(lintImports(root, ['host/core/io2.ts', path.join(root, 'sdk/as/index.ts')]), [
        { file: 'sdk/as/index.ts', line: 1, rule: 'unknown-layer', message: 'sdk/as/index.ts is in no layer of ARCHITECTURE.md' },
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the command prints one line per violation and exits 1, or a summary and exits 0', () => {
    const script = fileURLToPath(new URL('../../../scripts/lint-imports.js', import.meta.url));
    const bad = makeTree({ 'host/errors/index.ts': lines('', "import 'node:fs';") });
    const good = makeTree(CLEAN);
    try {
      const failed = spawnSync(process.execPath, [script, bad], { encoding: 'utf8' });
      assert.equal(failed.status, 1);
      assert.equal(
        failed.stdout,
        lines(
          'host/errors/index.ts:2: builtin — host/errors may not import node:fs; it may import no node builtins',
          'lint-imports: 1 files, 1 imports, 1 violations, 0 cycles',
        ),
      );
      const passed = spawnSync(process.execPath, [script], { cwd: good, encoding: 'utf8' });
      assert.equal(passed.status, 0);
      assert.equal(passed.stdout, lines(`lint-imports: ${Object.keys(CLEAN).length} files, 30 imports, 0 violations, 0 cycles`));
    } finally {
      rmSync(bad, { recursive: true, force: true });
      rmSync(good, { recursive: true, force: true });
    }
  });
});
