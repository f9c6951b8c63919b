// Distance kernels for hnswlib on wasm32 with SIMD (wasm_simd128.h), plugged in through hnswlib's SpaceInterface.
// clang does not vectorise hnswlib's scalar loops (a strict floating-point reduction) without -ffast-math; these
// kernels keep four independent 4-lane accumulators (16 floats per step) so the adds do not wait on each other, then
// finish the last dim % 16 elements four and one at a time. Vectors in hnswlib's level-0 block are only 4-byte
// aligned, so loads are unaligned (wasm's v128.load allows any alignment).
#ifndef X0T_SIMD_DISTANCE_H
#define X0T_SIMD_DISTANCE_H

#include <stddef.h>
#include <wasm_simd128.h>

#include "hnswlib.h"

namespace x0t {

static inline float horizontal_sum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) +
         wasm_f32x4_extract_lane(v, 3);
}

/** Σ a[i]·b[i]. */
static inline float dot(const float *a, const float *b, size_t dim) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8)));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12)));
  }
  for (; i + 4 <= dim; i += 4) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  float sum = horizontal_sum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  for (; i < dim; i++) sum += a[i] * b[i];
  return sum;
}

/** Σ (a[i] − b[i])². */
static inline float squared_l2(const float *a, const float *b, size_t dim) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    v128_t d0 = wasm_f32x4_sub(wasm_v128_load(a + i), wasm_v128_load(b + i));
    v128_t d1 = wasm_f32x4_sub(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4));
    v128_t d2 = wasm_f32x4_sub(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8));
    v128_t d3 = wasm_f32x4_sub(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12));
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(d0, d0));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(d1, d1));
    s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(d2, d2));
    s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(d3, d3));
  }
  for (; i + 4 <= dim; i += 4) {
    v128_t d = wasm_f32x4_sub(wasm_v128_load(a + i), wasm_v128_load(b + i));
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(d, d));
  }
  float sum = horizontal_sum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  for (; i < dim; i++) {
    float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

/** hnswlib's distance signature: the third argument points at the dimension (a size_t). */
static float ip_distance(const void *a, const void *b, const void *param) {
  return 1.0f - dot(static_cast<const float *>(a), static_cast<const float *>(b), *static_cast<const size_t *>(param));
}

static float l2_distance(const void *a, const void *b, const void *param) {
  return squared_l2(static_cast<const float *>(a), static_cast<const float *>(b), *static_cast<const size_t *>(param));
}

/** An hnswlib space over `dim` f32s: squared L2, or 1 − dot (inner product; cosine on normalised vectors). */
class SimdSpace final : public hnswlib::SpaceInterface<float> {
 public:
  SimdSpace(size_t dim, bool l2) : dim_(dim), fn_(l2 ? l2_distance : ip_distance) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return fn_; }
  void *get_dist_func_param() override { return &dim_; }
  float distance(const float *a, const float *b) const { return fn_(a, b, &dim_); }

 private:
  size_t dim_;
  hnswlib::DISTFUNC<float> fn_;
};

}  // namespace x0t

#endif
