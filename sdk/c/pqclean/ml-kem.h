/*
 * Capability "kem" for any PQClean ML-KEM parameter set (ml-kem-512/768/1024, "clean" implementation).
 *
 * A plugin's C file defines the parameter set's PQClean namespace and includes this file once:
 *
 *     #define X0T_PQCLEAN_NAMESPACE PQCLEAN_MLKEM768_CLEAN
 *     #include "pqclean/ml-kem.h"
 *
 * with the parameter set's folder and PQClean's common/ on the include path (plugin.json "build.include") and their
 * .c files among the sources. Only an ABI shim: the lattice code is PQClean's. Adds the FIPS 203 input checks
 * PQClean leaves to the caller: the encapsulation-key modulus check (§7.2) and the decapsulation-key hash check
 * (§7.3), besides exact lengths.
 *
 *   kem_info          -> KemInfo
 *   keygen            ("" -> KeyPair)            d || z from the host's CSPRNG
 *   keygen_from_seed  (d || z, 64 bytes -> KeyPair)
 *   encaps            (EncapsRequest -> Encapsulation)  m = the 32 given bytes, or from the host's CSPRNG
 *   decaps            (DecapsRequest -> shared secret)   implicit rejection on a bad ciphertext, never an error
 */
#ifndef X0T_PQCLEAN_ML_KEM_H
#define X0T_PQCLEAN_ML_KEM_H

#ifndef X0T_PQCLEAN_NAMESPACE
#error "define X0T_PQCLEAN_NAMESPACE (e.g. PQCLEAN_MLKEM768_CLEAN) before including pqclean/ml-kem.h"
#endif

#include <string.h>

#include "x0t.h"

#include "fips202.h"
#include "kem.h"
#include "params.h"
#include "polyvec.h"

#define X0T_CAT_(a, b) a##b
#define X0T_CAT(a, b) X0T_CAT_(a, b)
#define X0T_PQ(name) X0T_CAT(X0T_PQCLEAN_NAMESPACE, name)

#define X0T_KEM_SEED_BYTES (2 * KYBER_SYMBYTES)
#define X0T_KEM_RANDOMNESS_BYTES KYBER_SYMBYTES

static int32_t x0t_kem_wrong_length(const char *what, uint32_t got, uint32_t want) {
  x0t_msg_begin();
  x0t_msg_str(what);
  x0t_msg_str(" is ");
  x0t_msg_u64(got);
  x0t_msg_str(" bytes, expected ");
  x0t_msg_u64(want);
  return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
}

static int32_t x0t_kem_info(const uint8_t *in, uint32_t len) {
  (void)in;
  (void)len;
  const uint32_t header[6] = {KYBER_PUBLICKEYBYTES, KYBER_SECRETKEYBYTES, KYBER_CIPHERTEXTBYTES,
                              KYBER_SSBYTES,        X0T_KEM_SEED_BYTES,   X0T_KEM_RANDOMNESS_BYTES};
  x0t_frame out;
  return x0t_frame_write(&X0T_FRAME_KemInfo, header, &out);
}

/* The KeyPair output frame, sections ready to fill. */
static int32_t x0t_kem_keypair_frame(x0t_frame *out) {
  const uint32_t header[2] = {KYBER_PUBLICKEYBYTES, KYBER_SECRETKEYBYTES};
  return x0t_frame_write(&X0T_FRAME_KeyPair, header, out);
}

static int32_t x0t_kem_keygen(const uint8_t *in, uint32_t len) {
  (void)in;
  if (len != 0) return x0t_kem_wrong_length("keygen: input", len, 0);
  x0t_frame out;
  int32_t status = x0t_kem_keypair_frame(&out);
  if (status != X0T_STATUS_OK) return status;
  uint8_t coins[X0T_KEM_SEED_BYTES];
  x0t_random(coins, sizeof coins);
  X0T_PQ(_crypto_kem_keypair_derand)(out.section[X0T_KeyPair_publicKey], out.section[X0T_KeyPair_secretKey], coins);
  x0t_wipe(coins, sizeof coins);
  return X0T_STATUS_OK;
}

static int32_t x0t_kem_keygen_from_seed(const uint8_t *in, uint32_t len) {
  if (len != X0T_KEM_SEED_BYTES) return x0t_kem_wrong_length("keygen_from_seed: seed (d || z)", len, X0T_KEM_SEED_BYTES);
  x0t_frame out;
  int32_t status = x0t_kem_keypair_frame(&out);
  if (status != X0T_STATUS_OK) return status;
  X0T_PQ(_crypto_kem_keypair_derand)(out.section[X0T_KeyPair_publicKey], out.section[X0T_KeyPair_secretKey], in);
  return X0T_STATUS_OK;
}

/*
 * FIPS 203 §7.2 modulus check: ByteEncode12(ByteDecode12(ek[0:384k])) == ek[0:384k], i.e. every 12-bit coefficient
 * is below q. Decoding with PQClean's own polyvec_frombytes gives the raw 12-bit values (0..4095); re-encoding them
 * with polyvec_tobytes would reproduce the bytes whatever they are, so the values themselves are compared with q.
 */
