// x0t plugin sign --key KEYFILE <manifest.json> [--out FILE]
// Signs a plugin manifest with a node key (Ed25519 + ML-DSA-65) and writes the signature block into it. The
// signature covers the manifest without `signature` and `$schema`; the manifest pins the wasm's SHA-256, so it
// covers the module too — which is why a manifest whose wasm does not match its hash is refused rather than signed.
import { writeFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { HashMismatchError, IoError } from '../errors/index.js';
import { readNodeKeys } from '../crypto/identity-keys.js';
import { keyFingerprint } from '../crypto/key-fingerprint.js';
import { signManifest, verifyManifestSignature, withSignature } from '../crypto/manifest-signature.js';
import { SigningSchemes } from '../crypto/signing-schemes.js';
import { readPluginBytes, sha256Hex } from '../runtime/compiled-plugin.js';
import { loadPluginManifest } from '../runtime/load-manifest.js';
import { printJson, printLine, withJson } from './output.js';

interface SignOptions {
  key: string;
  out?: string;
  json?: boolean;
}

/** Replaces `file` by rename, so a node watching it never reads half a manifest. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code ?? null;
    throw new IoError(`cannot write ${file}: ${code ?? (e as Error).message}`, { path: file, code }, { cause: e });
  }
}

export function registerPluginSign(plugin: Command): void {
  withJson(
    plugin
      .command('sign')
      .description('sign a plugin manifest with a node key (the signature covers the manifest and, through its hash, the wasm)')
      .argument('<manifest>', 'plugin manifest (.json); the signature block is written into it')
      .requiredOption('--key <file>', 'secret node key file (x0t keys gen)')
      .option('--out <file>', 'write the signed manifest here instead (relative paths in it are kept as written)'),
  ).action(async (manifest: string, opts: SignOptions) => {
    const keys = await readNodeKeys(opts.key);
    const { spec, document } = await loadPluginManifest(manifest);
    const sha256 = sha256Hex(await readPluginBytes(spec));
    if (sha256 !== spec.wasm.sha256) {
      throw new HashMismatchError(
        `${spec.wasm.path} has SHA-256 ${sha256}, but the manifest pins ${spec.wasm.sha256}: rebuild (x0t plugin build) before signing`,
        { path: spec.wasm.path, expected: spec.wasm.sha256, actual: sha256 },
      );
    }
    const schemes = await SigningSchemes.open();
    let signed: Record<string, unknown>;
    try {
      const signature = await signManifest(schemes.composite, keys.signing, document);
      signed = withSignature(document as object, signature);
      // Checked the way a node will check it (this also catches a key file whose halves do not belong together).
      await verifyManifestSignature(signed, spec, [{ name: keys.name, algorithm: signature.algorithm, publicKey: signature.publicKey, file: null }],
        () => Promise.resolve(schemes.composite));
    } finally {
      await schemes.close();
    }
    const target = resolve(opts.out ?? manifest);
    await writeAtomically(target, `${JSON.stringify(signed, null, 2)}\n`);
    const fingerprint = keyFingerprint(keys.signing.publicKey);
    if (opts.json) {
      printJson({
        manifest: target, plugin: spec.name, version: spec.version, sha256: spec.wasm.sha256,
        algorithm: keys.signing.algorithm, fingerprint, keyName: keys.name,
      });
    } else {
      printLine(`signed ${target}: ${spec.name}@${spec.version} (wasm sha256 ${spec.wasm.sha256.slice(0, 12)}…) ` +
        `with ${keys.signing.algorithm} key ${fingerprint}${keys.name === null ? '' : ` (${keys.name})`}`);
    }
  });
}
