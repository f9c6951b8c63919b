// x0t pqc dsa keygen [--seed HEX] [--alg A]                                   → pk, sk
// x0t pqc sign   --sk IN --msg IN [--deterministic] [--context HEX] [--alg A]  → sig
// x0t pqc verify --pk IN --msg IN --sig IN [--context HEX] [--alg A]           → valid (exit 0) | invalid (exit 1)
//
// A is ml-dsa-65 (FIPS 204, the `signer` plugin) or ed25519+ml-dsa-65 (the composite, both halves must verify).
// sign and verify tell the two apart by the key's length when --alg is not given.
import { Option, type Command } from 'commander';
import { COMPOSITE_SIZES } from '../crypto/composite-signature.js';
import type { SignerPlugin } from '../crypto/pqc-suite.js';
import type { SignatureScheme } from '../crypto/primitives.js';
import { CryptoInputError } from '../errors/index.js';
import { flushOutput, printJson, printLine, withJson } from './output.js';
import { emit, hexOption, INPUT_RULE, readByteInput, withOutDir, withSignerPlugin, type OutputOptions } from './pqc-io.js';

const ALGORITHMS = ['ml-dsa-65', 'ed25519+ml-dsa-65'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** FIPS 204 ML-DSA-65 lengths, to recognise a key before the plugin is opened. */
const MLDSA65 = { publicKeyBytes: 1952, secretKeyBytes: 4032 } as const;

const pick = (p: SignerPlugin, alg: Algorithm): SignatureScheme => (alg === 'ml-dsa-65' ? p.signer : p.composite);

const algOption = (): Option =>
  new Option('--alg <algorithm>', 'signature algorithm (sign/verify: recognised by the key length when omitted)').choices(ALGORITHMS);

/** The algorithm a key of this length belongs to; CryptoInputError when neither. */
function algorithmOf(key: Uint8Array, kind: 'publicKeyBytes' | 'secretKeyBytes', what: string): Algorithm {
  if (key.length === MLDSA65[kind]) return 'ml-dsa-65';
  if (key.length === COMPOSITE_SIZES[kind]) return 'ed25519+ml-dsa-65';
  throw new CryptoInputError(
    `${what} must be ${MLDSA65[kind]} bytes (ml-dsa-65) or ${COMPOSITE_SIZES[kind]} bytes (ed25519+ml-dsa-65), got ${key.length}`,
    { what, expected: [MLDSA65[kind], COMPOSITE_SIZES[kind]], actual: key.length },
  );
}

interface ContextOptions {
  context?: Uint8Array;
  alg?: Algorithm;
  json?: boolean;
}

export function registerPqcDsa(pqc: Command): void {
  const dsa = pqc.command('dsa').description('ML-DSA-65 (FIPS 204) and composite Ed25519 + ML-DSA-65 signature keys');

  withOutDir(withJson(
    dsa
      .command('keygen')
      .description('generate a signing key pair: prints pk and sk')
      .option('--seed <hex>', 'derive the key pair from a seed (ml-dsa-65: ξ, 32 bytes; ed25519+ml-dsa-65: Ed25519 seed ‖ ξ, 64 bytes)', hexOption('--seed'))
      .addOption(algOption().default('ml-dsa-65'))
      .addHelpText('after', INPUT_RULE),
  )).action(async (opts: OutputOptions & { seed?: Uint8Array; alg: Algorithm }) => {
    const kp = await withSignerPlugin((s) => pick(s, opts.alg).keygen(opts.seed));
    await emit(opts.alg, { pk: kp.publicKey, sk: kp.secretKey }, opts);
  });

  withOutDir(withJson(
    pqc
      .command('sign')
      .description('sign a message: prints sig')
      .requiredOption('--sk <hex|file>', 'the secret key')
      .requiredOption('--msg <hex|file>', 'the message')
      .option('--deterministic', 'deterministic ML-DSA signing (same key and message → same signature); hedged by default')
      .option('--context <hex>', 'FIPS 204 context string (ml-dsa-65: ≤ 255 bytes; composite: ≤ 255 bytes, bound into both halves)', hexOption('--context'))
      .addOption(algOption())
      .addHelpText('after', INPUT_RULE),
  )).action(async (opts: OutputOptions & ContextOptions & { sk: string; msg: string; deterministic?: boolean }) => {
    const sk = await readByteInput(opts.sk, '--sk');
    const msg = await readByteInput(opts.msg, '--msg');
    const alg = opts.alg ?? algorithmOf(sk, 'secretKeyBytes', 'secret key');
    const sig = await withSignerPlugin((s) => pick(s, alg).sign(sk, msg, {
      ...(opts.context === undefined ? {} : { context: opts.context }),
      deterministic: opts.deterministic === true,
    }));
    await emit(alg, { sig }, opts);
  });

  withJson(
    pqc
      .command('verify')
      .description('verify a signature: prints valid and exits 0, or prints invalid and exits 1')
      .requiredOption('--pk <hex|file>', 'the signer public key')
      .requiredOption('--msg <hex|file>', 'the message')
      .requiredOption('--sig <hex|file>', 'the signature')
      .option('--context <hex>', 'the context string the signature was made with', hexOption('--context'))
      .addOption(algOption())
      .addHelpText('after', INPUT_RULE),
  ).action(async (opts: ContextOptions & { pk: string; msg: string; sig: string }) => {
    const pk = await readByteInput(opts.pk, '--pk');
    const msg = await readByteInput(opts.msg, '--msg');
    const sig = await readByteInput(opts.sig, '--sig');
    const alg = opts.alg ?? algorithmOf(pk, 'publicKeyBytes', 'public key');
    const valid = await withSignerPlugin((s) => pick(s, alg).verify(pk, msg, sig, opts.context === undefined ? {} : { context: opts.context }));
    if (opts.json) printJson({ algorithm: alg, valid });
    else printLine(valid ? 'valid' : 'invalid');
    if (!valid) {
      // Not an error: a signature that does not verify is an answer. Exit 1, like `cmp` or `grep`.
      await flushOutput();
      process.exit(1);
    }
  });
}
