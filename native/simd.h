// The one SIMD mapping layer: each ISA translation unit defines exactly one of NF_SIMD_AVX512,
// NF_SIMD_AVX2, NF_SIMD_NEON or NF_SIMD_SCALAR before including this, and kernels are written once
// against the names below. Everything here is `static inline` so that no symbol compiled with one ISA's
// flags can be picked by the linker for another translation unit.
//
//   V                  a vector of kLanes floats
//   vzero()            all lanes 0
//   vset1(x)           x in every lane
//   vload(p)/vstore    kLanes floats, unaligned
//   vload_n(p, n)      the first n (≤ kLanes) lanes from p, zeros above; never reads past p + n
//   vstore_n(p, v, n)  writes the first n lanes only
//   vfma(a, b, c)      a * b + c (fused where the ISA has it)
//   vadd/vsub/vmul/vdiv(a, b), vmax/vmin(a, b), vsqrt(a)
//   vselect_gt(a, b, x, y)  per lane: a > b ? x : y (false when either is NaN)
//   vsum(v), vhmax(v)  the horizontal sum (in a fixed order) and maximum
//   vsum_lanes(v)      kLanes horizontal sums at once: lane i = vsum(v[i]) bit for bit (same additions)
//   vexp(x)            e^x within 2 ulp on [-87, 88]; exactly 0 below ≈ -87.9 (exp(-inf) = 0); saturates above 88.37
//   vround(x)          to the nearest integer (ties to even)
//   vbf16(x)           x rounded to bfloat16, as a float: bf16_round of bf16.h in every lane, bit for bit
//   kAccRegs           how many vector accumulators a micro-kernel may keep in registers
//   prefetch(p)        hint that the cache line at p is read soon (no-op where unsupported)
#pragma once

#include <cstdint>

#include "bf16.h"

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
static inline V vsub(V a, V b) { return _mm512_sub_ps(a, b); }
static inline V vmul(V a, V b) { return _mm512_mul_ps(a, b); }
static inline V vdiv(V a, V b) { return _mm512_div_ps(a, b); }
static inline V vmax(V a, V b) { return _mm512_max_ps(a, b); }
static inline V vmin(V a, V b) { return _mm512_min_ps(a, b); }
static inline V vsqrt(V a) { return _mm512_sqrt_ps(a); }
static inline V vselect_gt(V a, V b, V x, V y) { return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_GT_OQ), y, x); }
static inline V vround(V x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline V vbf16(V x) {
  const __m512i u = _mm512_castps_si512(x), hi = _mm512_set1_epi32(int(0xffff0000u));
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_and_si512(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), hi);
  const __mmask16 nan =
      _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(_mm512_and_si512(u, hi), _mm512_set1_epi32(0x400000)));
  const __mmask16 tiny = _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x7f800000));
  r = _mm512_mask_mov_epi32(r, tiny, _mm512_and_si512(u, _mm512_set1_epi32(int(0x80000000u))));
  return _mm512_castsi512_ps(r);
}
// 2^n for integral n in [-127, 128] (n = -127 gives 0): n + 127 placed in the exponent field.
static inline V vpow2i(V n) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
}
static inline float vhmax(V v) { return _mm512_reduce_max_ps(v); }
static inline float vsum(V v) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}
// vsum's four halvings (lane l + l+8, + l+4, + l+2, + l+1), each done for two vectors with two shuffles
// and one add: 45 instructions for 16 sums against ~8 each. The shuffles leave sum i in lane
// 4·(i % 4) + i / 4, so the inputs are read in that order.
static inline V vsum_lanes(const V* v) {
  constexpr auto at = [](int i) { return (i % 4) * 4 + i / 4; };
  V h[8], q[4], d[2];
  for (int i = 0; i < 8; ++i) {
    const V a = v[at(2 * i)], b = v[at(2 * i + 1)];
    h[i] = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
  }
  for (int i = 0; i < 4; ++i)
    q[i] = _mm512_add_ps(_mm512_shuffle_f32x4(h[2 * i], h[2 * i + 1], 0x88),
                         _mm512_shuffle_f32x4(h[2 * i], h[2 * i + 1], 0xDD));
  for (int i = 0; i < 2; ++i)
    d[i] = _mm512_add_ps(_mm512_shuffle_ps(q[2 * i], q[2 * i + 1], 0x44),
                         _mm512_shuffle_ps(q[2 * i], q[2 * i + 1], 0xEE));
  return _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], 0x88), _mm512_shuffle_ps(d[0], d[1], 0xDD));
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
static inline V vsub(V a, V b) { return _mm256_sub_ps(a, b); }
static inline V vmul(V a, V b) { return _mm256_mul_ps(a, b); }
static inline V vdiv(V a, V b) { return _mm256_div_ps(a, b); }
static inline V vmax(V a, V b) { return _mm256_max_ps(a, b); }
static inline V vmin(V a, V b) { return _mm256_min_ps(a, b); }
static inline V vsqrt(V a) { return _mm256_sqrt_ps(a); }
static inline V vselect_gt(V a, V b, V x, V y) { return _mm256_blendv_ps(y, x, _mm256_cmp_ps(a, b, _CMP_GT_OQ)); }
static inline V vround(V x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
static inline V vbf16(V x) {
  const __m256i u = _mm256_castps_si256(x), hi = _mm256_set1_epi32(int(0xffff0000u));
  const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
  __m256i r = _mm256_and_si256(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), hi);
  // u & 0x7fffffff is non-negative, so the signed compare is the unsigned one.
  const __m256i nan =
      _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)), _mm256_set1_epi32(0x7f800000));
  r = _mm256_blendv_epi8(r, _mm256_or_si256(_mm256_and_si256(u, hi), _mm256_set1_epi32(0x400000)), nan);
  const __m256i tiny = _mm256_cmpeq_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7f800000)), _mm256_setzero_si256());
  r = _mm256_blendv_epi8(r, _mm256_and_si256(u, _mm256_set1_epi32(int(0x80000000u))), tiny);
  return _mm256_castsi256_ps(r);
}
static inline V vpow2i(V n) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
}
static inline float vhmax(V v) {
  __m128 q = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_max_ps(q, _mm_movehl_ps(q, q));
  q = _mm_max_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}
