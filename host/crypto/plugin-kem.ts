// A KEM plugin (capability `kem`, e.g. ML-KEM-768) behind the Kem interface: lengths are checked here, so a wrong
// length is a CryptoInputError before anything crosses into the sandbox.
import { KemClient } from '../../sdk/abi/generated/clients.js';
import type { Encapsulation, Kem, KemSizes, KeyPair } from './primitives.js';
import { callChecked, type PluginCall } from './plugin-call.js';
import { checkLength } from './check-length.js';

const EMPTY = new Uint8Array(0);

export class PluginKem implements Kem {
  readonly algorithm: string;
  readonly sizes: KemSizes;
  readonly #client: KemClient;

  private constructor(algorithm: string, sizes: KemSizes, client: KemClient) {
    this.algorithm = algorithm;
    this.sizes = sizes;
    this.#client = client;
  }

  /** Asks the plugin for its sizes once; `algorithm` names it in errors (usually the plugin's name). */
  static async open(call: PluginCall, algorithm: string): Promise<PluginKem> {
    const client = new KemClient((fn, input) => callChecked(call, fn, input, algorithm));
    const info = await client.kemInfo(EMPTY);
    const sizes: KemSizes = Object.freeze({
      publicKeyBytes: info.publicKeyBytes,
      secretKeyBytes: info.secretKeyBytes,
      ciphertextBytes: info.ciphertextBytes,
      sharedSecretBytes: info.sharedSecretBytes,
      seedBytes: info.seedBytes,
      randomnessBytes: info.randomnessBytes,
    });
    return new PluginKem(algorithm, sizes, client);
  }

  async keygen(seed?: Uint8Array): Promise<KeyPair> {
    let kp;
    if (seed === undefined) {
      kp = await this.#client.keygen(EMPTY);
    } else {
      checkLength(seed, this.sizes.seedBytes, 'seed', this.algorithm);
      kp = await this.#client.keygenFromSeed(seed);
    }
    return { publicKey: kp.publicKey.slice(), secretKey: kp.secretKey.slice() };
  }

  async encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): Promise<Encapsulation> {
    checkLength(publicKey, this.sizes.publicKeyBytes, 'public key', this.algorithm);
    if (randomness !== undefined) checkLength(randomness, this.sizes.randomnessBytes, 'randomness', this.algorithm);
    const r = randomness ?? EMPTY;
    const out = await this.#client.encaps({ publicKeyLen: publicKey.length, randomnessLen: r.length, publicKey, randomness: r });
    return { ciphertext: out.ciphertext.slice(), sharedSecret: out.sharedSecret.slice() };
  }

  async decapsulate(secretKey: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    checkLength(secretKey, this.sizes.secretKeyBytes, 'secret key', this.algorithm);
    checkLength(ciphertext, this.sizes.ciphertextBytes, 'ciphertext', this.algorithm);
    const ss = await this.#client.decaps({ secretKeyLen: secretKey.length, ciphertextLen: ciphertext.length, secretKey, ciphertext });
    return ss.slice();
  }
}
