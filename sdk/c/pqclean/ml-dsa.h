/*
 * Capability "signer" for any PQClean ML-DSA parameter set (ml-dsa-44/65/87, "clean" implementation): pure
 * ML-DSA with FIPS 204 context strings.
 *
 * A plugin's C file defines the parameter set's PQClean namespace and includes this file once:
 *
 *     #define X0T_PQCLEAN_NAMESPACE PQCLEAN_MLDSA65_CLEAN
 *     #include "pqclean/ml-dsa.h"
 *
 * with the parameter set's folder and PQClean's common/ on the include path (plugin.json "build.include") and their
 * .c files among the sources. Only an ABI shim: the lattice code is PQClean's.
 *
 *   signer_info       -> SignerInfo
 *   keygen            ("" -> KeyPair)           xi from the host's CSPRNG
 *   keygen_from_seed  (xi, 32 bytes -> KeyPair)
 *   sign              (SignRequest -> signature) flags bit 0: deterministic (rnd = 32 zero bytes), else hedged
 *                                                 (rnd from the host's CSPRNG); other flag bits are unsupported
 *   verify            (VerifyRequest -> 1 byte)  1 valid, 0 not; a signature of the wrong length is simply invalid
 *
 * PQClean's keypair draws exactly one randombytes(32) (xi) and signature_ctx exactly one randombytes(32) (rnd), so
 * serving those bytes through PQCLEAN_randombytes (x0t_rng_serve) gives FIPS 204 ML-DSA.KeyGen_internal(xi) and
 * deterministic ML-DSA.Sign.
 */
#ifndef X0T_PQCLEAN_ML_DSA_H
#define X0T_PQCLEAN_ML_DSA_H

#ifndef X0T_PQCLEAN_NAMESPACE
#error "define X0T_PQCLEAN_NAMESPACE (e.g. PQCLEAN_MLDSA65_CLEAN) before including pqclean/ml-dsa.h"
#endif

#include <string.h>

#include "x0t.h"

/* Only api.h: PQClean's params.h defines one-letter macros (K, L, N, Q, D). */
#include "api.h"

#define X0T_CAT_(a, b) a##b
#define X0T_CAT(a, b) X0T_CAT_(a, b)
#define X0T_PQ(name) X0T_CAT(X0T_PQCLEAN_NAMESPACE, name)

#define X0T_DSA_PK_BYTES X0T_PQ(_CRYPTO_PUBLICKEYBYTES)
#define X0T_DSA_SK_BYTES X0T_PQ(_CRYPTO_SECRETKEYBYTES)
#define X0T_DSA_SIG_BYTES X0T_PQ(_CRYPTO_BYTES)
#define X0T_DSA_SEED_BYTES 32
#define X0T_DSA_RND_BYTES 32
#define X0T_DSA_MAX_CONTEXT 255
#define X0T_DSA_FLAG_DETERMINISTIC 1u

static int32_t x0t_dsa_wrong_length(const char *what, uint32_t got, uint32_t want) {
  x0t_msg_begin();
  x0t_msg_str(what);
  x0t_msg_str(" is ");
  x0t_msg_u64(got);
  x0t_msg_str(" bytes, expected ");
  x0t_msg_u64(want);
  return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
}

static int32_t x0t_dsa_context_too_long(const char *fn, uint32_t got) {
  x0t_msg_begin();
  x0t_msg_str(fn);
  x0t_msg_str(": context is ");
  x0t_msg_u64(got);
  x0t_msg_str(" bytes, at most 255 allowed");
  return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
}

static int32_t x0t_dsa_info(const uint8_t *in, uint32_t len) {
  (void)in;
  (void)len;
  const uint32_t header[5] = {X0T_DSA_PK_BYTES, X0T_DSA_SK_BYTES, X0T_DSA_SIG_BYTES, X0T_DSA_SEED_BYTES,
                              X0T_DSA_MAX_CONTEXT};
  x0t_frame out;
  return x0t_frame_write(&X0T_FRAME_SignerInfo, header, &out);
}

/* Key pair into the KeyPair output frame; randomness as set up by the caller (served seed or host CSPRNG). */
static int32_t x0t_dsa_keypair(void) {
  const uint32_t header[2] = {X0T_DSA_PK_BYTES, X0T_DSA_SK_BYTES};
  x0t_frame out;
  int32_t status = x0t_frame_write(&X0T_FRAME_KeyPair, header, &out);
  if (status != X0T_STATUS_OK) return status;
  if (X0T_PQ(_crypto_sign_keypair)(out.section[X0T_KeyPair_publicKey], out.section[X0T_KeyPair_secretKey]) != 0) {
    return x0t_fail(X0T_STATUS_INTERNAL, "keygen: key generation failed");
  }
  return X0T_STATUS_OK;
}

