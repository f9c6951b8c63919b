// lint-imports: enforces the "Layers and what may import what" table of ARCHITECTURE.md and fails on import
// cycles between project files.
//
//   node dist/scripts/lint-imports.js [rootDir]      (rootDir defaults to the current directory)
//
// The core (`lintSources`) is a pure function over a map {repo-relative posix path → source text}; `lintImports`
// reads the files from disk and calls it. Output: one line per violation, `file:line: rule — message`, then a
// summary line; exit code 1 on any violation or cycle.
//
// What counts as an import: static `import … from`, `import '…'`, `export … from`, `import x = require('…')`,
// dynamic `import('…')` with a literal specifier, `require('…')` with a literal specifier (createRequire), and
// type-level `import('…')`. Type-only imports obey the layer rules like any other (naming a type couples the
// layers), but they are erased at run time, so they do not count as edges for cycle detection. A dynamic import
// whose specifier is not a literal cannot be checked and is itself a violation in product code (host/, sdk/).

import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// ---------------------------------------------------------------------------------------------------------------
// The rules. Keep this table in step with ARCHITECTURE.md.

/** Folders scanned for `.ts` files, and folders skipped inside them (AssemblyScript, not TypeScript). */
export const SCAN_ROOTS = ['host', 'sdk', 'test', 'bench', 'scripts'] as const;
export const SCAN_EXCLUDE = ['sdk/as', 'sdk/templates'] as const;

/** A layer is named by its folder. Order matters: the first prefix that matches wins. */
const LAYER_PREFIXES = [
  'sdk/abi',
  'sdk/as',
  'sdk/templates',
  'host/errors',
  'host/io',
  'host/core',
  'host/runtime',
  'host/crypto',
  'host/fl',
  'host/kb',
  'host/driver',
  'host/spiffe',
  'host/mesh',
  'host/node',
  'host/cli',
] as const;

interface LayerRule {
  /** Other layers this one may import (a layer may always import itself). */
  readonly layers: readonly string[] | 'any';
  /** `node:` builtins: all, none, or an allow-list written with the `node:` prefix. */
  readonly builtins: 'all' | readonly string[];
  /** npm packages: all (still subject to EXCLUSIVE_PACKAGES) or an allow-list of exact specifiers;
   *  an entry `name/*` allows every subpath of `name` as well as `name` itself. */
  readonly packages: 'all' | readonly string[];
}

const HOST_LAYERS = [
  'host/errors', 'host/io', 'host/core', 'host/runtime', 'host/crypto', 'host/fl', 'host/kb', 'host/driver',
  'host/spiffe', 'host/mesh', 'host/node',
] as const;