static inline float vsum(V v) {
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}
// As on AVX-512: vsum's halvings (l + l+4, + l+2, + l+1) two vectors at a time; sum i lands in lane
// 4·(i % 2) + i / 2.
static inline V vsum_lanes(const V* v) {
  constexpr auto at = [](int i) { return (i % 2) * 4 + i / 2; };
  V h[4], d[2];
  for (int i = 0; i < 4; ++i) {
    const V a = v[at(2 * i)], b = v[at(2 * i + 1)];
    h[i] = _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
  }
  for (int i = 0; i < 2; ++i)
    d[i] = _mm256_add_ps(_mm256_shuffle_ps(h[2 * i], h[2 * i + 1], 0x44),
                         _mm256_shuffle_ps(h[2 * i], h[2 * i + 1], 0xEE));
  return _mm256_add_ps(_mm256_shuffle_ps(d[0], d[1], 0x88), _mm256_shuffle_ps(d[0], d[1], 0xDD));
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
static inline V vsub(V a, V b) { return vsubq_f32(a, b); }
static inline V vmul(V a, V b) { return vmulq_f32(a, b); }
static inline V vdiv(V a, V b) { return vdivq_f32(a, b); }
static inline V vmax(V a, V b) { return vmaxq_f32(a, b); }
static inline V vmin(V a, V b) { return vminq_f32(a, b); }
static inline V vsqrt(V a) { return vsqrtq_f32(a); }
static inline V vselect_gt(V a, V b, V x, V y) { return vbslq_f32(vcgtq_f32(a, b), x, y); }
static inline V vround(V x) { return vrndnq_f32(x); }
static inline V vbf16(V x) {
  const uint32x4_t u = vreinterpretq_u32_f32(x), hi = vdupq_n_u32(0xffff0000u);
  const uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
  uint32x4_t r = vandq_u32(vaddq_u32(u, vaddq_u32(lsb, vdupq_n_u32(0x7fff))), hi);
  const uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7fffffff)), vdupq_n_u32(0x7f800000));
  r = vbslq_u32(nan, vorrq_u32(vandq_u32(u, hi), vdupq_n_u32(0x400000)), r);
  const uint32x4_t tiny = vceqq_u32(vandq_u32(u, vdupq_n_u32(0x7f800000)), vdupq_n_u32(0));
  r = vbslq_u32(tiny, vandq_u32(u, vdupq_n_u32(0x80000000u)), r);
  return vreinterpretq_f32_u32(r);
}
static inline V vpow2i(V n) {
  return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23));
}
static inline float vhmax(V v) { return vmaxvq_f32(v); }
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
template <class F>
static inline V vmap2(V a, V b, F f) {
  V r;
  for (int i = 0; i < 4; ++i) r.x[i] = f(a.x[i], b.x[i]);
  return r;
}
static inline V vsub(V a, V b) { return vmap2(a, b, [](float x, float y) { return x - y; }); }
static inline V vmul(V a, V b) { return vmap2(a, b, [](float x, float y) { return x * y; }); }
static inline V vdiv(V a, V b) { return vmap2(a, b, [](float x, float y) { return x / y; }); }
// x86's maxps/minps: the second operand when either is NaN.
static inline V vmax(V a, V b) { return vmap2(a, b, [](float x, float y) { return x > y ? x : y; }); }
static inline V vmin(V a, V b) { return vmap2(a, b, [](float x, float y) { return x < y ? x : y; }); }
static inline V vsqrt(V a) { return vmap2(a, a, [](float v, float) { return __builtin_sqrtf(v); }); }
static inline V vselect_gt(V a, V b, V x, V y) {
  V r;
  for (int i = 0; i < 4; ++i) r.x[i] = a.x[i] > b.x[i] ? x.x[i] : y.x[i];
  return r;
}
static inline V vround(V x) { return vmap2(x, x, [](float v, float) { return __builtin_rintf(v); }); }
static inline V vbf16(V x) { return vmap2(x, x, [](float v, float) { return bf16_round(v); }); }
static inline V vpow2i(V n) {
  return vmap2(n, n, [](float v, float) {
    const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(v) + 127) << 23;
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
  });
}
static inline float vhmax(V v) {
  const float a = v.x[0] > v.x[1] ? v.x[0] : v.x[1], b = v.x[2] > v.x[3] ? v.x[2] : v.x[3];
  return a > b ? a : b;
}
static inline float vsum(V v) { return (v.x[0] + v.x[1]) + (v.x[2] + v.x[3]); }

