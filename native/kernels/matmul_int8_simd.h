// The int8 GEMM of matmul_int8.h, compiled per ISA by matmul_int8_<isa>.cc (which define NF_SIMD_<ISA>,
// NF_ISA_NS and, for avx512vnni, NF_INT8_VNNI). Each call quantizes x's rows into a per-thread buffer, then
// tasks take blocks of up to kPanels panels (16 columns each) and run every group of kRows rows against
// them: the block's weights (K·64 bytes per panel) are read from memory once and from L1/L2 by the other
// row groups. Integer sums are exact and the epilogue is one fma per element, so the bits are the
// reference's whatever the ISA, the tile or the thread count.
#pragma once

#include <cmath>
#include <cstring>

#include "../simd.h"
#include "../threadpool.h"
#include "int_math.h"
#include "matmul_int8.h"

#ifndef NF_ISA_NS
#error "define NF_ISA_NS (the ISA's namespace) before including matmul_int8_simd.h"
#endif

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

constexpr int kPanels = 4;  // panels per task block and per tile
#if defined(NF_SIMD_AVX512)
constexpr int kRows = 4;  // 16 zmm accumulators
#elif defined(NF_SIMD_AVX2)
constexpr int kRows = 2;  // 16 ymm accumulators (a panel is two)
#else
constexpr int kRows = 4;
#endif
// Below this many multiply-adds a second thread costs more than it saves.
constexpr int64_t kMinParallelWork = int64_t(1) << 17;

// quantize_rows, vectorised where it is arithmetic: the row's max |x| and the products x · (127 / max) in
// vectors (the same IEEE operations per element, so the same bits), the narrowing to int8 per element.
void quantize(const float* x, int64_t rows, int64_t k, int64_t k4, int8_t* q, float* scales) {
  float* t = scratch(3, static_cast<size_t>(max64(k, 1)));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * k;
    V vmx = vzero(), nonfinite = vzero();  // x − x is 0, or NaN for ±∞ and NaN; NaN survives any sum
    int64_t p = 0;
    for (; p + kLanes <= k; p += kLanes) {
      const V v = vload(row + p);
      vmx = vmax(vmx, vmax(v, vsub(vzero(), v)));
      nonfinite = vadd(nonfinite, vsub(v, v));
    }
    if (p < k) {
      const V v = vload_n(row + p, int(k - p));
      vmx = vmax(vmx, vmax(v, vsub(vzero(), v)));
      nonfinite = vadd(nonfinite, vsub(v, v));
    }
    int8_t* out = q + r * k4;
    std::memset(out, 0, static_cast<size_t>(k4));
    if (vsum(nonfinite) != 0.0f) {  // NaN compares unequal to everything
      scales[r] = NAN;
      continue;
    }
    const float amax = vhmax(vmx);
    scales[r] = amax / 127.0f;
    if (amax == 0.0f) continue;
    const V inv = vset1(127.0f / amax);
    for (p = 0; p + kLanes <= k; p += kLanes) vstore(t + p, vround(vmul(vload(row + p), inv)));
    if (p < k) vstore_n(t + p, vround(vmul(vload_n(row + p, int(k - p)), inv)), int(k - p));
    for (p = 0; p < k; ++p) out[p] = static_cast<int8_t>(t[p] > 127.0f ? 127.0f : t[p] < -127.0f ? -127.0f : t[p]);
  }
}

inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// y[r, j] = fma(float(acc[j]), sx · w_scales[j], bias[j] or 0) for the n ≤ 16 valid columns of a panel.
inline void store_panel(const int32_t* acc, float sx, const float* w_scales, const float* bias, int n, float* y) {
  alignas(64) float f[16];
  for (int c = 0; c < 16; ++c) f[c] = static_cast<float>(acc[c]);
  for (int c = 0; c < 16; c += kLanes) {
    const int valid = int(min64(kLanes, n - c));
    if (valid <= 0) break;
    const V s = vmul(vset1(sx), vload_n(w_scales + c, valid));
    const V b = bias ? vload_n(bias + c, valid) : vzero();
#if defined(NF_SIMD_SCALAR)
    // The scalar build's vfma rounds twice; the definition is one rounding.
    alignas(16) float sv[kLanes], bv[kLanes];
    vstore(sv, s);
    vstore(bv, b);
    for (int l = 0; l < valid; ++l) y[c + l] = std::fma(f[c + l], sv[l], bv[l]);
#else
    vstore_n(y + c, vfma(vload(f + c), s, b), valid);
#endif
  }
}

// acc[R][NB·16] (int32) = Σ_quads xq[r, 4q…4q+3] · panel b's quad q, for R rows of xq (k4 apart) against NB
// panels (stride panel_bytes).
template <int R, int NB>
void tile(const int8_t* xq, int64_t k4, const int8_t* w, int64_t panel_bytes, int32_t (&out)[kRows][kPanels * 16]) {
  const int64_t quads = k4 / 4;
#if defined(NF_SIMD_AVX512)
  __m512i acc[R][NB];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < NB; ++b) acc[r][b] = _mm512_setzero_si512();
#if !defined(NF_INT8_VNNI)
  const __m512i ones = _mm512_set1_epi16(1), zero = _mm512_setzero_si512();
