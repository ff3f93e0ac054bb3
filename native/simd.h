// The one SIMD mapping layer: each ISA translation unit defines exactly one of NF_SIMD_AVX512,
// NF_SIMD_AVX2, NF_SIMD_NEON or NF_SIMD_SCALAR before including this, and kernels are written once
// against the names below. Everything here is `static inline` so that no symbol compiled with one ISA's
// flags can be picked by the linker for another translation unit.
//
//   V                  a vector of kLanes floats
//   vzero()            all lanes 0
//   vset1(x)           x in every lane
//   vload(p)/vstore    kLanes floats, unaligned
//   vload_n(p, n)      the first n (< kLanes) lanes from p, zeros above; never reads past p + n
//   vstore_n(p, v, n)  writes the first n lanes only
//   vfma(a, b, c)      a * b + c (fused where the ISA has it)
//   vadd(a, b)
//   vsum(v)            the horizontal sum, in a fixed order
//   kAccRegs           how many vector accumulators a micro-kernel may keep in registers
//   prefetch(p)        hint that the cache line at p is read soon (no-op where unsupported)
#pragma once

#include <cstdint>

#if defined(NF_SIMD_AVX512) || defined(NF_SIMD_AVX2)
// GCC 12 warns falsely about '__Y' used uninitialized inside avx512fintrin.h.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#elif defined(NF_SIMD_NEON)
#include <arm_neon.h>
#endif

namespace nf::simd {

static inline void prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }

#if defined(NF_SIMD_AVX512)
using V = __m512;
constexpr int kLanes = 16;
constexpr int kAccRegs = 24;
static inline V vzero() { return _mm512_setzero_ps(); }
static inline V vset1(float x) { return _mm512_set1_ps(x); }
static inline V vload(const float* p) { return _mm512_loadu_ps(p); }
static inline void vstore(float* p, V v) { _mm512_storeu_ps(p, v); }
static inline __mmask16 tail_mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
static inline V vload_n(const float* p, int n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
static inline void vstore_n(float* p, V v, int n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
static inline V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
static inline V vadd(V a, V b) { return _mm512_add_ps(a, b); }
static inline float vsum(V v) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

#elif defined(NF_SIMD_AVX2)
using V = __m256;
constexpr int kLanes = 8;
constexpr int kAccRegs = 12;
static inline V vzero() { return _mm256_setzero_ps(); }
static inline V vset1(float x) { return _mm256_set1_ps(x); }
static inline V vload(const float* p) { return _mm256_loadu_ps(p); }
static inline void vstore(float* p, V v) { _mm256_storeu_ps(p, v); }
static inline __m256i tail_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
// vmaskmovps does not fault on masked-off lanes, so it never reads past p + n.
static inline V vload_n(const float* p, int n) { return _mm256_maskload_ps(p, tail_mask(n)); }
static inline void vstore_n(float* p, V v, int n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
static inline V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
static inline V vadd(V a, V b) { return _mm256_add_ps(a, b); }
static inline float vsum(V v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

#elif defined(NF_SIMD_NEON)
using V = float32x4_t;
constexpr int kLanes = 4;
constexpr int kAccRegs = 24;
static inline V vzero() { return vdupq_n_f32(0.0f); }
static inline V vset1(float x) { return vdupq_n_f32(x); }
static inline V vload(const float* p) { return vld1q_f32(p); }
static inline void vstore(float* p, V v) { vst1q_f32(p, v); }
static inline V vload_n(const float* p, int n) {
  float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int i = 0; i < n; ++i) t[i] = p[i];
  return vld1q_f32(t);
}
static inline void vstore_n(float* p, V v, int n) {
  float t[4];
  vst1q_f32(t, v);
  for (int i = 0; i < n; ++i) p[i] = t[i];
}
static inline V vfma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
static inline V vadd(V a, V b) { return vaddq_f32(a, b); }
static inline float vsum(V v) { return vaddvq_f32(v); }

#elif defined(NF_SIMD_SCALAR)
// Portable fallback: a 4-float struct the compiler may map onto the baseline vector unit (SSE2 on
// x86-64). vfma is a*b+c in plain C++: two roundings on x86-64, whose baseline has no FMA, but GCC
// contracts it into fused instructions where the baseline has them (arm64).
struct V {
  float x[4];
};
constexpr int kLanes = 4;
constexpr int kAccRegs = 8;
static inline V vzero() { return V{{0.0f, 0.0f, 0.0f, 0.0f}}; }
static inline V vset1(float x) { return V{{x, x, x, x}}; }
static inline V vload(const float* p) { return V{{p[0], p[1], p[2], p[3]}}; }
static inline void vstore(float* p, V v) {
  for (int i = 0; i < 4; ++i) p[i] = v.x[i];
}
static inline V vload_n(const float* p, int n) {
  V v = vzero();
  for (int i = 0; i < n; ++i) v.x[i] = p[i];
  return v;
}
static inline void vstore_n(float* p, V v, int n) {
  for (int i = 0; i < n; ++i) p[i] = v.x[i];
}
static inline V vfma(V a, V b, V c) {
  V r;
  for (int i = 0; i < 4; ++i) r.x[i] = a.x[i] * b.x[i] + c.x[i];
  return r;
}
static inline V vadd(V a, V b) {
  V r;
  for (int i = 0; i < 4; ++i) r.x[i] = a.x[i] + b.x[i];
  return r;
}
static inline float vsum(V v) { return (v.x[0] + v.x[1]) + (v.x[2] + v.x[3]); }

#else
#error "define one of NF_SIMD_AVX512, NF_SIMD_AVX2, NF_SIMD_NEON, NF_SIMD_SCALAR before including simd.h"
#endif

}  // namespace nf::simd