export const LAYER_RULES: Readonly<Record<string, LayerRule>> = {
  // The contract is pure: only itself (including its JSON files).
  'sdk/abi': { layers: [], builtins: [], packages: [] },
  // The conformance kit and tools for plugin authors.
  sdk: { layers: ['sdk/abi', 'host/errors', 'host/core', 'host/runtime'], builtins: 'all', packages: 'all' },
  'host/errors': { layers: ['sdk/abi'], builtins: [], packages: [] },
  // Durable files (temp, fsync, rename, fsync of the folder): the one way product code replaces a file.
  'host/io': { layers: ['sdk/abi', 'host/errors'], builtins: 'all', packages: [] },
  // Pure state machines: no I/O, so only path math and (pure) schema validation.
  'host/core': {
    layers: ['sdk/abi', 'host/errors'],
    builtins: ['node:path'],
    packages: ['ajv', 'ajv/dist/2020.js'],
  },
  'host/runtime': {
    layers: ['sdk/abi', 'host/errors', 'host/core'],
    builtins: 'all',
    packages: ['@extism/extism'],
  },
  // Cryptographic compositions (X-Wing, composite signatures, key files, manifest signatures) over the PQC plugins
  // and node:crypto; host/runtime reaches them only through interfaces it defines (no cycle).
  'host/crypto': { layers: ['sdk/abi', 'host/errors', 'host/io', 'host/core', 'host/runtime'], builtins: 'all', packages: [] },
  // Federated learning with I/O: the coordinator and client drivers, transports, noise, the trainer adapter, the
  // MNIST simulation (its data comes from the `mnist` package's JSON files).
  'host/fl': {
    layers: ['sdk/abi', 'host/errors', 'host/core', 'host/runtime', 'host/crypto'],
    builtins: 'all',
    packages: ['mnist/*'],
  },
  // The knowledge base with I/O: chunking, BM25, hybrid retrieval, the store, the vector-index and embedder
  // adapters; the transformer embedder and re-ranker run on onnxruntime-web (its own WebAssembly) in a worker.
  'host/kb': {
    layers: ['sdk/abi', 'host/errors', 'host/io', 'host/core', 'host/runtime'],
    builtins: 'all',
    packages: ['onnxruntime-web'],
  },
  'host/driver': { layers: ['host/errors'], builtins: 'all', packages: ['koffi'] },
  // SPIFFE identities: the mesh CA, X.509-SVIDs (issue, verify, rotate), join tokens, trust bundles, the Workload API.
  'host/spiffe': {
    layers: ['sdk/abi', 'host/errors', 'host/io', 'host/core', 'host/crypto'],
    builtins: 'all',
    packages: ['pkijs', 'asn1js', '@grpc/grpc-js', '@grpc/proto-loader'],
  },
  // The mesh with I/O: wire codec, UDP transport and fragmentation, discovery, PQ sessions; routing itself is a pure
  // core in host/core/routing.
  'host/mesh': { layers: ['sdk/abi', 'host/errors', 'host/io', 'host/core', 'host/crypto', 'host/spiffe'], builtins: 'all', packages: [] },
  'host/node': { layers: ['sdk/abi', ...HOST_LAYERS], builtins: 'all', packages: 'all' },
  'host/cli': {
    // `x0t plugin new|build|test` are the plugin author's tools: the CLI drives sdk/ for them.
    layers: ['sdk/abi', 'sdk', 'host/errors', 'host/io', 'host/core', 'host/runtime', 'host/crypto', 'host/fl', 'host/kb',
      'host/node', 'host/mesh', 'host/spiffe'],
    builtins: 'all',
    packages: ['commander'],
  },
  test: { layers: 'any', builtins: 'all', packages: 'all' },
  bench: { layers: 'any', builtins: 'all', packages: 'all' },
  scripts: { layers: 'any', builtins: 'all', packages: 'all' },
};

/** Packages only some layers may import, whatever the layer rules above say. */
export const EXCLUSIVE_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  '@extism/extism': ['host/runtime', 'test', 'bench'],
  koffi: ['host/driver', 'test', 'bench', 'scripts'],
};

/** Data any product layer except the pure contract and the error registry may import: JSON Schemas. */
const DATA_IMPORT = { prefix: 'manifests/schema/', extension: '.json' } as const;
const DATA_IMPORTERS = new Set(['sdk', 'host/core', 'host/runtime', 'host/node', 'host/cli']);

// ---------------------------------------------------------------------------------------------------------------
// Types

export interface Violation {
  /** Repo-relative posix path. */
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly rule: string;
  readonly message: string;
}

export interface ImportRef {
  readonly specifier: string;
  readonly line: number;
  /** Erased at run time (`import type`, `export type`, all-`type` specifiers, `import('x').T`). */
  readonly typeOnly: boolean;
  readonly kind: 'static' | 'dynamic' | 'require' | 'type';
}