static int x0t_kem_ek_modulus_ok(const uint8_t *ek) {
  polyvec pv;
  X0T_PQ(_polyvec_frombytes)(&pv, ek);
  int16_t bad = 0;
  for (int i = 0; i < KYBER_K; i++) {
    for (int j = 0; j < KYBER_N; j++) bad |= (int16_t)(pv.vec[i].coeffs[j] >= KYBER_Q);
  }
  return bad == 0;
}

static int32_t x0t_kem_encaps(const uint8_t *in, uint32_t len) {
  x0t_frame req;
  int32_t status = x0t_frame_decode(&X0T_FRAME_EncapsRequest, in, len, &req);
  if (status != X0T_STATUS_OK) return status;
  uint32_t pk_len = req.count[X0T_EncapsRequest_publicKey];
  uint32_t m_len = req.count[X0T_EncapsRequest_randomness];
  if (pk_len != KYBER_PUBLICKEYBYTES) return x0t_kem_wrong_length("encaps: public key", pk_len, KYBER_PUBLICKEYBYTES);
  if (m_len != 0 && m_len != X0T_KEM_RANDOMNESS_BYTES) {
    x0t_msg_begin();
    x0t_msg_str("encaps: randomness is ");
    x0t_msg_u64(m_len);
    x0t_msg_str(" bytes, expected 0 (host CSPRNG) or ");
    x0t_msg_u64(X0T_KEM_RANDOMNESS_BYTES);
    return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
  }
  const uint8_t *pk = req.section[X0T_EncapsRequest_publicKey];
  if (!x0t_kem_ek_modulus_ok(pk)) {
    return x0t_fail(X0T_STATUS_BAD_INPUT, "encaps: public key fails the FIPS 203 modulus check (a coefficient is not below q)");
  }
  uint8_t m[X0T_KEM_RANDOMNESS_BYTES];
  if (m_len != 0) memcpy(m, req.section[X0T_EncapsRequest_randomness], sizeof m);
  else x0t_random(m, sizeof m);
  x0t_frame out;
  const uint32_t header[2] = {KYBER_CIPHERTEXTBYTES, KYBER_SSBYTES};
  status = x0t_frame_write(&X0T_FRAME_Encapsulation, header, &out);
  if (status == X0T_STATUS_OK) {
    X0T_PQ(_crypto_kem_enc_derand)(out.section[X0T_Encapsulation_ciphertext], out.section[X0T_Encapsulation_sharedSecret],
                                   pk, m);
  }
  x0t_wipe(m, sizeof m);
  return status;
}

static int32_t x0t_kem_decaps(const uint8_t *in, uint32_t len) {
  x0t_frame req;
  int32_t status = x0t_frame_decode(&X0T_FRAME_DecapsRequest, in, len, &req);
  if (status != X0T_STATUS_OK) return status;
  uint32_t sk_len = req.count[X0T_DecapsRequest_secretKey];
  uint32_t ct_len = req.count[X0T_DecapsRequest_ciphertext];
  if (sk_len != KYBER_SECRETKEYBYTES) return x0t_kem_wrong_length("decaps: secret key", sk_len, KYBER_SECRETKEYBYTES);
  if (ct_len != KYBER_CIPHERTEXTBYTES) return x0t_kem_wrong_length("decaps: ciphertext", ct_len, KYBER_CIPHERTEXTBYTES);
  const uint8_t *sk = req.section[X0T_DecapsRequest_secretKey];
  const uint8_t *ct = req.section[X0T_DecapsRequest_ciphertext];
  /* FIPS 203 §7.3 hash check: dk = dk_PKE || ek || H(ek) || z; H(ek) must match the embedded ek. */
  uint8_t h[KYBER_SYMBYTES];
  sha3_256(h, sk + KYBER_INDCPA_SECRETKEYBYTES, KYBER_PUBLICKEYBYTES);
  if (memcmp(h, sk + KYBER_SECRETKEYBYTES - 2 * KYBER_SYMBYTES, KYBER_SYMBYTES) != 0) {
    return x0t_fail(X0T_STATUS_BAD_INPUT, "decaps: secret key fails the FIPS 203 hash check (H(ek) does not match)");
  }
  uint8_t *out = x0t_out_reserve(KYBER_SSBYTES);
  if (out == NULL) return x0t_fail(X0T_STATUS_INTERNAL, "decaps: output does not fit in memory");
  X0T_PQ(_crypto_kem_dec)(out, ct, sk);
  return X0T_STATUS_OK;
}

X0T_EXPORT(kem_info, x0t_kem_info)
X0T_EXPORT(keygen, x0t_kem_keygen)
X0T_EXPORT(keygen_from_seed, x0t_kem_keygen_from_seed)
X0T_EXPORT(encaps, x0t_kem_encaps)
X0T_EXPORT(decaps, x0t_kem_decaps)

#endif
