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

/** dot(q, a) and dot(q, b) in one pass; each sum is formed exactly as dot() forms it. */
static inline void dot2(const float *q, const float *a, const float *b, size_t dim, float *out) {
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    v128_t q0 = wasm_v128_load(q + i), q1 = wasm_v128_load(q + i + 4);
    v128_t q2 = wasm_v128_load(q + i + 8), q3 = wasm_v128_load(q + i + 12);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(q0, wasm_v128_load(a + i)));
    b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(q0, wasm_v128_load(b + i)));
    a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(q1, wasm_v128_load(a + i + 4)));
    b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(q1, wasm_v128_load(b + i + 4)));
    a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(q2, wasm_v128_load(a + i + 8)));
    b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(q2, wasm_v128_load(b + i + 8)));
    a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(q3, wasm_v128_load(a + i + 12)));
    b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(q3, wasm_v128_load(b + i + 12)));
  }
  for (; i + 4 <= dim; i += 4) {
    v128_t qi = wasm_v128_load(q + i);
    a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(qi, wasm_v128_load(a + i)));
    b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(qi, wasm_v128_load(b + i)));
  }
  float sa = horizontal_sum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
  float sb = horizontal_sum(wasm_f32x4_add(wasm_f32x4_add(b0, b1), wasm_f32x4_add(b2, b3)));
  for (; i < dim; i++) {
    sa += q[i] * a[i];
    sb += q[i] * b[i];
  }
  out[0] = sa;
  out[1] = sb;
}

/** acc + (q − v[0..4))². */
static inline v128_t add_squared_difference(v128_t acc, v128_t q, const float *v) {
  v128_t d = wasm_f32x4_sub(q, wasm_v128_load(v));
  return wasm_f32x4_add(acc, wasm_f32x4_mul(d, d));
}

/** squared_l2(q, a) and squared_l2(q, b) in one pass; each sum is formed exactly as squared_l2() forms it. */
static inline void squared_l2_2(const float *q, const float *a, const float *b, size_t dim, float *out) {
  v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    v128_t q0 = wasm_v128_load(q + i), q1 = wasm_v128_load(q + i + 4);
    v128_t q2 = wasm_v128_load(q + i + 8), q3 = wasm_v128_load(q + i + 12);
    a0 = add_squared_difference(a0, q0, a + i);
    b0 = add_squared_difference(b0, q0, b + i);
    a1 = add_squared_difference(a1, q1, a + i + 4);
    b1 = add_squared_difference(b1, q1, b + i + 4);
    a2 = add_squared_difference(a2, q2, a + i + 8);
    b2 = add_squared_difference(b2, q2, b + i + 8);
    a3 = add_squared_difference(a3, q3, a + i + 12);
    b3 = add_squared_difference(b3, q3, b + i + 12);
  }
  for (; i + 4 <= dim; i += 4) {
    v128_t qi = wasm_v128_load(q + i);
    a0 = add_squared_difference(a0, qi, a + i);
    b0 = add_squared_difference(b0, qi, b + i);
  }
  float sa = horizontal_sum(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
  float sb = horizontal_sum(wasm_f32x4_add(wasm_f32x4_add(b0, b1), wasm_f32x4_add(b2, b3)));
  for (; i < dim; i++) {
    float da = q[i] - a[i], db = q[i] - b[i];
    sa += da * da;
    sb += db * db;
  }
  out[0] = sa;
  out[1] = sb;
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
  SimdSpace(size_t dim, bool l2) : dim_(dim), l2_(l2), fn_(l2 ? l2_distance : ip_distance) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return fn_; }
  void *get_dist_func_param() override { return &dim_; }
  float distance(const float *a, const float *b) const { return fn_(a, b, &dim_); }
  size_t dim() const { return dim_; }
  /** distance(q, a) and distance(q, b) into out[0], out[1]: the same values, two memory streams at once. */
  void distance2(const float *q, const float *a, const float *b, float *out) const {
    if (l2_) {
      squared_l2_2(q, a, b, dim_, out);
    } else {
      dot2(q, a, b, dim_, out);
      out[0] = 1.0f - out[0];
      out[1] = 1.0f - out[1];
    }
  }

 private:
  size_t dim_;
  bool l2_;
  hnswlib::DISTFUNC<float> fn_;
};

}  // namespace x0t

#endif