export interface LintReport {
  readonly files: number;
  readonly imports: number;
  /** All violations (cycle ones too, rule `cycle`), sorted by file, line, rule, message. */
  readonly violations: readonly Violation[];
  readonly cycles: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Classification

/** The layer of a repo-relative posix path: a LAYER_PREFIXES entry, `sdk`, `host` (in no known layer), the
 *  top-level folder name (`test`, `manifests`, …), `.` for a file at the root, or `..` for one outside it. */
export function layerOf(file: string): string {
  if (file === '..' || file.startsWith('../')) return '..';
  for (const prefix of LAYER_PREFIXES) {
    if (file.startsWith(prefix + '/')) return prefix;
  }
  const slash = file.indexOf('/');
  return slash < 0 ? '.' : file.slice(0, slash);
}

const isProduct = (layer: string): boolean => layer === 'sdk' || layer === 'host' || layer.startsWith('sdk/') || layer.startsWith('host/');

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function packageAllowed(specifier: string, allowed: readonly string[]): boolean {
  const name = packageName(specifier);
  return allowed.some((entry) => entry === specifier || (entry.endsWith('/*') && entry.slice(0, -2) === name));
}

const list = (items: readonly string[]): string => (items.length === 0 ? 'nothing' : items.join(', '));

// ---------------------------------------------------------------------------------------------------------------
// Parsing

/** Every import of one file, in source order. */
export function findImports(file: string, source: string): ImportRef[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const declarationFile = file.endsWith('.d.ts');
  const refs: ImportRef[] = [];
  const lineOf = (node: ts.Node): number => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const add = (node: ts.Node, specifier: string, typeOnly: boolean, kind: ImportRef['kind']): void => {
    refs.push({ specifier, line: lineOf(node), typeOnly: typeOnly || declarationFile, kind });
  };
  const literal = (node: ts.Node | undefined): string | undefined =>
    node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined;

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const spec = literal(node.moduleSpecifier);
      if (spec !== undefined) {
        const clause = node.importClause;
        let typeOnly = clause?.phaseModifier === ts.SyntaxKind.TypeKeyword;
        if (!typeOnly && clause !== undefined && clause.name === undefined && clause.namedBindings !== undefined) {
          const b = clause.namedBindings;
          typeOnly = ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
        }
        add(node.moduleSpecifier, spec, typeOnly, 'static');
      }
    } else if (ts.isExportDeclaration(node)) {
      const spec = literal(node.moduleSpecifier);
      if (spec !== undefined && node.moduleSpecifier !== undefined) {
        const c = node.exportClause;
        const typeOnly =
          node.isTypeOnly || (c !== undefined && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly));
        add(node.moduleSpecifier, spec, typeOnly, 'static');
      }
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      const spec = literal(expr);
      if (spec !== undefined) add(expr, spec, node.isTypeOnly, 'static');
    } else if (ts.isCallExpression(node)) {
      const arg = node.arguments[0];
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const spec = literal(arg);
        // A non-literal specifier is reported by the caller as `dynamic-import` (specifier '').
        add(arg ?? node, spec ?? '', false, 'dynamic');
      } else if (ts.isIdentifier(node.expression) && node.expression.text === 'require' && node.arguments.length === 1) {
        const spec = literal(arg);
        if (spec !== undefined && arg !== undefined) add(arg, spec, false, 'require');
      }
    } else if (ts.isImportTypeNode(node)) {
      const arg = node.argument;
      const spec = ts.isLiteralTypeNode(arg) ? literal(arg.literal) : undefined;
      if (spec !== undefined) add(arg, spec, true, 'type');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return refs;
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution

const RUNTIME_EXT: Readonly<Record<string, string>> = { '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' };

/** The repo-relative target of a relative specifier: the `.ts` file a `.js` specifier names when that file is in
 *  `files`, otherwise the specifier joined as written. */
export function resolveRelative(from: string, specifier: string, files: ReadonlySet<string>): string {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const ext = path.posix.extname(joined);
  const candidates: string[] = [];
  const tsExt = RUNTIME_EXT[ext];
  if (tsExt !== undefined) {
    const stem = joined.slice(0, -ext.length);
    candidates.push(stem + tsExt, stem + '.d' + tsExt);
  }
  candidates.push(joined, joined + '.ts', joined + '/index.ts');
  return candidates.find((c) => files.has(c)) ?? joined;
}

// ---------------------------------------------------------------------------------------------------------------
// The core

function checkImport(file: string, layer: string, ref: ImportRef, files: ReadonlySet<string>, out: Violation[]): string | undefined {
  const report = (rule: string, message: string): undefined => {
    out.push({ file, line: ref.line, rule, message });
    return undefined;
  };
  const rule = LAYER_RULES[layer];
  const spec = ref.specifier;

  if (ref.kind === 'dynamic' && spec === '') {
    return isProduct(layer) ? report('dynamic-import', 'import() with a non-literal specifier cannot be checked; use a string literal') : undefined;
  }

  if (spec.startsWith('./') || spec.startsWith('../') || spec === '.' || spec === '..') {
    const target = resolveRelative(file, spec, files);
    const targetLayer = layerOf(target);
    if (targetLayer === '..') return report('outside-root', `'${spec}' points outside the repository`);
    if (rule === undefined) return target; // the file itself is in no layer; reported once per file
    if (targetLayer === layer || rule.layers === 'any') return target;
    if (
      DATA_IMPORTERS.has(layer) &&
      target.startsWith(DATA_IMPORT.prefix) &&
      target.endsWith(DATA_IMPORT.extension)
    ) {
      return target;
    }
    if (isProduct(layer) && (targetLayer === 'test' || targetLayer === 'bench')) {
      return report('layer', `${layer} may not import ${targetLayer}/ (${target}): product code never depends on ${targetLayer}/`);
    }
    if (layer.startsWith('host/') && targetLayer === 'host/cli') {
      return report('layer', `${layer} may not import host/cli (${target}): nothing in host/ depends on the CLI`);
    }
    if (!rule.layers.includes(targetLayer)) {
      const where = targetLayer === '.' ? 'the repository root' : targetLayer === 'host' ? 'host/ outside its layers' : targetLayer;
      return report('layer', `${layer} may not import ${where} (${target}); it may import ${list(rule.layers)}`);
    }
    return target;
  }

  if (spec.startsWith('/') || spec.startsWith('#') || (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(spec) && !spec.startsWith('node:'))) {
    return report('specifier', `'${spec}': use a relative path, a node: builtin or a package name`);
  }

  if (rule === undefined) return undefined;

  if (isBuiltin(spec)) {
    const canonical = spec.startsWith('node:') ? spec : `node:${spec}`;
    if (rule.builtins !== 'all' && !rule.builtins.includes(canonical)) {
      const allowed = rule.builtins.length === 0 ? 'no node builtins' : `only ${list(rule.builtins)}`;
      report('builtin', `${layer} may not import ${canonical}; it may import ${allowed}${layer === 'host/core' ? ' (host/core does no I/O)' : ''}`);
    }
    return undefined;
  }

  const name = packageName(spec);
  const homes = EXCLUSIVE_PACKAGES[name];
  if (homes !== undefined && !homes.includes(layer)) {
    return report('exclusive', `only ${list(homes)} may import ${name}`);
  }
  if (rule.packages !== 'all' && !packageAllowed(spec, rule.packages)) {
    const allowed = rule.packages.length === 0 ? 'no npm packages' : `only ${list(rule.packages)}`;
    report('package', `${layer} may not import '${spec}'; it may import ${allowed}${layer === 'host/core' ? ' (host/core does no I/O)' : ''}`);
  }
  return undefined;
}

interface Edge {
  readonly to: string;
  readonly line: number;
}

/** Strongly connected components with a cycle (more than one file, or a file importing itself), Tarjan's
 *  algorithm, iterative. Each component's files are sorted; components are sorted by their first file. */
export function findCycles(graph: ReadonlyMap<string, readonly Edge[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const result: string[][] = [];
  let next = 0;

  for (const root of [...graph.keys()].sort()) {
    if (index.has(root)) continue;
    const work: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next);
    next++;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = graph.get(frame.node) ?? [];
      if (frame.edge < edges.length) {
        const to = edges[frame.edge++]!.to;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next);
          next++;
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && edges.some((e) => e.to === frame.node);
        if (component.length > 1 || selfLoop) result.push(component.sort());
      }
    }
  }
  return result.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** One concrete cycle through `start` inside `component` (shortest, by breadth-first search), as edges. */
