// Builds the ManifestInvalidError every manifest check throws: `details.path` is the dotted field path and the
// message starts with it.

import type { ErrorObject } from 'ajv/dist/2020.js';
import { ManifestInvalidError } from '../../errors/index.js';
import type { ManifestContext } from './context.js';
import { childIndex, childKey, pointerToPath } from './field-path.js';

export function manifestInvalid(path: string, problem: string, ctx: ManifestContext): ManifestInvalidError {
  const where = ctx.manifestPath === null ? '' : ` (in ${ctx.manifestPath})`;
  const head = path === '' ? 'manifest' : path;
  return new ManifestInvalidError(`${head}: ${problem}${where}`, { path, file: ctx.manifestPath });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function list(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** Turns the first ajv error into a ManifestInvalidError naming the offending field. */
export function fromAjvErrors(
  errors: readonly ErrorObject[] | null | undefined,
  data: unknown,
  ctx: ManifestContext,
): ManifestInvalidError {
  const e = errors?.[0];
  if (e === undefined) return manifestInvalid('', 'failed schema validation', ctx);
  const base = pointerToPath(data, e.instancePath);
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;

  // An error raised while checking an object's property names (e.g. a slot name that is not a slug).
  if (typeof e.propertyName === 'string') {
    const title = typeof parent['title'] === 'string' ? ` must be ${parent['title']}` : ` ${e.message ?? 'is invalid'}`;
    return manifestInvalid(childKey(base, e.propertyName), `field name${title}`, ctx);
  }

  switch (e.keyword) {
    case 'required':
      return manifestInvalid(childKey(base, String(params['missingProperty'])), 'is required', ctx);
    case 'additionalProperties': {
      const known = parent['properties'];
      const allowed = known !== null && typeof known === 'object' ? Object.keys(known) : [];
      const hint = allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : '';
      return manifestInvalid(childKey(base, String(params['additionalProperty'])), `is not a known field${hint}`, ctx);
    }
    case 'uniqueItems':
      return manifestInvalid(
        // ajv reports the later duplicate as `j` and the earlier as `i`.
        childIndex(base, Number(params['j'])),
        `duplicates item ${String(params['i'])}`,
        ctx,
      );
    case 'type': {
      const want = Array.isArray(params['type']) ? params['type'].join(' or ') : String(params['type']);
      return manifestInvalid(base, `must be ${want} (got ${describe(e.data)})`, ctx);
    }
    case 'enum':
      return manifestInvalid(base, `must be one of ${list((params['allowedValues'] as unknown[]) ?? [])}`, ctx);
    case 'const':
      return manifestInvalid(base, `must be ${JSON.stringify(params['allowedValue'])}`, ctx);
    case 'pattern':
      return manifestInvalid(
        base,
        typeof parent['title'] === 'string' ? `must be ${parent['title']}` : (e.message ?? 'is invalid'),
        ctx,
      );
    default:
      return manifestInvalid(base, e.message ?? `fails ${e.keyword}`, ctx);
  }
}
