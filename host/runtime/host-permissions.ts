// Which imports each manifest permission grants. The Extism kernel core is always granted; nothing else is
// reachable unless the manifest names it (see docs/PLUGIN-ABI.md).
import type { HostPermission } from '../core/plugin-spec.js';

export const EXTISM_MODULE = 'extism:host/env';
export const X0T_MODULE = 'x0t:host/env';

export const KERNEL_CORE_IMPORTS: readonly string[] = [
  'alloc', 'free', 'length', 'length_unsafe', 'load_u8', 'load_u64', 'store_u8', 'store_u64',
  'input_offset', 'input_length', 'input_load_u8', 'input_load_u64', 'output_set', 'error_set', 'error_get',
];

export const PERMISSION_IMPORTS: Readonly<Record<HostPermission, readonly { module: string; name: string }[]>> = {
  log: ['log_trace', 'log_debug', 'log_info', 'log_warn', 'log_error', 'get_log_level'].map((name) => ({
    module: EXTISM_MODULE,
    name,
  })),
  config: [{ module: EXTISM_MODULE, name: 'config_get' }],
  var: [{ module: EXTISM_MODULE, name: 'var_get' }, { module: EXTISM_MODULE, name: 'var_set' }],
  clock: [{ module: X0T_MODULE, name: 'clock_now_ms' }],
  random: [{ module: X0T_MODULE, name: 'random_fill' }],
};

/** `module\0name` keys of every function import the given permissions allow. */
export function allowedImportKeys(permissions: readonly HostPermission[]): Set<string> {
  const keys = new Set(KERNEL_CORE_IMPORTS.map((n) => `${EXTISM_MODULE}\0${n}`));
  for (const p of permissions) for (const i of PERMISSION_IMPORTS[p]) keys.add(`${i.module}\0${i.name}`);
  return keys;
}
