/*
 * The x0tta6bl4 plugin ABI for C (see x0t.h and docs/PLUGIN-ABI.md): fast-path core exports, the Extism twins'
 * glue, output and failure messages, frame decoding and writing, and the only randomness a plugin gets.
 *
 * Memory: the input and output buffers come from wasi-libc's malloc (which only grows memory, never imports),
 * are reused between calls and grow on demand. Nothing here calls into WASI.
 */
#include "x0t.h"

#include <stdlib.h>
#include <string.h>

/* wasi-libc's (musl's) explicit_bzero: a memset the compiler may not drop as a dead store. */
void explicit_bzero(void *p, size_t n);

void x0t_wipe(void *p, size_t n) {
  if (n > 0) explicit_bzero(p, n);
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Host functions */

X0T_IMPORT("extism:host/env", "input_length") uint64_t x0t_kernel_input_length(void);
X0T_IMPORT("extism:host/env", "input_load_u8") uint8_t x0t_kernel_input_load_u8(uint64_t offs);
X0T_IMPORT("extism:host/env", "input_load_u64") uint64_t x0t_kernel_input_load_u64(uint64_t offs);
X0T_IMPORT("extism:host/env", "alloc") uint64_t x0t_kernel_alloc(uint64_t n);
X0T_IMPORT("extism:host/env", "store_u8") void x0t_kernel_store_u8(uint64_t offs, uint8_t v);
X0T_IMPORT("extism:host/env", "store_u64") void x0t_kernel_store_u64(uint64_t offs, uint64_t v);
X0T_IMPORT("extism:host/env", "output_set") void x0t_kernel_output_set(uint64_t offs, uint64_t n);
X0T_IMPORT("extism:host/env", "error_set") void x0t_kernel_error_set(uint64_t offs);
X0T_IMPORT("x0t:host/env", "random_fill") void x0t_host_random_fill(uint8_t *ptr, uint32_t len);

/* ------------------------------------------------------------------------------------------------------------- */
/* Input */

static uint8_t *in_buf;
static uint32_t in_cap;

/* At least `len` bytes for the next input (contents undefined), or NULL when memory cannot grow. */
static uint8_t *input_reserve(uint32_t len) {
  if (in_buf != NULL && len <= in_cap) return in_buf;
  if (in_buf != NULL) x0t_wipe(in_buf, in_cap); /* it may have held keys */
  free(in_buf);
  uint32_t cap = len < 256 ? 256 : len;
  if (cap < UINT32_MAX - 7) cap = (cap + 7) & ~7u;
  in_buf = malloc(cap);
  in_cap = in_buf == NULL ? 0 : cap;
  return in_buf;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Output */

static uint8_t *out_buf;
static uint32_t out_cap;
static const uint8_t *out_ptr;
static uint32_t out_len;
/* Where a failure message goes when the output buffer cannot grow. */
static uint8_t fallback[512];

uint8_t *x0t_out_reserve(uint32_t n) {
  if (out_buf == NULL || n > out_cap) {
    if (out_buf != NULL) x0t_wipe(out_buf, out_cap); /* it may have held keys */
    free(out_buf);
    uint32_t cap = n < 256 ? 256 : n;
    out_buf = malloc(cap);
    out_cap = out_buf == NULL ? 0 : cap;
    if (out_buf == NULL) {
      out_ptr = fallback;
      out_len = 0;
      return NULL;
    }
  }
  out_ptr = out_buf;
  out_len = n;
  return out_buf;
}

int32_t x0t_fail(int32_t status, const char *message) {
  uint32_t n = (uint32_t)strlen(message);
  uint8_t *p = x0t_out_reserve(n);
  if (p != NULL) {
    memcpy(p, message, n);
  } else {
    if (n > sizeof fallback) n = sizeof fallback;
    memcpy(fallback, message, n);
    out_ptr = fallback;
    out_len = n;
  }
  return status;
}

static char msg[512];
static uint32_t msg_len;

void x0t_msg_begin(void) { msg_len = 0; }

void x0t_msg_str(const char *s) {
  while (*s != 0 && msg_len < sizeof msg - 1) msg[msg_len++] = *s++;
}

void x0t_msg_u64(uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0 && msg_len < sizeof msg - 1) msg[msg_len++] = digits[--n];
}

int32_t x0t_msg_fail(int32_t status) {
  msg[msg_len] = 0;
  return x0t_fail(status, msg);
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Fast path core */

X0T_EXPORT_AS("x0t_abi_version") int32_t x0t_abi_version(void) { return X0T_ABI_VERSION; }

X0T_EXPORT_AS("x0t_input") int32_t x0t_input(int32_t len) {
  if (len < 0) return 0;
  return (int32_t)(uintptr_t)input_reserve((uint32_t)len);
}

X0T_EXPORT_AS("x0t_output_ptr") int32_t x0t_output_ptr(void) { return (int32_t)(uintptr_t)out_ptr; }

X0T_EXPORT_AS("x0t_output_len") int32_t x0t_output_len(void) { return (int32_t)out_len; }

/* ------------------------------------------------------------------------------------------------------------- */
/* Randomness */

static const uint8_t *rng_src;
static size_t rng_left;
static int rng_serving;
static int rng_over;

/*
 * Small requests are served from a pool refilled from the host's CSPRNG (one host call per 512 bytes instead of one
 * per request: a call into the host costs about as much as a SHA-3 block). Served bytes are wiped from the pool.
 */
#define POOL_BYTES 512
static uint8_t pool[POOL_BYTES];
static uint32_t pool_left;

static void host_random(uint8_t *out, size_t n) {
  while (n > 0) {
    uint32_t chunk = n > 65536 ? 65536 : (uint32_t)n;
    x0t_host_random_fill(out, chunk);
    out += chunk;
    n -= chunk;
  }
}

void x0t_random(uint8_t *out, size_t n) {
  if (n > POOL_BYTES / 4) {
    host_random(out, n);
    return;
  }
  if (n > pool_left) {
    host_random(pool, POOL_BYTES);
    pool_left = POOL_BYTES;
  }
  uint8_t *from = pool + (POOL_BYTES - pool_left);
  memcpy(out, from, n);
  x0t_wipe(from, n);
  pool_left -= (uint32_t)n;
}

void x0t_rng_serve(const uint8_t *bytes, size_t n) {
  rng_src = bytes;
  rng_left = n;
  rng_serving = 1;
  rng_over = 0;
}

int x0t_rng_overrun(void) { return rng_over; }

void x0t_rng_reset(void) {
  rng_src = NULL;
  rng_left = 0;
  rng_serving = 0;
  rng_over = 0;
}

/* PQClean's randomness hook (common/randombytes.h): served bytes when a call set them, else the host's CSPRNG. */
int PQCLEAN_randombytes(uint8_t *output, size_t n);
int PQCLEAN_randombytes(uint8_t *output, size_t n) {
  if (!rng_serving) {
    x0t_random(output, n);
    return 0;
  }
  if (n > rng_left) {
    rng_over = 1;
    memset(output, 0, n);
    rng_left = 0;
    return 0;
  }
  memcpy(output, rng_src, n);
  rng_src += n;
  rng_left -= n;
  return 0;
}

/*
 * wasi-libc's exit() ends in _Exit(), which calls the WASI import proc_exit that a plugin may not have. PQClean calls
 * exit() only when malloc fails (common/fips202.c); a trap ends the call and the host reports the memory limit.
 */
_Noreturn void _Exit(int status) {
  (void)status;
  __builtin_trap();
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Calls */

/*
 * Inputs and outputs hold keys: each call wipes its input when it ends and the previous call's output (which the host
 * has copied out by then) when it begins, so secrets do not linger in the buffers between calls.
 */
static void begin_call(void) {
  if (out_buf != NULL && out_ptr == out_buf && out_len <= out_cap) x0t_wipe(out_buf, out_len);
  out_ptr = out_buf != NULL ? out_buf : fallback;
  out_len = 0;
  x0t_rng_reset();
}

static int32_t end_call(int32_t status, uint8_t *input, uint32_t len) {
  if (rng_over) status = x0t_fail(X0T_STATUS_INTERNAL, "randomness requested beyond the bytes the call supplied");
  x0t_rng_reset();
  x0t_wipe(input, len);
  return status;
}

int32_t x0t_fast_call(x0t_impl impl, int32_t len, const char *fn) {
  begin_call();
  if (len < 0 || in_buf == NULL || (uint32_t)len > in_cap) {
    x0t_msg_begin();
    x0t_msg_str(fn);
    x0t_msg_str(": length exceeds the x0t_input buffer");
    return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
  }
  return end_call(impl(in_buf, (uint32_t)len), in_buf, (uint32_t)len);
}

/* Copies `n` bytes at `p` into new kernel memory; returns its offset. */
static uint64_t to_kernel(const uint8_t *p, uint32_t n) {
  uint64_t offs = x0t_kernel_alloc(n);
  uint32_t words = n & ~7u;
  uint32_t i = 0;
  for (; i < words; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    x0t_kernel_store_u64(offs + i, w);
  }
  for (; i < n; i++) x0t_kernel_store_u8(offs + i, p[i]);
  return offs;
}

/* Sets the Extism error to "<prefix><message>" (as the AssemblyScript SDK does: "badInput: ..."). */
static void extism_error(const char *prefix, const uint8_t *text, uint32_t n) {
  uint32_t k = (uint32_t)strlen(prefix);
  uint64_t offs = x0t_kernel_alloc((uint64_t)k + n);
  for (uint32_t i = 0; i < k; i++) x0t_kernel_store_u8(offs + i, (uint8_t)prefix[i]);
  for (uint32_t i = 0; i < n; i++) x0t_kernel_store_u8(offs + k + i, text[i]);
  x0t_kernel_error_set(offs);
}

int32_t x0t_extism_call(x0t_impl impl) {
  begin_call();
  uint64_t n = x0t_kernel_input_length();
  uint8_t *p = n > UINT32_MAX ? NULL : input_reserve((uint32_t)n);
  if (p == NULL) {
    static const char oom[] = "input does not fit in plugin memory";
    extism_error("internal: ", (const uint8_t *)oom, sizeof oom - 1);
    return 1;
  }
  uint64_t words = n & ~(uint64_t)7;
  uint64_t i = 0;
  for (; i < words; i += 8) {
    uint64_t w = x0t_kernel_input_load_u64(i);
    memcpy(p + i, &w, 8);
  }
  for (; i < n; i++) p[i] = x0t_kernel_input_load_u8(i);
  int32_t status = end_call(impl(p, (uint32_t)n), p, (uint32_t)n);
  if (status == X0T_STATUS_OK) {
    x0t_kernel_output_set(to_kernel(out_ptr, out_len), out_len);
    return 0;
  }
  const char *prefix = status == X0T_STATUS_BAD_INPUT     ? "badInput: "
                       : status == X0T_STATUS_INTERNAL    ? "internal: "
                       : status == X0T_STATUS_UNSUPPORTED ? "unsupported: "
                                                          : "status: ";
  extism_error(prefix, out_ptr, out_len);
  return 1;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* Frames */

#define SATURATED UINT64_MAX

static uint64_t mul_sat(uint64_t a, uint64_t b) { return b != 0 && a > SATURATED / b ? SATURATED : a * b; }

static uint64_t add_section(uint64_t total, uint64_t count, uint64_t size) {
  if (count > ((uint64_t)1 << 32)) return SATURATED;
  uint64_t bytes = (count * size + 7) & ~(uint64_t)7;
  uint64_t sum = total + bytes;
  return sum < total ? SATURATED : sum;
}

static uint32_t header_bytes(const x0t_frame_layout *layout) { return (4 + 4 * (uint32_t)layout->header_count + 7) & ~7u; }

static uint64_t section_count(const x0t_section_layout *s, const uint32_t *header) {
  uint64_t count = 1;
  for (uint8_t f = 0; f < s->factor_count; f++) count = mul_sat(count, header[s->factors[f]]);
  return count;
}

/* Total frame bytes for these header values (SATURATED beyond any u64). */
static uint64_t frame_bytes(const x0t_frame_layout *layout, const uint32_t *header, uint64_t *counts) {
  uint64_t total = header_bytes(layout);
  for (uint8_t s = 0; s < layout->section_count; s++) {
    counts[s] = section_count(&layout->sections[s], header);
    total = add_section(total, counts[s], layout->sections[s].elem_bytes);
  }
  return total;
}

/* Sets section addresses for a frame at `p` whose length was checked. */
static void place(const x0t_frame_layout *layout, uint8_t *p, const uint64_t *counts, x0t_frame *out) {
  uint32_t at = header_bytes(layout);
  for (uint8_t s = 0; s < layout->section_count; s++) {
    uint32_t n = (uint32_t)counts[s] * layout->sections[s].elem_bytes;
    out->section[s] = p + at;
    out->count[s] = (uint32_t)counts[s];
    at += (n + 7) & ~7u;
  }
}

int32_t x0t_frame_decode(const x0t_frame_layout *layout, const uint8_t *p, uint32_t len, x0t_frame *out) {
  uint32_t hb = header_bytes(layout);
  if (len < hb) {
    x0t_msg_begin();
    x0t_msg_str(layout->name);
    x0t_msg_str(": frame is ");
    x0t_msg_u64(len);
    x0t_msg_str(" bytes, shorter than its ");
    x0t_msg_u64(hb);
    x0t_msg_str("-byte header");
    return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
  }
  if (x0t_load_u32(p) != layout->magic) {
    x0t_msg_begin();
    x0t_msg_str(layout->name);
    x0t_msg_str(": bad magic, expected ");
    x0t_msg_str(layout->magic_text);
    return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
  }
  for (uint8_t i = 0; i < layout->header_count; i++) out->header[i] = x0t_load_u32(p + 4 + 4 * (uint32_t)i);
  uint64_t counts[X0T_MAX_SECTIONS];
  uint64_t total = frame_bytes(layout, out->header, counts);
  if (total != len) {
    x0t_msg_begin();
    x0t_msg_str(layout->name);
    x0t_msg_str(": frame is ");
    x0t_msg_u64(len);
    x0t_msg_str(" bytes but its header (");
    for (uint8_t i = 0; i < layout->header_count; i++) {
      if (i > 0) x0t_msg_str(", ");
      x0t_msg_str(layout->header_names[i]);
      x0t_msg_str("=");
      x0t_msg_u64(out->header[i]);
    }
    x0t_msg_str(") describes ");
    if (total == SATURATED) x0t_msg_str("more than 4 GiB");
    else x0t_msg_u64(total);
    return x0t_msg_fail(X0T_STATUS_BAD_INPUT);
  }
  place(layout, (uint8_t *)p, counts, out);
  return X0T_STATUS_OK;
}

int32_t x0t_frame_write(const x0t_frame_layout *layout, const uint32_t *header, x0t_frame *out) {
  uint64_t counts[X0T_MAX_SECTIONS];
  uint64_t total = frame_bytes(layout, header, counts);
  if (total > UINT32_MAX) {
    x0t_msg_begin();
    x0t_msg_str(layout->name);
    x0t_msg_str(": output frame larger than 4 GiB");
    return x0t_msg_fail(X0T_STATUS_INTERNAL);
  }
  uint8_t *p = x0t_out_reserve((uint32_t)total);
  if (p == NULL) {
    x0t_msg_begin();
    x0t_msg_str(layout->name);
    x0t_msg_str(": output does not fit in memory");
    return x0t_msg_fail(X0T_STATUS_INTERNAL);
  }
  uint32_t hb = header_bytes(layout);
  memset(p, 0, hb);
  x0t_store_u32(p, layout->magic);
  for (uint8_t i = 0; i < layout->header_count; i++) {
    out->header[i] = header[i];
    x0t_store_u32(p + 4 + 4 * (uint32_t)i, header[i]);
  }
  place(layout, p, counts, out);
  for (uint8_t s = 0; s < layout->section_count; s++) {
    uint32_t n = out->count[s] * layout->sections[s].elem_bytes;
    uint32_t padded = (n + 7) & ~7u;
    if (padded > n) memset(out->section[s] + n, 0, padded - n);
  }
  return X0T_STATUS_OK;
}

/* ------------------------------------------------------------------------------------------------------------- */
/* The contract's frame layouts (x0t-contract.h) */

#define U8(name, field) {name, 1, 1, {field, 0, 0}}

static const char *const F32Vector_h[] = {"len"};
static const x0t_section_layout F32Vector_s[] = {{"values", 4, 1, {0, 0, 0}}};
const x0t_frame_layout X0T_FRAME_F32Vector = {"F32Vector", "F32V", X0T_MAGIC_F32Vector, 1, F32Vector_h, 1, F32Vector_s};

static const char *const F64Vector_h[] = {"len"};
static const x0t_section_layout F64Vector_s[] = {{"values", 8, 1, {0, 0, 0}}};
const x0t_frame_layout X0T_FRAME_F64Vector = {"F64Vector", "F64V", X0T_MAGIC_F64Vector, 1, F64Vector_h, 1, F64Vector_s};

static const char *const AggregateRequest_h[] = {"clients", "dim"};
static const x0t_section_layout AggregateRequest_s[] = {{"weights", 4, 1, {0, 0, 0}}, {"updates", 4, 2, {0, 1, 0}}};
const x0t_frame_layout X0T_FRAME_AggregateRequest = {
    "AggregateRequest", "AGR1", X0T_MAGIC_AggregateRequest, 2, AggregateRequest_h, 2, AggregateRequest_s};

static const char *const KemInfo_h[] = {"publicKeyBytes", "secretKeyBytes", "ciphertextBytes",
                                        "sharedSecretBytes", "seedBytes", "randomnessBytes"};
const x0t_frame_layout X0T_FRAME_KemInfo = {"KemInfo", "KEMI", X0T_MAGIC_KemInfo, 6, KemInfo_h, 0, NULL};

static const char *const SignerInfo_h[] = {"publicKeyBytes", "secretKeyBytes", "signatureBytes", "seedBytes",
                                           "maxContextBytes"};
const x0t_frame_layout X0T_FRAME_SignerInfo = {"SignerInfo", "SIGI", X0T_MAGIC_SignerInfo, 5, SignerInfo_h, 0, NULL};

static const char *const KeyPair_h[] = {"publicKeyLen", "secretKeyLen"};
static const x0t_section_layout KeyPair_s[] = {U8("publicKey", 0), U8("secretKey", 1)};
const x0t_frame_layout X0T_FRAME_KeyPair = {"KeyPair", "KEYP", X0T_MAGIC_KeyPair, 2, KeyPair_h, 2, KeyPair_s};

static const char *const EncapsRequest_h[] = {"publicKeyLen", "randomnessLen"};
static const x0t_section_layout EncapsRequest_s[] = {U8("publicKey", 0), U8("randomness", 1)};
const x0t_frame_layout X0T_FRAME_EncapsRequest = {
    "EncapsRequest", "KENC", X0T_MAGIC_EncapsRequest, 2, EncapsRequest_h, 2, EncapsRequest_s};

static const char *const Encapsulation_h[] = {"ciphertextLen", "sharedSecretLen"};
static const x0t_section_layout Encapsulation_s[] = {U8("ciphertext", 0), U8("sharedSecret", 1)};
const x0t_frame_layout X0T_FRAME_Encapsulation = {
    "Encapsulation", "KENR", X0T_MAGIC_Encapsulation, 2, Encapsulation_h, 2, Encapsulation_s};

static const char *const DecapsRequest_h[] = {"secretKeyLen", "ciphertextLen"};
static const x0t_section_layout DecapsRequest_s[] = {U8("secretKey", 0), U8("ciphertext", 1)};
const x0t_frame_layout X0T_FRAME_DecapsRequest = {
    "DecapsRequest", "KDEC", X0T_MAGIC_DecapsRequest, 2, DecapsRequest_h, 2, DecapsRequest_s};

static const char *const SignRequest_h[] = {"flags", "secretKeyLen", "contextLen", "messageLen"};
static const x0t_section_layout SignRequest_s[] = {U8("secretKey", 1), U8("context", 2), U8("message", 3)};
const x0t_frame_layout X0T_FRAME_SignRequest = {
    "SignRequest", "SIGN", X0T_MAGIC_SignRequest, 4, SignRequest_h, 3, SignRequest_s};

static const char *const VerifyRequest_h[] = {"publicKeyLen", "contextLen", "messageLen", "signatureLen"};
static const x0t_section_layout VerifyRequest_s[] = {U8("publicKey", 0), U8("context", 1), U8("message", 2),
                                                     U8("signature", 3)};
const x0t_frame_layout X0T_FRAME_VerifyRequest = {
    "VerifyRequest", "VRFY", X0T_MAGIC_VerifyRequest, 4, VerifyRequest_h, 4, VerifyRequest_s};

static const char *const TrainerInfo_h[] = {"maxInputs", "maxHidden", "maxClasses", "maxRank", "maxBatch", "maxSamples", "features"};
const x0t_frame_layout X0T_FRAME_TrainerInfo = {
    "TrainerInfo", "TRNI", X0T_MAGIC_TrainerInfo, 7, TrainerInfo_h, 0, NULL};

static const char *const TrainerInit_h[] = {"inputs", "hidden", "classes", "rank", "seed"};
const x0t_frame_layout X0T_FRAME_TrainerInit = {
    "TrainerInit", "TRIN", X0T_MAGIC_TrainerInit, 5, TrainerInit_h, 0, NULL};

static const char *const TrainRequest_h[] = {"inputs", "hidden", "classes", "rank", "mode", "steps", "batch", "seed", "samples", "hyperLen", "paramsLen", "adaptersLen"};
static const x0t_section_layout TrainRequest_s[] = {{"hyper", 4, 1, {9, 0, 0}}, {"params", 4, 1, {10, 0, 0}}, {"adapters", 4, 1, {11, 0, 0}}, {"x", 4, 2, {8, 0, 0}}, {"y", 4, 1, {8, 0, 0}}};
const x0t_frame_layout X0T_FRAME_TrainRequest = {
    "TrainRequest", "TRNQ", X0T_MAGIC_TrainRequest, 12, TrainRequest_h, 5, TrainRequest_s};

static const char *const TrainResult_h[] = {"steps", "deltaLen"};
static const x0t_section_layout TrainResult_s[] = {{"losses", 4, 1, {0, 0, 0}}, {"delta", 4, 1, {1, 0, 0}}};
const x0t_frame_layout X0T_FRAME_TrainResult = {
    "TrainResult", "TRNR", X0T_MAGIC_TrainResult, 2, TrainResult_h, 2, TrainResult_s};

static const char *const EvaluateRequest_h[] = {"inputs", "hidden", "classes", "rank", "samples", "hyperLen", "paramsLen", "adaptersLen"};
static const x0t_section_layout EvaluateRequest_s[] = {{"hyper", 4, 1, {5, 0, 0}}, {"params", 4, 1, {6, 0, 0}}, {"adapters", 4, 1, {7, 0, 0}}, {"x", 4, 2, {4, 0, 0}}, {"y", 4, 1, {4, 0, 0}}};
const x0t_frame_layout X0T_FRAME_EvaluateRequest = {
    "EvaluateRequest", "TEVQ", X0T_MAGIC_EvaluateRequest, 8, EvaluateRequest_h, 5, EvaluateRequest_s};

static const char *const EvaluateResult_h[] = {"count", "correct"};
static const x0t_section_layout EvaluateResult_s[] = {{"losses", 4, 1, {0, 0, 0}}, {"predicted", 4, 1, {0, 0, 0}}};
const x0t_frame_layout X0T_FRAME_EvaluateResult = {
    "EvaluateResult", "TEVR", X0T_MAGIC_EvaluateResult, 2, EvaluateResult_h, 2, EvaluateResult_s};

static const char *const IndexConfig_h[] = {"dim", "metric", "m", "efConstruction", "efSearch", "capacity", "seed"};
const x0t_frame_layout X0T_FRAME_IndexConfig = {"IndexConfig", "HNC1", X0T_MAGIC_IndexConfig, 7, IndexConfig_h, 0, NULL};

static const char *const IndexInfo_h[] = {"dim", "metric", "m", "efConstruction", "efSearch", "capacity", "count", "deleted", "memoryBytes"};
const x0t_frame_layout X0T_FRAME_IndexInfo = {"IndexInfo", "HNI1", X0T_MAGIC_IndexInfo, 9, IndexInfo_h, 0, NULL};

static const char *const IndexAdd_h[] = {"count", "dim"};
static const x0t_section_layout IndexAdd_s[] = {{"labels", 4, 1, {0, 0, 0}}, {"vectors", 4, 2, {0, 1, 0}}};
const x0t_frame_layout X0T_FRAME_IndexAdd = {"IndexAdd", "HNA1", X0T_MAGIC_IndexAdd, 2, IndexAdd_h, 2, IndexAdd_s};

static const char *const LabelList_h[] = {"count"};
static const x0t_section_layout LabelList_s[] = {{"labels", 4, 1, {0, 0, 0}}};
const x0t_frame_layout X0T_FRAME_LabelList = {"LabelList", "LBL1", X0T_MAGIC_LabelList, 1, LabelList_h, 1, LabelList_s};

static const char *const SearchRequest_h[] = {"queries", "dim", "k", "ef", "filterBytes"};
static const x0t_section_layout SearchRequest_s[] = {{"vectors", 4, 2, {0, 1, 0}}, {"filter", 1, 1, {4, 0, 0}}};
const x0t_frame_layout X0T_FRAME_SearchRequest = {"SearchRequest", "HNQ1", X0T_MAGIC_SearchRequest, 5, SearchRequest_h, 2, SearchRequest_s};

static const char *const SearchResult_h[] = {"queries", "k"};
static const x0t_section_layout SearchResult_s[] = {{"labels", 4, 2, {0, 1, 0}}, {"distances", 4, 2, {0, 1, 0}}};
const x0t_frame_layout X0T_FRAME_SearchResult = {"SearchResult", "HNR1", X0T_MAGIC_SearchResult, 2, SearchResult_h, 2, SearchResult_s};

static const char *const IndexChunk_h[] = {"totalBytes", "offset", "len"};
static const x0t_section_layout IndexChunk_s[] = {{"data", 1, 1, {2, 0, 0}}};
const x0t_frame_layout X0T_FRAME_IndexChunk = {"IndexChunk", "HNK1", X0T_MAGIC_IndexChunk, 3, IndexChunk_h, 1, IndexChunk_s};

static const char *const SaveRequest_h[] = {"offset", "maxBytes"};
const x0t_frame_layout X0T_FRAME_SaveRequest = {"SaveRequest", "HNW1", X0T_MAGIC_SaveRequest, 2, SaveRequest_h, 0, NULL};

static const char *const EmbedderInfo_h[] = {"dim", "maxInputUnits", "normalized"};
const x0t_frame_layout X0T_FRAME_EmbedderInfo = {"EmbedderInfo", "EMBI", X0T_MAGIC_EmbedderInfo, 3, EmbedderInfo_h, 0, NULL};

static const char *const TextBatch_h[] = {"count", "bytesLen", "weightsLen"};
static const x0t_section_layout TextBatch_s[] = {{"ends", 4, 1, {0, 0, 0}}, {"utf8", 1, 1, {1, 0, 0}}, {"weights", 4, 1, {2, 0, 0}}};
const x0t_frame_layout X0T_FRAME_TextBatch = {"TextBatch", "TXB1", X0T_MAGIC_TextBatch, 3, TextBatch_h, 3, TextBatch_s};

static const char *const EmbeddingBatch_h[] = {"count", "dim"};
static const x0t_section_layout EmbeddingBatch_s[] = {{"vectors", 4, 2, {0, 1, 0}}};
const x0t_frame_layout X0T_FRAME_EmbeddingBatch = {"EmbeddingBatch", "EMBB", X0T_MAGIC_EmbeddingBatch, 2, EmbeddingBatch_h, 1, EmbeddingBatch_s};