#else
#error "define one of NF_SIMD_AVX512, NF_SIMD_AVX2, NF_SIMD_NEON, NF_SIMD_SCALAR before including simd.h"
#endif

#if defined(NF_SIMD_NEON) || defined(NF_SIMD_SCALAR)
// One vsum per lane (NEON's pairwise adds could do the same as the x86 versions; not measured there).
static inline V vsum_lanes(const V* v) {
  float s[kLanes];
  for (int i = 0; i < kLanes; ++i) s[i] = vsum(v[i]);
  return vload(s);
}
#endif

// e^x as 2^n · e^r with n = round(x·log2 e) and |r| ≤ ln2/2, r computed in two parts (ln2 = C1 + C2, C1
// exact in few bits) so that it stays exact for large n; e^r by a degree-7 minimax polynomial (Cephes'
// expf coefficients). Clamping x to [-88, 88.376] keeps n in [-127, 127]; n = -127 yields 0, so the
// result underflows to exactly 0 for x below ≈ -87.9 and exp(-inf) = 0 (masked scores). The clamp is
// written max(lo, x) so that a NaN x stays NaN on x86.
static inline V vexp(V x) {
  x = vmin(vset1(88.3762626647949f), vmax(vset1(-88.0f), x));
  const V n = vround(vmul(x, vset1(1.44269504088896341f)));
  V r = vfma(n, vset1(-0.693359375f), x);
  r = vfma(n, vset1(2.12194440e-4f), r);
  V p = vset1(1.9875691500e-4f);
  p = vfma(p, r, vset1(1.3981999507e-3f));
  p = vfma(p, r, vset1(8.3334519073e-3f));
  p = vfma(p, r, vset1(4.1665795894e-2f));
  p = vfma(p, r, vset1(1.6666665459e-1f));
  p = vfma(p, r, vset1(5.0000001201e-1f));
  p = vfma(p, vmul(r, r), vadd(r, vset1(1.0f)));
  return vmul(p, vpow2i(n));
}

}  // namespace nf::simd
