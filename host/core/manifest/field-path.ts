// Dotted field paths for error messages: `slots.aggregator.plugin`, `peers[2].address`, `config["a.b"]`.
// The root is the empty string. Keys that are not plain identifiers (dashes allowed, as in slot names such as
// `vector-index`) are written as a quoted index so every path reads back unambiguously.

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Appends an object key to a path. */
export function childKey(parent: string, key: string): string {
  if (PLAIN_KEY.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Appends an array index to a path. */
export function childIndex(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/**
 * Converts a JSON Pointer into `data` (as ajv reports it in `instancePath`) into a dotted path. The data is
 * walked alongside so that a numeric segment is written as `[n]` only where it really indexes an array.
 */
export function pointerToPath(data: unknown, pointer: string): string {
  if (pointer === '') return '';
  let path = '';
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node) && /^(?:0|[1-9][0-9]*)$/.test(key)) {
      const i = Number(key);
      path = childIndex(path, i);
      node = node[i];
    } else {
      path = childKey(path, key);
      node = node !== null && typeof node === 'object' && Object.hasOwn(node, key)
        ? (node as Record<string, unknown>)[key]
        : undefined;
    }
  }
  return path;
}