static int32_t x0t_dsa_keygen(const uint8_t *in, uint32_t len) {
  (void)in;
  if (len != 0) return x0t_dsa_wrong_length("keygen: input", len, 0);
  return x0t_dsa_keypair();
}

static int32_t x0t_dsa_keygen_from_seed(const uint8_t *in, uint32_t len) {
  if (len != X0T_DSA_SEED_BYTES) return x0t_dsa_wrong_length("keygen_from_seed: seed (xi)", len, X0T_DSA_SEED_BYTES);
  x0t_rng_serve(in, X0T_DSA_SEED_BYTES);
  return x0t_dsa_keypair();
}

static int32_t x0t_dsa_sign(const uint8_t *in, uint32_t len) {
  static const uint8_t zero_rnd[X0T_DSA_RND_BYTES];
  x0t_frame req;
  int32_t status = x0t_frame_decode(&X0T_FRAME_SignRequest, in, len, &req);
  if (status != X0T_STATUS_OK) return status;
  uint32_t flags = req.header[X0T_SignRequest_flags];
  if ((flags & ~X0T_DSA_FLAG_DETERMINISTIC) != 0) {
    x0t_msg_begin();
    x0t_msg_str("sign: unsupported flags ");
    x0t_msg_u64(flags);
    x0t_msg_str(" (only bit 0, deterministic, is defined)");
    return x0t_msg_fail(X0T_STATUS_UNSUPPORTED);
  }
  uint32_t sk_len = req.count[X0T_SignRequest_secretKey];
  uint32_t ctx_len = req.count[X0T_SignRequest_context];
  if (sk_len != X0T_DSA_SK_BYTES) return x0t_dsa_wrong_length("sign: secret key", sk_len, X0T_DSA_SK_BYTES);
  if (ctx_len > X0T_DSA_MAX_CONTEXT) return x0t_dsa_context_too_long("sign", ctx_len);
  uint8_t *sig = x0t_out_reserve(X0T_DSA_SIG_BYTES);
  if (sig == NULL) return x0t_fail(X0T_STATUS_INTERNAL, "sign: output does not fit in memory");
  if (flags & X0T_DSA_FLAG_DETERMINISTIC) x0t_rng_serve(zero_rnd, sizeof zero_rnd);
  size_t sig_len = 0;
  int rc = X0T_PQ(_crypto_sign_signature_ctx)(sig, &sig_len, req.section[X0T_SignRequest_message],
                                             req.count[X0T_SignRequest_message], req.section[X0T_SignRequest_context],
                                             ctx_len, req.section[X0T_SignRequest_secretKey]);
  if (rc != 0 || sig_len != X0T_DSA_SIG_BYTES) return x0t_fail(X0T_STATUS_INTERNAL, "sign: signing failed");
  return X0T_STATUS_OK;
}

static int32_t x0t_dsa_verify(const uint8_t *in, uint32_t len) {
  x0t_frame req;
  int32_t status = x0t_frame_decode(&X0T_FRAME_VerifyRequest, in, len, &req);
  if (status != X0T_STATUS_OK) return status;
  uint32_t pk_len = req.count[X0T_VerifyRequest_publicKey];
  uint32_t ctx_len = req.count[X0T_VerifyRequest_context];
  uint32_t sig_len = req.count[X0T_VerifyRequest_signature];
  if (pk_len != X0T_DSA_PK_BYTES) return x0t_dsa_wrong_length("verify: public key", pk_len, X0T_DSA_PK_BYTES);
  if (ctx_len > X0T_DSA_MAX_CONTEXT) return x0t_dsa_context_too_long("verify", ctx_len);
  uint8_t valid = 0;
  if (sig_len == X0T_DSA_SIG_BYTES) {
    valid = X0T_PQ(_crypto_sign_verify_ctx)(req.section[X0T_VerifyRequest_signature], sig_len,
                                           req.section[X0T_VerifyRequest_message], req.count[X0T_VerifyRequest_message],
                                           req.section[X0T_VerifyRequest_context], ctx_len,
                                           req.section[X0T_VerifyRequest_publicKey]) == 0;
  }
  uint8_t *out = x0t_out_reserve(1);
  if (out == NULL) return x0t_fail(X0T_STATUS_INTERNAL, "verify: output does not fit in memory");
  out[0] = valid;
  return X0T_STATUS_OK;
}

X0T_EXPORT(signer_info, x0t_dsa_info)
X0T_EXPORT(keygen, x0t_dsa_keygen)
X0T_EXPORT(keygen_from_seed, x0t_dsa_keygen_from_seed)
X0T_EXPORT(sign, x0t_dsa_sign)
X0T_EXPORT(verify, x0t_dsa_verify)

#endif
