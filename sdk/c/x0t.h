/*
 * The x0tta6bl4 plugin ABI for C plugins (docs/PLUGIN-ABI.md): the fast path (x0t_abi_version, x0t_input,
 * x0t_call_<fn>, x0t_output_ptr, x0t_output_len) and an Extism twin <fn> per function, binary frames, and the
 * host's randomness. The C counterpart of sdk/as; sdk/c/x0t.c implements it.
 *
 * A plugin writes one implementation per function of its capability,
 *
 *     static int32_t my_encaps(const uint8_t *in, uint32_t len) { ... return X0T_STATUS_OK; }
 *
 * that reads its `len` input bytes at `in`, writes its result with x0t_out_reserve / x0t_frame_write, or reports
 * a failure with `return x0t_fail(X0T_STATUS_BAD_INPUT, "why")`; then it exports it with X0T_EXPORT(encaps,
 * my_encaps), which defines both `x0t_call_encaps` and the Extism twin `encaps`.
 *
 * Built by sdk/tools/build-plugins.ts (plugin.json `"build": {"language": "c" or "c++", ...}`) with clang for
 * wasm32-wasi, without WASI: the module may import only the Extism kernel and what its manifest grants.
 */
#ifndef X0T_H
#define X0T_H

#include <stddef.h>
#include <stdint.h>

/* C++ plugins (e.g. plugins/hnsw) see the same C symbols. */
#ifdef __cplusplus
extern "C" {
#endif

#define X0T_EXPORT_AS(name) __attribute__((export_name(name), used))
#define X0T_IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

/* ------------------------------------------------------------------------------------------------------------- */
/* Calls */

/** One function's implementation: input bytes in, status out (output through x0t_out_* / x0t_fail). */
typedef int32_t (*x0t_impl)(const uint8_t *in, uint32_t len);

/** Runs `impl` on the fast-path input (used by X0T_EXPORT; `fn` names the export in error messages). */
int32_t x0t_fast_call(x0t_impl impl, int32_t len, const char *fn);
/** Runs `impl` as an Extism export: input through the kernel, output_set, or error_set and 1 on failure. */
int32_t x0t_extism_call(x0t_impl impl);

/** Defines the fast-path export `x0t_call_<fn>` and the Extism twin `<fn>` for implementation `impl`. */
#define X0T_EXPORT(fn, impl)                                                                \
  X0T_EXPORT_AS("x0t_call_" #fn) int32_t x0t_export_fast_##fn(int32_t len) {                \
    return x0t_fast_call((impl), len, "x0t_call_" #fn);                                    \
  }                                                                                         \
  X0T_EXPORT_AS(#fn) int32_t x0t_export_twin_##fn(void) { return x0t_extism_call((impl)); }

/* ------------------------------------------------------------------------------------------------------------- */
/* Output */

/** Makes the output exactly `n` bytes and returns them to fill (not cleared), or NULL when memory cannot grow. */
uint8_t *x0t_out_reserve(uint32_t n);

/** Reports a failure: the output becomes `message` (UTF-8) and `status` is returned. */
int32_t x0t_fail(int32_t status, const char *message);

/*
 * Building a failure message without printf: x0t_msg_begin(), then x0t_msg_str / x0t_msg_u64 pieces, then
 * `return x0t_msg_fail(status)`. Messages longer than 511 bytes are cut.
 */
void x0t_msg_begin(void);
void x0t_msg_str(const char *s);
void x0t_msg_u64(uint64_t v);
int32_t x0t_msg_fail(int32_t status);

/* ------------------------------------------------------------------------------------------------------------- */
/* Frames: u32 magic | u32 header fields | pad to 8 | sections, each padded to 8 (little-endian). */

#define X0T_MAX_HEADER 8
#define X0T_MAX_SECTIONS 8
#define X0T_MAX_FACTORS 3

typedef struct {
  const char *name;
  /** Element size in bytes (1 for u8, 4 for f32/u32/i32, 8 for f64). */
  uint8_t elem_bytes;
  /** The section has the product of these header fields (indexes into the header) elements. */
  uint8_t factor_count;
  uint8_t factors[X0T_MAX_FACTORS];
} x0t_section_layout;

typedef struct {
  const char *name;
  const char *magic_text;
  uint32_t magic;
  uint8_t header_count;
  const char *const *header_names;
  uint8_t section_count;
  const x0t_section_layout *sections;
} x0t_frame_layout;

/** A decoded (or written) frame: header values, and each section's address and element count. */
typedef struct {
  uint32_t header[X0T_MAX_HEADER];
  uint8_t *section[X0T_MAX_SECTIONS];
  uint32_t count[X0T_MAX_SECTIONS];
} x0t_frame;

/**
 * Decodes the frame of `len` bytes at `p` exactly as the generated codecs do: the magic, and a length equal to what
 * the header describes (computed without overflow). Returns X0T_STATUS_OK, or X0T_STATUS_BAD_INPUT with the reason
 * as the output.
 */
int32_t x0t_frame_decode(const x0t_frame_layout *layout, const uint8_t *p, uint32_t len, x0t_frame *out);

/**
 * Makes the output one frame with header `header` (layout->header_count values) and returns its sections in `out`
 * to fill (padding already zero). Returns X0T_STATUS_OK, or a failure status with its message as the output.
 */
int32_t x0t_frame_write(const x0t_frame_layout *layout, const uint32_t *header, x0t_frame *out);

/* Status codes, magics and the contract's frame layouts. */
#include "x0t-contract.h"

/* ------------------------------------------------------------------------------------------------------------- */
/* Randomness: `random_fill` from x0t:host/env (manifest permission "random") is the only source. */

/** Fills `n` bytes at `out` from the host's CSPRNG (small requests through a pool refilled 512 bytes at a time). */
void x0t_random(uint8_t *out, size_t n);

/**
 * Until the current call ends, PQCLEAN_randombytes serves the `n` bytes at `bytes` (a seed, or fixed signing
 * randomness) instead of the host's CSPRNG. Asking for more than `n` bytes makes x0t_rng_overrun() true.
 */
void x0t_rng_serve(const uint8_t *bytes, size_t n);
/** Whether PQCLEAN_randombytes was asked for more than the served bytes (a bug in the plugin: fail internal). */
int x0t_rng_overrun(void);
/** Back to the host's CSPRNG (done automatically before every call). */
void x0t_rng_reset(void);

/** Zeroes `n` bytes at `p` in a way the compiler cannot drop (for keys and seeds about to go out of scope). */
void x0t_wipe(void *p, size_t n);

/** Little-endian loads and stores at any alignment. */
static inline uint32_t x0t_load_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void x0t_store_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

#ifdef __cplusplus
}
#endif

#endif