function cycleThrough(start: string, component: ReadonlySet<string>, graph: ReadonlyMap<string, readonly Edge[]>): { from: string; edge: Edge }[] {
  const prev = new Map<string, { from: string; edge: Edge }>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const edge of graph.get(node) ?? []) {
      if (!component.has(edge.to) || prev.has(edge.to)) continue;
      prev.set(edge.to, { from: node, edge });
      if (edge.to === start) {
        const path: { from: string; edge: Edge }[] = [];
        for (let step = prev.get(start)!; ; step = prev.get(step.from)!) {
          path.unshift(step);
          if (step.from === start) return path;
        }
      }
      queue.push(edge.to);
    }
  }
  return []; // unreachable for a real component
}

const compareViolations = (a: Violation, b: Violation): number =>
  a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : a.message < b.message ? -1 : a.message > b.message ? 1 : 0);

/** The pure core: lint the given sources, keyed by repo-relative posix path. */
export function lintSources(sources: ReadonlyMap<string, string> | Readonly<Record<string, string>>): LintReport {
  const entries = sources instanceof Map ? [...sources.entries()] : Object.entries(sources);
  const files = new Set(entries.map(([file]) => file));
  const violations: Violation[] = [];
  const graph = new Map<string, Edge[]>();
  let imports = 0;

  for (const [file, source] of entries.sort(([a], [b]) => (a < b ? -1 : 1))) {
    const layer = layerOf(file);
    if (LAYER_RULES[layer] === undefined) {
      violations.push({ file, line: 1, rule: 'unknown-layer', message: `${file} is in no layer of ARCHITECTURE.md` });
    }
    const edges: Edge[] = [];
    graph.set(file, edges);
    for (const ref of findImports(file, source)) {
      imports++;
      const target = checkImport(file, layer, ref, files, violations);
      if (target !== undefined && !ref.typeOnly && files.has(target)) edges.push({ to: target, line: ref.line });
    }
  }

  const cycles = findCycles(graph);
  for (const component of cycles) {
    const start = component[0]!;
    const steps = cycleThrough(start, new Set(component), graph);
    const chain = [start, ...steps.map((s) => s.edge.to)].join(' → ');
    const others = component.filter((f) => !steps.some((s) => s.edge.to === f));
    const rest = others.length > 0 ? `; also in the cycle: ${others.join(', ')}` : '';
    violations.push({ file: start, line: steps[0]?.edge.line ?? 1, rule: 'cycle', message: `import cycle: ${chain}${rest}` });
  }

  return { files: files.size, imports, violations: violations.sort(compareViolations), cycles: cycles.length };
}

