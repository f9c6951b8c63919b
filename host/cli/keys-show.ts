// x0t keys show <keyfile> [--trust-domain D] [--public-out FILE] [--force] [--json]
// Prints the public part of a node key file (secret or public): algorithms, public keys, the fingerprint and the id
// the node would have. Never prints a secret key. --public-out writes the public-key file operators list in a node
// manifest's policies.trustedPluginKeys.
import type { Command } from 'commander';
import {
  DEFAULT_TRUST_DOMAIN, fingerprintOf, keyFileText, nodeIdOf, publicKeyFileJson, readKeyFile, writeKeyFile,
  type KeyFile, type PublicHalf,
} from '../crypto/identity-keys.js';
import { toBase64 } from '../crypto/base64.js';
import { keyFingerprint } from '../crypto/key-fingerprint.js';
import { UsageError } from '../errors/index.js';
import { printJson, printLine, withJson } from './output.js';

const DNS_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function trustDomainOption(value: string): string {
  if (value.length > 253 || !DNS_NAME.test(value)) {
    throw new UsageError(`--trust-domain must be a lowercase DNS name such as mesh.example.org, got ${JSON.stringify(value)}`, {
      path: '--trust-domain',
    });
  }
  return value;
}

/** The public facts about a key file, as `keys show --json` and `keys gen --json` print them. */
export function keySummary(keys: KeyFile, trustDomain: string, file: string | null): Record<string, unknown> {
  const half = (h: PublicHalf) => ({
    algorithm: h.algorithm, fingerprint: keyFingerprint(h.publicKey), publicKeyBytes: h.publicKey.length, publicKey: toBase64(h.publicKey),
  });
  return {
    file,
    kind: keys.kind,
    name: keys.name,
    ...(keys.kind === 'secret' ? { created: keys.created } : {}),
    fingerprint: fingerprintOf(keys),
    id: nodeIdOf(keys, trustDomain),
    signing: half(keys.signing),
    kem: keys.kem === null ? null : half(keys.kem),
  };
}

export function printKeySummary(keys: KeyFile, trustDomain: string, file: string | null): void {
  const short = (pk: Uint8Array) => `${toBase64(pk).slice(0, 24)}… (${pk.length} bytes)`;
  const rows: [string, string][] = [
    ['file', `${file ?? '-'} (${keys.kind === 'secret' ? 'secret key file; secret keys not shown' : 'public keys only'})`],
    ...(keys.name === null ? [] : [['name', keys.name] as [string, string]]),
    ['fingerprint', fingerprintOf(keys)],
    ['id', nodeIdOf(keys, trustDomain)],
    ['signing', `${keys.signing.algorithm} ${short(keys.signing.publicKey)}`],
    ['kem', keys.kem === null ? '(none)' : `${keys.kem.algorithm} ${short(keys.kem.publicKey)}, fingerprint ${keyFingerprint(keys.kem.publicKey)}`],
  ];
  for (const [k, v] of rows) printLine(`${k.padEnd(12)}${v}`);
}

interface ShowOptions {
  trustDomain: string;
  publicOut?: string;
  force?: boolean;
  json?: boolean;
}

export function registerKeysShow(keys: Command): void {
  withJson(
    keys
      .command('show')
      .description('print the public part of a key file: public keys, fingerprint and node id (never the secret keys)')
      .argument('<keyfile>', 'a secret key file (x0t keys gen) or a public-key file')
      .option('--trust-domain <domain>', 'trust domain of the printed id', trustDomainOption, DEFAULT_TRUST_DOMAIN)
      .option('--public-out <file>', 'also write the public-key file (what policies.trustedPluginKeys lists)')
      .option('--force', 'replace an existing --public-out file'),
  ).action(async (file: string, opts: ShowOptions) => {
    const keys = await readKeyFile(file);
    if (opts.publicOut !== undefined) {
      await writeKeyFile(opts.publicOut, keyFileText(publicKeyFileJson(keys)), { secret: false, force: opts.force === true });
    }
    if (opts.json) {
      printJson({ ...keySummary(keys, opts.trustDomain, file), publicOut: opts.publicOut ?? null });
      return;
    }
    printKeySummary(keys, opts.trustDomain, file);
    if (opts.publicOut !== undefined) printLine(`${'public-out'.padEnd(12)}${opts.publicOut}`);
  });
}
