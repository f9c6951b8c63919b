// A signature plugin (capability `signer`, e.g. ML-DSA-65) behind the SignatureScheme interface.
import { SignerClient } from '../../sdk/abi/generated/clients.js';
import { CryptoInputError } from '../errors/index.js';
import type { KeyPair, SignatureScheme, SignerSizes, SignOptions, VerifyOptions } from './primitives.js';
import { callChecked, type PluginCall } from './plugin-call.js';
import { checkLength } from './check-length.js';

const EMPTY = new Uint8Array(0);
const FLAG_DETERMINISTIC = 1;

export class PluginSigner implements SignatureScheme {
  readonly algorithm: string;
  readonly sizes: SignerSizes;
  readonly #client: SignerClient;

  private constructor(algorithm: string, sizes: SignerSizes, client: SignerClient) {
    this.algorithm = algorithm;
    this.sizes = sizes;
    this.#client = client;
  }

  static async open(call: PluginCall, algorithm: string): Promise<PluginSigner> {
    const client = new SignerClient((fn, input) => callChecked(call, fn, input, algorithm));
    const info = await client.signerInfo(EMPTY);
    const sizes: SignerSizes = Object.freeze({
      publicKeyBytes: info.publicKeyBytes,
      secretKeyBytes: info.secretKeyBytes,
      signatureBytes: info.signatureBytes,
      seedBytes: info.seedBytes,
      maxContextBytes: info.maxContextBytes,
    });
    return new PluginSigner(algorithm, sizes, client);
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

  #context(context: Uint8Array | undefined): Uint8Array {
    const ctx = context ?? EMPTY;
    if (!(ctx instanceof Uint8Array) || ctx.length > this.sizes.maxContextBytes) {
      throw new CryptoInputError(`${this.algorithm}: context must be at most ${this.sizes.maxContextBytes} bytes`, {
        algorithm: this.algorithm, what: 'context', actual: ctx instanceof Uint8Array ? ctx.length : null,
      });
    }
    return ctx;
  }

  async sign(secretKey: Uint8Array, message: Uint8Array, opts: SignOptions = {}): Promise<Uint8Array> {
    checkLength(secretKey, this.sizes.secretKeyBytes, 'secret key', this.algorithm);
    const context = this.#context(opts.context);
    const sig = await this.#client.sign({
      flags: opts.deterministic === true ? FLAG_DETERMINISTIC : 0,
      secretKeyLen: secretKey.length, contextLen: context.length, messageLen: message.length,
      secretKey, context, message,
    });
    return sig.slice();
  }

  async verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, opts: VerifyOptions = {}): Promise<boolean> {
    checkLength(publicKey, this.sizes.publicKeyBytes, 'public key', this.algorithm);
    const context = this.#context(opts.context);
    // A signature of the wrong length is simply not valid (FIPS 204 verification returns false).
    if (signature.length !== this.sizes.signatureBytes) return false;
    const out = await this.#client.verify({
      publicKeyLen: publicKey.length, contextLen: context.length, messageLen: message.length, signatureLen: signature.length,
      publicKey, context, message, signature,
    });
    return out.length === 1 && out[0] === 1;
  }
}