// ---------------------------------------------------------------------------------------------------------------
// I/O

const toPosix = (p: string): string => p.split(path.sep).join('/');

/** Every `.ts` file under SCAN_ROOTS (minus SCAN_EXCLUDE), repo-relative, sorted. */
export function listSourceFiles(rootDir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    if ((SCAN_EXCLUDE as readonly string[]).includes(rel)) return;
    let dirents;
    try {
      dirents = readdirSync(path.join(rootDir, rel), { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const d of dirents) {
      if (d.name.startsWith('.') || d.name === 'node_modules') continue;
      const child = `${rel}/${d.name}`;
      if (d.isDirectory()) walk(child);
      else if (d.isFile() && /\.[mc]?ts$/.test(d.name)) out.push(child);
    }
  };
  for (const root of SCAN_ROOTS) walk(root);
  return out.sort();
}

/** Read the files (default: `listSourceFiles(rootDir)`; absolute or relative to rootDir) and lint them. */
export function lintImportsReport(rootDir: string, fileList?: readonly string[]): LintReport {
  const root = path.resolve(rootDir);
  const files = fileList ?? listSourceFiles(root);
  const sources = new Map<string, string>();
  for (const f of files) {
    const abs = path.resolve(root, f);
    sources.set(toPosix(path.relative(root, abs)), readFileSync(abs, 'utf8'));
  }
  return lintSources(sources);
}

/** The violations of the files under rootDir (see lintImportsReport); empty when clean. */
export function lintImports(rootDir: string, fileList?: readonly string[]): Violation[] {
  return [...lintImportsReport(rootDir, fileList).violations];
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: ${v.rule} — ${v.message}`;
}

function main(argv: readonly string[]): number {
  const rootDir = argv[0] ?? process.cwd();
  if (!statSync(rootDir, { throwIfNoEntry: false })?.isDirectory()) {
    process.stderr.write(`lint-imports: ${rootDir} is not a directory\n`);
    return 2;
  }
  const report = lintImportsReport(rootDir);
  for (const v of report.violations) process.stdout.write(formatViolation(v) + '\n');
  const plain = report.violations.filter((v) => v.rule !== 'cycle').length;
  process.stdout.write(`lint-imports: ${report.files} files, ${report.imports} imports, ${plain} violations, ${report.cycles} cycles\n`);
  return report.violations.length === 0 ? 0 : 1;
}

const invokedDirectly = ((): boolean => {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) process.exitCode = main(process.argv.slice(2));
