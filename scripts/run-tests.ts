// `npm test`: runs every compiled `*.test.js` under dist/test whose TypeScript source still exists, in one
// `node --test` process. Node 20's runner treats every .js file below a folder named `test` as a test, which would
// run support modules and stale outputs of deleted sources; naming the files avoids both.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = process.cwd();
const dist = join(root, 'dist', 'test');

function find(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return find(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}

const only = process.argv.slice(2);
const files = find(dist)
  .filter((f) => existsSync(join(root, 'test', relative(dist, f)).replace(/\.js$/, '.ts')))
  .filter((f) => only.length === 0 || only.some((o) => relative(dist, f).includes(o)))
  .sort();
if (files.length === 0) {
  process.stderr.write('run-tests: no test files found (did the build run?)\n');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
