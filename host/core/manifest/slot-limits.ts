import type { PluginLimits } from '../plugin-spec.js';

/** The plugin's limits lowered to a slot's ceilings: for each field the smaller value wins. */
export function capLimits(limits: PluginLimits, ceiling: Readonly<Partial<PluginLimits>>): PluginLimits {
  const cap = (own: number, max: number | undefined): number => (max === undefined ? own : Math.min(own, max));
  return Object.freeze({
    maxMemoryPages: cap(limits.maxMemoryPages, ceiling.maxMemoryPages),
    callTimeoutMs: cap(limits.callTimeoutMs, ceiling.callTimeoutMs),
    maxInputBytes: cap(limits.maxInputBytes, ceiling.maxInputBytes),
    maxOutputBytes: cap(limits.maxOutputBytes, ceiling.maxOutputBytes),
  });
}

const LIMIT_KEYS = ['maxMemoryPages', 'callTimeoutMs', 'maxInputBytes', 'maxOutputBytes'] as const;

/** A fresh object holding only the limit fields that `source` defines (anything else is dropped). */
export function pickLimits(source: Readonly<Partial<PluginLimits>> | undefined): Partial<PluginLimits> {
  const out: { -readonly [K in keyof PluginLimits]?: number } = {};
  for (const k of LIMIT_KEYS) {
    const v = source?.[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
