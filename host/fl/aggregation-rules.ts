// The aggregation rules a federated round can use: one shipped `aggregator` plugin each, with the parameters its
// manifest `config` accepts. The CLI (`x0t fl aggregate`, `x0t fl simulate`) and the simulation open rules by name
// through here, so a parameter name is checked once, before any plugin is loaded.
import type { PluginLimits, PluginSpec } from '../core/plugin-spec.js';
import { builtinManifest } from '../crypto/builtin-plugins.js';
import { UsageError } from '../errors/index.js';
import { loadPluginSpec } from '../runtime/load-manifest.js';

export interface AggregationRule {
  readonly name: string;
  /** Parameter names (manifest `config` keys) the plugin reads; values are checked by the plugin itself. */
  readonly params: readonly string[];
  /** Whether client weights (sample counts) change the result. */
  readonly usesWeights: boolean;
  /** Whether the rule is meant to resist Byzantine clients. */
  readonly robust: boolean;
  readonly summary: string;
}

const RULES: readonly AggregationRule[] = [
  { name: 'fedavg', params: [], usesWeights: true, robust: false, summary: 'weighted mean' },
  { name: 'median', params: [], usesWeights: false, robust: true, summary: 'coordinate-wise median' },
  { name: 'trimmed-mean', params: ['beta'], usesWeights: false, robust: true, summary: 'coordinate-wise β-trimmed mean' },
  { name: 'krum', params: ['f'], usesWeights: false, robust: true, summary: 'Krum (Blanchard et al. 2017)' },
  { name: 'multi-krum', params: ['f', 'm'], usesWeights: true, robust: true, summary: 'mean of the m best Krum scores' },
  { name: 'bulyan', params: ['f'], usesWeights: false, robust: true, summary: 'Bulyan (El Mhamdi et al. 2018)' },
  { name: 'geomed', params: ['iters', 'eps'], usesWeights: true, robust: true, summary: 'RFA: smoothed Weiszfeld geometric median' },
  { name: 'cclip', params: ['tau', 'iters'], usesWeights: true, robust: true, summary: 'centred clipping (Karimireddy et al. 2021)' },
];

export const AGGREGATION_RULES: ReadonlyMap<string, AggregationRule> = new Map(RULES.map((r) => [r.name, r]));

export function aggregationRule(name: string): AggregationRule {
  const rule = AGGREGATION_RULES.get(name);
  if (rule === undefined) {
    throw new UsageError(`unknown aggregation rule '${name}' (known: ${[...AGGREGATION_RULES.keys()].join(', ')})`, { rule: name });
  }
  return rule;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parses `k=v` pairs for a rule: known names only, each once, numeric values (the plugin checks their range). */
export function parseRuleParams(rule: AggregationRule, pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1).trim();
    if (!rule.params.includes(key)) {
      const known = rule.params.length === 0 ? 'it takes none' : `it takes ${rule.params.join(', ')}`;
      throw new UsageError(`${rule.name} has no parameter '${key}' (${known})`, { rule: rule.name, param: key });
    }
    if (eq < 0 || !NUMBER.test(value)) {
      throw new UsageError(`parameter ${key} of ${rule.name} needs a number, as ${key}=VALUE (got '${pair}')`, { rule: rule.name, param: key });
    }
    if (key in out) throw new UsageError(`parameter ${key} of ${rule.name} given twice`, { rule: rule.name, param: key });
    out[key] = value;
  }
  return out;
}

const MiB = 1024 * 1024;
const PAGE = 65536;

/** Limits for a round of `frameBytes` in and `dim` f32 out: the input plus 1.5× it (at least 64 MiB) of scratch,
 *  never below the manifest's own. A local caller sizes them from the data it holds; a node keeps the manifest's. */
export function limitsForRound(base: PluginLimits, frameBytes: number, dim: number): PluginLimits {
  const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;
  const scratch = Math.max(64 * MiB, frameBytes * 1.5);
  return {
    maxMemoryPages: Math.max(base.maxMemoryPages, Math.min(65536, roundUp(frameBytes + scratch, 64 * MiB) / PAGE)),
    maxInputBytes: Math.max(base.maxInputBytes, roundUp(frameBytes, MiB)),
    maxOutputBytes: Math.max(base.maxOutputBytes, roundUp(dim * 4 + 64, MiB)),
    callTimeoutMs: Math.max(base.callTimeoutMs, 60_000),
  };
}

export interface RuleSpecOptions {
  readonly params?: Readonly<Record<string, string>>;
  /** Size the limits for rounds of this many bytes and this dimension (see limitsForRound). */
  readonly round?: { readonly frameBytes: number; readonly dim: number };
  readonly isolation?: PluginSpec['isolation'];
}

/** The shipped plugin spec of a rule with parameters merged over its manifest `config`. */
export async function ruleSpec(rule: AggregationRule, opts: RuleSpecOptions = {}): Promise<PluginSpec> {
  const spec = await loadPluginSpec(builtinManifest(rule.name));
  return Object.freeze({
    ...spec,
    config: Object.freeze({ ...spec.config, ...(opts.params ?? {}) }),
    limits: opts.round === undefined ? spec.limits : limitsForRound(spec.limits, opts.round.frameBytes, opts.round.dim),
    isolation: opts.isolation ?? spec.isolation,
  });
}
