// Real English text for the vector benchmark's second data set: prose that is on every machine that runs the
// benchmark, so the run needs no download. Sources, in order: Markdown files under node_modules, JSDoc prose in
// node_modules' type declarations (the TypeScript DOM library carries MDN's descriptions; @types/node carries
// Node's API docs), the runbooks of the knowledge-base corpus, and docstrings of the Python standard
// library when a python3 is installed. Each source is split into passages of one to a few sentences (the sentence
// chunker of the knowledge base), de-duplicated, and ordered by a hash of their text so a prefix is a fair sample.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface RealPassages {
  readonly texts: string[];
  /** Passages taken from each source (after de-duplication). */
  readonly bySource: Record<string, number>;
}

// Test suites are mostly code; third-party Python packages are not the standard library.
const SKIP_DIRS = new Set(['.git', 'test', 'tests', '__pycache__', 'site-packages', 'dist-packages', 'idlelib']);

function walk(dir: string, accept: (name: string) => boolean, out: string[] = []): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (SKIP_DIRS.has(e.name)) continue;
      walk(p, accept, out);
    } else if (e.isFile() && accept(e.name)) {
      out.push(p);
    }
  }
  return out.sort();
}

function read(path: string): string {
  try {
    if (statSync(path).size > 8 << 20) return '';
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Prose paragraphs of a Markdown file: code fences, tables, HTML and link-only lines dropped. */
function markdownProse(text: string): string[] {
  const out: string[] = [];
  const noFences = text.replace(/```[\s\S]*?```/g, '\n\n');
  for (const block of noFences.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => !/^\s*(\||<|!\[|\[!\[|#)/.test(l));
    const para = lines.join(' ').replace(/\s+/g, ' ').trim();
    if (para.length >= 60 && /[a-z]{3,}\s+[a-z]{2,}/.test(para)) out.push(para);
  }
  return out;
}

/** The prose of every JSDoc comment in a declaration file, tags and code examples dropped. */
function jsdocProse(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    let body = m[1]!.replace(/^[ \t]*\*[ \t]?/gm, '');
    body = body.replace(/```[\s\S]*?```/g, ' ');
    const tag = body.search(/^\s*@\w+/m);
    if (tag >= 0) body = body.slice(0, tag);
    const para = body.replace(/\{@link\s+([^}|]+)(\|[^}]*)?\}/g, '$1').replace(/\s+/g, ' ').trim();
    if (para.length >= 60) out.push(para);
  }
  return out;
}

/** Triple-quoted docstrings of a Python file. */
function pythonDocstrings(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)[ \t]*(?:[rRuU])?("""|''')([\s\S]*?)\1/g)) {
    const para = m[2]!.replace(/\s+/g, ' ').trim();
    if (para.length >= 60 && !/^[-=\s]*$/.test(para)) out.push(para);
  }
  return out;
}

function pythonStdlib(): string | null {
  try {
    return execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000,
    }).trim() || null;
  } catch {
    return null;
  }
}

/** Packs sentences of a paragraph into passages of about `target` characters (never splitting a sentence). */
export type PassageSplitter = (paragraph: string) => string[];

/**
 * Up to `limit` distinct passages. `split` turns a paragraph into passages (the benchmark passes the knowledge
 * base's sentence chunker). Returns fewer when the machine has less text.
 */
export function collectRealPassages(root: string, limit: number, split: PassageSplitter): RealPassages {
  const sources: [string, () => string[]][] = [
    ['node_modules markdown', () => walk(join(root, 'node_modules'), (n) => n.endsWith('.md')).flatMap((f) => markdownProse(read(f)))],
    ['node_modules JSDoc', () => walk(join(root, 'node_modules'), (n) => n.endsWith('.d.ts')).flatMap((f) => jsdocProse(read(f)))],
    ['knowledge-base corpus', () => walk(join(root, 'test', 'kb', 'corpus'), (n) => n.endsWith('.md')).flatMap((f) => markdownProse(read(f)))],
    ['python stdlib docstrings', () => {
      const lib = pythonStdlib();
      return lib === null ? [] : walk(lib, (n) => n.endsWith('.py')).flatMap((f) => pythonDocstrings(read(f)));
    }],
  ];
  const seen = new Set<string>();
  const bySource: Record<string, number> = {};
  const keyed: { key: string; text: string }[] = [];
  for (const [name, load] of sources) {
    let n = 0;
    for (const para of load()) {
      for (const passage of split(para)) {
        const t = passage.trim();
        if (t.length < 40) continue;
        const norm = t.toLowerCase();
        if (seen.has(norm)) continue;
        seen.add(norm);
        keyed.push({ key: createHash('sha256').update(t).digest('hex'), text: t });
        n++;
      }
    }
    bySource[name] = n;
  }
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { texts: keyed.slice(0, limit).map((k) => k.text), bySource };
}