#endif
  for (int64_t q = 0; q < quads; ++q) {
    __m512i wv[NB];
    for (int b = 0; b < NB; ++b) wv[b] = _mm512_loadu_si512(w + b * panel_bytes + q * 64);
    for (int r = 0; r < R; ++r) {
      const __m512i xb = _mm512_set1_epi32(load_i32(xq + r * k4 + 4 * q));
#if defined(NF_INT8_VNNI)
      // VPDPBUSD multiplies unsigned bytes by signed ones: x + 128 (x ^ 0x80), compensated in the epilogue.
      const __m512i xu = _mm512_xor_si512(xb, _mm512_set1_epi32(int(0x80808080u)));
      for (int b = 0; b < NB; ++b) acc[r][b] = _mm512_dpbusd_epi32(acc[r][b], xu, wv[b]);
#else
      const __m512i xs = _mm512_abs_epi8(xb);
      const __mmask64 neg = _mm512_movepi8_mask(xb);
      for (int b = 0; b < NB; ++b) {
        const __m512i ws = _mm512_mask_sub_epi8(wv[b], neg, zero, wv[b]);
        acc[r][b] = _mm512_add_epi32(acc[r][b], _mm512_madd_epi16(_mm512_maddubs_epi16(xs, ws), ones));
      }
#endif
    }
  }
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < NB; ++b) _mm512_storeu_si512(out[r] + b * 16, acc[r][b]);
#elif defined(NF_SIMD_AVX2)
  __m256i acc[R][2 * NB];
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < 2 * NB; ++b) acc[r][b] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t q = 0; q < quads; ++q) {
    __m256i wv[2 * NB];
    for (int b = 0; b < 2 * NB; ++b)
      wv[b] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + (b / 2) * panel_bytes + q * 64 + (b % 2) * 32));
    for (int r = 0; r < R; ++r) {
      const __m256i xb = _mm256_set1_epi32(load_i32(xq + r * k4 + 4 * q));
      const __m256i xs = _mm256_sign_epi8(xb, xb);  // |x|
      for (int b = 0; b < 2 * NB; ++b) {
        const __m256i ws = _mm256_sign_epi8(wv[b], xb);  // w · sign(x)
        acc[r][b] = _mm256_add_epi32(acc[r][b], _mm256_madd_epi16(_mm256_maddubs_epi16(xs, ws), ones));
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int b = 0; b < 2 * NB; ++b) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[r] + b * 8), acc[r][b]);
#else
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < NB * 16; ++c) out[r][c] = 0;
  for (int64_t q = 0; q < quads; ++q)
    for (int r = 0; r < R; ++r) {
      const int8_t* x = xq + r * k4 + 4 * q;
      for (int b = 0; b < NB; ++b) {
        const int8_t* wq = w + b * panel_bytes + q * 64;
        for (int c = 0; c < 16; ++c) {
          int32_t s = 0;
          for (int t = 0; t < 4; ++t) s += int32_t(x[t]) * int32_t(wq[c * 4 + t]);
          out[r][b * 16 + c] += s;
        }
      }
    }
#endif
}

template <int R, int NB = kPanels>
void tile_dispatch(int nb, const int8_t* xq, int64_t k4, const int8_t* w, int64_t panel_bytes,
                   int32_t (&out)[kRows][kPanels * 16]) {
  if constexpr (NB > 1) {
    if (nb < NB) return tile_dispatch<R, NB - 1>(nb, xq, k4, w, panel_bytes, out);
  }
  tile<R, NB>(xq, k4, w, panel_bytes, out);
}

template <int R = kRows>
void rows_dispatch(int rows, int nb, const int8_t* xq, int64_t k4, const int8_t* w, int64_t panel_bytes,
                   int32_t (&out)[kRows][kPanels * 16]) {
  if constexpr (R > 1) {
    if (rows < R) return rows_dispatch<R - 1>(rows, nb, xq, k4, w, panel_bytes, out);
  }
  tile_dispatch<R>(nb, xq, k4, w, panel_bytes, out);
}

}  // namespace

void matmul_int8_forward(const Int8GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0) return;
  const int64_t k4 = int8_k4(g.k), n16 = int8_n16(g.n), panel_bytes = 16 * k4;
  int8_t* xq = reinterpret_cast<int8_t*>(scratch(2, static_cast<size_t>(ceil_div(g.m * k4, 4) + g.m)));
  float* sx = reinterpret_cast<float*>(xq + ceil_div(g.m * k4, 4) * 4);
  quantize(g.x, g.m, g.k, k4, xq, sx);
  const int8_t* sums = g.w + n16 * k4;
  const int64_t blocks = ceil_div(n16 / 16, kPanels);
  const int threads = g.m * g.n * g.k < kMinParallelWork ? 1 : num_threads();
  parallel_for_if(threads > 1, blocks, [&](int64_t blk) {
    const int64_t p0 = blk * kPanels, nb = min64(kPanels, n16 / 16 - p0);
    alignas(64) int32_t acc[kRows][kPanels * 16];
    for (int64_t i = 0; i < g.m; i += kRows) {
      const int rows = int(min64(kRows, g.m - i));
      rows_dispatch(rows, int(nb), xq + i * k4, k4, g.w + p0 * panel_bytes, panel_bytes, acc);
      for (int r = 0; r < rows; ++r)
        for (int64_t b = 0; b < nb; ++b) {
          const int64_t j = (p0 + b) * 16;
          int32_t* a = acc[r] + b * 16;
#if defined(NF_INT8_VNNI)
          // Modulo 2³² (VPDPBUSD wraps too): the true sum fits in int32, so the difference is exact.
          for (int c = 0; c < 16; ++c) {
            const uint32_t sum = static_cast<uint32_t>(load_i32(sums + 4 * (j + c)));
            a[c] = static_cast<int32_t>(static_cast<uint32_t>(a[c]) - 128u * sum);
          }
#else
          (void)sums;
#endif
          store_panel(a, sx[i + r], g.w_scales + j, g.bias ? g.bias + j : nullptr, int(min64(16, g.n - j)),
                      g.y + (i + r) * g.n + j);
        }
    }
  });
}

}  // namespace nf::cpu::NF_ISA_NS
