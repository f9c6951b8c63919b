// x0t keys gen [--out FILE] [--seed HEX] [--name LABEL] [--public-out FILE] [--no-kem] [--force] [--json]
// Generates a node's identity keys: an Ed25519 + ML-DSA-65 signing key pair and an X-Wing KEM key pair, made by the
// shipped ML-DSA-65 / ML-KEM-768 plugins. With --out the key file is written with mode 0600 and a summary printed;
// without it the key file itself goes to stdout (for a pipe into a secret store).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CompositeSigner } from '../crypto/composite-signature.js';
import {
  DEFAULT_TRUST_DOMAIN, generateNodeKeys, keyFileText, MASTER_SEED_BYTES, nodeKeyFileJson, publicKeyFileJson, writeKeyFile,
} from '../crypto/identity-keys.js';
import { PqcSuite } from '../crypto/pqc-suite.js';
import { XWing } from '../crypto/xwing.js';
import { IoError, UsageError } from '../errors/index.js';
import { keySummary, printKeySummary, trustDomainOption } from './keys-show.js';
import { printJson, printLine, withJson } from './output.js';

interface GenOptions {
  out?: string;
  seed?: string;
  name?: string;
  publicOut?: string;
  kem: boolean;
  force?: boolean;
  trustDomain: string;
  json?: boolean;
}

function seedOption(value: string): Uint8Array {
  if (!/^[0-9a-fA-F]*$/.test(value) || value.length !== MASTER_SEED_BYTES * 2) {
    throw new UsageError(`--seed must be ${MASTER_SEED_BYTES} bytes as ${MASTER_SEED_BYTES * 2} hex digits`, { path: '--seed' });
  }
  return new Uint8Array(Buffer.from(value, 'hex'));
}

function nameOption(value: string): string {
  if (value === '' || value.length > 128) throw new UsageError('--name must be 1 to 128 characters', { path: '--name' });
  return value;
}

export function registerKeysGen(keys: Command): void {
  withJson(
    keys
      .command('gen')
      .description("generate a node's identity keys (Ed25519 + ML-DSA-65 signing, X-Wing KEM)")
      .option('--out <file>', 'write the secret key file here (mode 0600) instead of to stdout')
      .option('--seed <hex>', `derive the keys from this ${MASTER_SEED_BYTES}-byte seed (same seed, same keys) instead of at random`)
      .option('--name <label>', 'a label stored in the key files and shown in errors')
      .option('--public-out <file>', 'also write the public-key file (what policies.trustedPluginKeys lists)')
      .option('--no-kem', 'leave out the X-Wing KEM key pair')
      .option('--force', 'replace existing files')
      .option('--trust-domain <domain>', 'trust domain of the printed id', trustDomainOption, DEFAULT_TRUST_DOMAIN),
  ).action(async (opts: GenOptions) => {
    const seed = opts.seed === undefined ? undefined : seedOption(opts.seed);
    const name = opts.name === undefined ? undefined : nameOption(opts.name);
    const force = opts.force === true;
    // Fail before generating (writeKeyFile checks again, atomically).
    for (const [flag, file] of [['--out', opts.out], ['--public-out', opts.publicOut]] as const) {
      if (file !== undefined && !force && existsSync(file)) {
        throw new IoError(`${flag} ${file} exists; --force replaces it`, { path: resolve(file), code: 'EEXIST' });
      }
    }
    const suite = await PqcSuite.open();
    let generated;
    try {
      generated = await generateNodeKeys({
        signer: new CompositeSigner(suite.signer),
        kem: opts.kem ? new XWing(suite.kem) : null,
        ...(seed === undefined ? {} : { seed }),
        ...(name === undefined ? {} : { name }),
      });
    } finally {
      await suite.close();
    }
    const secretText = keyFileText(nodeKeyFileJson(generated));
    if (opts.out !== undefined) await writeKeyFile(opts.out, secretText, { secret: true, force });
    if (opts.publicOut !== undefined) {
      await writeKeyFile(opts.publicOut, keyFileText(publicKeyFileJson(generated)), { secret: false, force });
    }
    if (opts.out === undefined) {
      process.stdout.write(secretText);
      return;
    }
    if (opts.json) {
      printJson({ ...keySummary(generated, opts.trustDomain, opts.out), publicOut: opts.publicOut ?? null });
      return;
    }
    printKeySummary(generated, opts.trustDomain, opts.out);
    if (opts.publicOut !== undefined) printLine(`${'public-out'.padEnd(12)}${opts.publicOut}`);
  });
}
