// x0t pqc kem   keygen | encaps | decaps   — ML-KEM-768 (FIPS 203), the `kem` plugin
// x0t pqc xwing keygen | encaps | decaps   — X-Wing (ML-KEM-768 + X25519), composed over the same plugin
//
//   keygen [--seed HEX]                    → pk, sk
//   encaps --pk IN [--randomness HEX]      → ct, ss
//   decaps --sk IN --ct IN                 → ss
import type { Command } from 'commander';
import type { Kem } from '../crypto/primitives.js';
import type { KemPlugin } from '../crypto/pqc-suite.js';
import { withJson } from './output.js';
import { emit, hexOption, INPUT_RULE, readByteInput, withOutDir, withKemPlugin, type OutputOptions } from './pqc-io.js';

interface KemFlavour {
  /** Command group name: `kem` or `xwing`. */
  readonly group: string;
  readonly title: string;
  readonly pick: (p: KemPlugin) => Kem;
  /** For help texts (the plugin reports the real sizes; the adapters check them). */
  readonly seed: string;
  readonly randomness: string;
}

const FLAVOURS: readonly KemFlavour[] = [
  {
    group: 'kem', title: 'ML-KEM-768 (FIPS 203) key encapsulation, run in the sandboxed ml-kem-768 plugin',
    pick: (s) => s.kem, seed: '64 bytes: d ‖ z', randomness: '32 bytes: the message m',
  },
  {
    group: 'xwing', title: 'X-Wing hybrid KEM (ML-KEM-768 + X25519, draft-connolly-cfrg-xwing-kem)',
    pick: (s) => s.xwing, seed: '32 bytes; it is also the secret key', randomness: '64 bytes: ML-KEM m ‖ X25519 ephemeral secret',
  },
];

export function registerPqcKem(pqc: Command): void {
  for (const f of FLAVOURS) registerFlavour(pqc, f);
}

function registerFlavour(pqc: Command, f: KemFlavour): void {
  const group = pqc.command(f.group).description(f.title);

  withOutDir(withJson(
    group
      .command('keygen')
      .description('generate a key pair: prints pk and sk')
      .option('--seed <hex>', `derive the key pair from a seed (${f.seed})`, hexOption('--seed'))
      .addHelpText('after', INPUT_RULE),
  )).action(async (opts: OutputOptions & { seed?: Uint8Array }) => {
    const { algorithm, kp } = await withKemPlugin(async (s) => {
      const kem = f.pick(s);
      return { algorithm: kem.algorithm, kp: await kem.keygen(opts.seed) };
    });
    await emit(algorithm, { pk: kp.publicKey, sk: kp.secretKey }, opts);
  });

  withOutDir(withJson(
    group
      .command('encaps')
      .description('encapsulate a fresh shared secret to a public key: prints ct and ss')
      .requiredOption('--pk <hex|file>', 'the recipient public key')
      .option('--randomness <hex>', `fixed randomness for known-answer tests (${f.randomness})`, hexOption('--randomness'))
      .addHelpText('after', INPUT_RULE),
  )).action(async (opts: OutputOptions & { pk: string; randomness?: Uint8Array }) => {
    const pk = await readByteInput(opts.pk, '--pk');
    const { algorithm, enc } = await withKemPlugin(async (s) => {
      const kem = f.pick(s);
      return { algorithm: kem.algorithm, enc: await kem.encapsulate(pk, opts.randomness) };
    });
    await emit(algorithm, { ct: enc.ciphertext, ss: enc.sharedSecret }, opts);
  });

  withOutDir(withJson(
    group
      .command('decaps')
      .description('recover the shared secret of a ciphertext: prints ss')
      .requiredOption('--sk <hex|file>', 'the secret key')
      .requiredOption('--ct <hex|file>', 'the ciphertext')
      .addHelpText('after', INPUT_RULE),
  )).action(async (opts: OutputOptions & { sk: string; ct: string }) => {
    const sk = await readByteInput(opts.sk, '--sk');
    const ct = await readByteInput(opts.ct, '--ct');
    const { algorithm, ss } = await withKemPlugin(async (s) => {
      const kem = f.pick(s);
      return { algorithm: kem.algorithm, ss: await kem.decapsulate(sk, ct) };
    });
    await emit(algorithm, { ss }, opts);
  });
}
