// The GEMM of matmul.h, written once against simd.h and compiled by each per-ISA translation unit
// (matmul_avx512.cc, matmul_avx2.cc, matmul_neon.cc, matmul_scalar.cc), which defines NF_SIMD_<ISA> and
// NF_ISA_NS before including this file. Everything but matmul_forward sits in an anonymous namespace, so
// no code built with one ISA's flags is shared with another translation unit.
//
// Two paths:
//  * M ≤ kSmallM, or M ≤ kSmallMDot when B is transposed (decoding: a few rows against a weight matrix):
//    no packing; B is streamed once from memory, straight from its own layout: K×N rows against a few
//    rows of A in registers, or N×K rows as dot products with all of A's rows. Threads split N.
//  * Otherwise the BLIS scheme: for each NC-wide panel of B and KC-deep slice, pack B into NR-wide
//    micro-panels (stays in L3/L2); for each MC-tall block of A pack it into MR-tall micro-panels (stays
//    in L2); then an MR×NR register tile accumulates over KC with one broadcast of A and NV vector loads of
//    B per k. Threads split C into a tm×tn grid of sub-blocks chosen to minimise repacked data.
// Both give each C element a fixed summation order over k, whatever the thread count (see matmul.h).
#pragma once

#include "../simd.h"
#include "../threadpool.h"
#include "int_math.h"
#include "matmul.h"
#include "tiles_simd.h"

#ifndef NF_ISA_NS
#error "define NF_ISA_NS (the ISA's namespace) before including matmul_simd.h"
#endif

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

#if defined(NF_SIMD_AVX512)
constexpr int kMR = 12, kNV = 2;  // 12×32 tile: 24 zmm accumulators
#elif defined(NF_SIMD_AVX2)
constexpr int kMR = 6, kNV = 2;  // 6×16 tile: 12 ymm accumulators
#elif defined(NF_SIMD_NEON)
constexpr int kMR = 8, kNV = 3;  // 8×12 tile: 24 q accumulators
#else
constexpr int kMR = 4, kNV = 2;  // 4×8 tile
#endif
constexpr int kNR = kNV * kLanes;
// MC·KC floats of A (~144 KiB) stay in L2 while B micro-panels stream through. KC is larger than the
// classic "B micro-panel fits L1" choice: on Zen 5 the L2 feeds the micro-kernel easily, and each extra
// KC block costs a read-modify-write pass over C (A/B-measured: KC 512 vs 256 is +7% at 1024³, MC 72
// rows vs 240 +1-4%).
constexpr int64_t kKC = 512;
constexpr int64_t kMC = (72 / kMR) * kMR;
constexpr int64_t kNC = 2048;
constexpr int64_t kSmallM = 16;
// With B transposed (a Linear layer's weight) the dot-product tiles read B once and unpacked; against
// packing B they were +13-20% at 17-24 rows and even at 32 (A/B-measured on Zen 5, one thread).
constexpr int64_t kSmallMDot = 32;
// Below this many multiply-adds a second thread costs more than it saves.
constexpr int64_t kMinParallelWork = int64_t(1) << 17;

// ---------------------------------------------------------------------------------------------------
// Packing (zero-padded to whole micro-panels, so the micro-kernel has no edge cases)

// The last row panel of a block is only as tall as it must be (a multiple of kMRStep), so a block of 64
// rows with MR = 12 computes 5 panels of 12 and one of 4 instead of wasting 8 padded rows.
constexpr int kMRStep = kMR % 4 == 0 ? 4 : kMR;
inline int64_t panel_rows(int64_t mr) { return ceil_div(mr, kMRStep) * kMRStep; }

// dst[c·ldd + r] = src[r·lds + c] for r, c < 4: the step of the packings that transpose (A not transposed,
// B transposed). On x86 four SSE loads, the shuffles of _MM_TRANSPOSE4_PS and four stores, against ~1.2
// cycles a float for the scalar loop (measured alone on Zen 4: packing A of 2048×256 0.17 → 0.07 ms, B of
// 8000×256 transposed 1.34 → 0.47 ms). With the transA copy below, interleaved A/B on the Transformer's
// GEMMs: +5% geomean on one thread, +4% on two, most on 2048×1024×256 transB and 1024×2048×256 transA
// (+6-17%). NEON and scalar keep the plain loop (not measured there).
inline void transpose4x4(const float* src, int64_t lds, float* dst, int64_t ldd) {
#if defined(NF_SIMD_AVX512) || defined(NF_SIMD_AVX2)
  __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + lds);
  __m128 r2 = _mm_loadu_ps(src + 2 * lds), r3 = _mm_loadu_ps(src + 3 * lds);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(dst, r0);
  _mm_storeu_ps(dst + ldd, r1);
  _mm_storeu_ps(dst + 2 * ldd, r2);
  _mm_storeu_ps(dst + 3 * ldd, r3);
#else
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) dst[c * ldd + r] = src[r * lds + c];
#endif
}

// dst[p·h + r] = src[r·lds + p] for r < rows, p < kc, and zeros for rows ≤ r < h: a kc × h panel of a
// matrix that is stored the other way round (A not transposed, or B transposed).
void pack_transposed(const float* src, int64_t lds, int64_t rows, int64_t kc, float* dst, int64_t h) {
  const int64_t kc4 = kc / 4 * 4;
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4)
    for (int64_t p = 0; p < kc4; p += 4) transpose4x4(src + r * lds + p, lds, dst + p * h + r, h);
  for (; r < rows; ++r)
    for (int64_t p = 0; p < kc4; ++p) dst[p * h + r] = src[r * lds + p];
  for (int64_t p = kc4; p < kc; ++p)
    for (r = 0; r < rows; ++r) dst[p * h + r] = src[r * lds + p];
  for (int64_t p = 0; p < kc; ++p)
    for (r = rows; r < h; ++r) dst[p * h + r] = 0.0f;
}

// A[i0:i0+mc, p0:p0+kc] → panels of kc × MR (r fastest); the last one kc × panel_rows(rest).
void pack_a(const GemmArgs& g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* dst) {
  if (!g.trans_a) {
    for (int64_t ir = 0; ir < mc; ir += kMR) {
      const int64_t mr = min64(kMR, mc - ir), h = panel_rows(mr);
      pack_transposed(g.a + (i0 + ir) * g.lda + p0, g.lda, mr, kc, dst, h);
      dst += h * kc;
    }
    return;
  }
  // A is stored K×M: each k gives a panel MR contiguous floats. Whole panels copy a constant MR floats,
  // which the compiler turns into vector moves rather than a loop over a runtime count.
  for (int64_t ir = 0; ir < mc; ir += kMR) {
    const int64_t mr = min64(kMR, mc - ir), h = panel_rows(mr);
    const float* src = g.a + p0 * g.lda + i0 + ir;
    if (mr == kMR) {
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < kMR; ++r) dst[p * kMR + r] = src[p * g.lda + r];
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t r = 0; r < mr; ++r) dst[p * h + r] = src[p * g.lda + r];
        for (int64_t r = mr; r < h; ++r) dst[p * h + r] = 0.0f;
      }
    }
    dst += h * kc;
  }
}

// B[p0:p0+kc, j0:j0+nc] (in op(B) terms) → ceil(nc/NR) panels, each kc × NR (column fastest).
void pack_b(const GemmArgs& g, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst) {
  for (int64_t jr = 0; jr < nc;) {
    const int64_t whole = (nc - jr) / kNR;
    if (!g.trans_b && whole > 0) {
      // Up to 8 whole panels at once, reading each row of B in runs of up to 1 KiB rather than 128 B: with
      // a large ldb every row is on another page (A/B-measured: +7% at 64×512×2048, +20% at 17×512×2048).
      const int64_t group = min64(whole, 8);
      const float* src = g.b + p0 * g.ldb + j0 + jr;
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t q = 0; q < group; ++q)
          for (int v = 0; v < kNV; ++v)
            vstore(dst + q * kNR * kc + p * kNR + v * kLanes, vload(src + p * g.ldb + q * kNR + v * kLanes));
      jr += group * kNR;
      dst += group * kNR * kc;
      continue;
    }
    const int64_t nr = min64(kNR, nc - jr);
    if (!g.trans_b) {  // the last, partial panel
      const float* src = g.b + p0 * g.ldb + j0 + jr;
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t c = 0; c < nr; ++c) dst[p * kNR + c] = src[p * g.ldb + c];
        for (int64_t c = nr; c < kNR; ++c) dst[p * kNR + c] = 0.0f;
      }
    } else {
      pack_transposed(g.b + (j0 + jr) * g.ldb + p0, g.ldb, nr, kc, dst, kNR);
    }
    jr += kNR;
    dst += kNR * kc;
  }
}

// ---------------------------------------------------------------------------------------------------
// The register tile: c[0:MR, 0:NR] (+)= pa (kc × MR) · pb (kc × NR) (+ bias[0:NR] on every row, if given)
template <int MR>
inline void micro_kernel(int64_t kc, const float* __restrict pa, const float* __restrict pb, float* __restrict c,
                         int64_t ldc, bool accumulate, const float* __restrict bias) {
  V acc[MR][kNV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) acc[r][v] = vzero();
  for (int64_t p = 0; p < kc; ++p, pa += MR, pb += kNR) {
    V b[kNV];
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) b[v] = vload(pb + v * kLanes);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      const V a = vset1(pa[r]);
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) acc[r][v] = vfma(a, b[v], acc[r][v]);
    }
  }
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) {
      float* dst = c + r * ldc + v * kLanes;
      const V x = accumulate ? vadd(vload(dst), acc[r][v]) : acc[r][v];
      vstore(dst, bias ? vadd(x, vload(bias + v * kLanes)) : x);
    }
}

// The micro-kernel for a panel of h = kMR or a smaller multiple of kMRStep rows.
template <int MR = kMR>
inline void tile(int64_t h, int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc, bool accumulate,
                 const float* bias) {
  if constexpr (MR > kMRStep) {
    if (h < MR) return tile<MR - kMRStep>(h, kc, pa, pb, c, ldc, accumulate, bias);
  }
  micro_kernel<MR>(kc, pa, pb, c, ldc, accumulate, bias);
}

// C[m0:m1, n0:n1] of the blocked path, on the calling thread.
void blocked_block(const GemmArgs& g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  const int64_t kc_max = min64(kKC, g.k);
  float* pb = scratch(0, static_cast<size_t>(ceil_div(min64(kNC, n1 - n0), kNR) * kNR * kc_max));
  float* pa = scratch(1, static_cast<size_t>(ceil_div(min64(kMC, m1 - m0), kMR) * kMR * kc_max));
  alignas(64) float edge[kMR * kNR];
  for (int64_t jc = n0; jc < n1; jc += kNC) {
    const int64_t nc = min64(kNC, n1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += kKC) {
      const int64_t kc = min64(kKC, g.k - pc);
      const bool accumulate = g.accumulate || pc > 0;
      const float* bias = pc == 0 ? g.bias : nullptr;  // added once, with the first K block
      pack_b(g, pc, kc, jc, nc, pb);
      for (int64_t ic = m0; ic < m1; ic += kMC) {
        const int64_t mc = min64(kMC, m1 - ic);
        pack_a(g, ic, mc, pc, kc, pa);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int64_t nr = min64(kNR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            const int64_t mr = min64(kMR, mc - ir);
            float* c = g.c + (ic + ir) * g.ldc + jc + jr;
            const int64_t h = panel_rows(mr);
            const float* tile_bias = bias ? bias + jc + jr : nullptr;
            if (mr == h && nr == kNR) {
              tile(h, kc, pa + ir * kc, pb + jr * kc, c, g.ldc, accumulate, tile_bias);
            } else {
              // Same arithmetic into a full tile, then the valid part is added or copied.
              tile(h, kc, pa + ir * kc, pb + jr * kc, edge, kNR, false, nullptr);
              for (int64_t r = 0; r < mr; ++r)
                for (int64_t j = 0; j < nr; ++j) {
                  const float x = accumulate ? c[r * g.ldc + j] + edge[r * kNR + j] : edge[r * kNR + j];
                  c[r * g.ldc + j] = tile_bias ? x + tile_bias[j] : x;
                }
            }
          }
        }
      }
    }
  }
}

void blocked(const GemmArgs& g, int threads) {
  // Split C into tm × tn sub-blocks; each thread repacks the A rows and B columns it needs, so pick the
  // grid that repacks least: tn·M·K + tm·K·N.
  int tm = 1, tn = 1;
  double best = -1.0;
  for (int t = 1; t <= threads; ++t) {
    if (threads % t) continue;
    const int u = threads / t;
    if (t > ceil_div(g.m, kMR) || u > ceil_div(g.n, kNR)) continue;
    const double cost = double(u) * double(g.m) * double(g.k) + double(t) * double(g.k) * double(g.n);
    if (best < 0 || cost < best) best = cost, tm = t, tn = u;
  }
  const int64_t mstep = ceil_div(ceil_div(g.m, tm), kMR) * kMR;
  const int64_t nstep = ceil_div(ceil_div(g.n, tn), kNR) * kNR;
  parallel_for(int64_t(tm) * tn, [&](int64_t t) {
    const int64_t m0 = (t / tn) * mstep, n0 = (t % tn) * nstep;
    if (m0 < g.m && n0 < g.n) blocked_block(g, m0, min64(m0 + mstep, g.m), n0, min64(n0 + nstep, g.n));
  });
}

// ---------------------------------------------------------------------------------------------------
// Few rows (M ≤ kSmallM, or kSmallMDot with B transposed). `a` is M×K row-major here (transA is
// repacked first: it is tiny).

void small_m(const GemmArgs& g, int threads) {
  const float* a = g.a;
  int64_t lda = g.lda;
  if (g.trans_a) {
    float* t = scratch(2, static_cast<size_t>(g.m * g.k));
    for (int64_t p = 0; p < g.k; ++p)
      for (int64_t i = 0; i < g.m; ++i) t[i * g.k + p] = g.a[p * g.lda + i];
    a = t;
    lda = g.k;
  }
  // Tasks are column ranges in whole units of the widest tile, so that only the last one has a tail.
  const int64_t unit = g.trans_b ? kDotTile : int64_t(nv_for_rows(1)) * kLanes;
  const int64_t units = ceil_div(g.n, unit);
  const int64_t tasks = min64(units, threads > 1 ? int64_t(threads) * 2 : 1);
  const int64_t step = ceil_div(units, tasks) * unit;
  const bool prefetch = g.n * g.k * int64_t(sizeof(float)) > kDotPrefetchBytes;
  parallel_for(tasks, [&](int64_t t) {
    const int64_t j0 = t * step, j1 = min64(j0 + step, g.n);
    if (j0 >= j1) return;
    if (g.trans_b)
      return dot_block(g.m, a, lda, g.k, g.b, g.ldb, g.c, g.ldc, g.accumulate, g.bias, j0, j1, prefetch);
    for (int64_t i = 0; i < g.m; i += kAxpyRows)
      axpy_dispatch(int(min64(kAxpyRows, g.m - i)), a + i * lda, lda, g.k, g.b, g.ldb, g.c + i * g.ldc, g.ldc,
                    g.accumulate, j0, j1);
  });
}

// C (+)= bias on every row: the whole product when K = 0, and the bias of the few-row path with B not
// transposed, whose tiles (shared with attention) know nothing of biases.
void add_bias_rows(const GemmArgs& g) {
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      float* c = g.c + i * g.ldc + j;
      const float x = g.accumulate ? *c : 0.0f;
      *c = g.bias ? x + g.bias[j] : x;
    }
}

}  // namespace

void matmul_forward(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0) return add_bias_rows(g);
  const int threads = g.m * g.n * g.k < kMinParallelWork ? 1 : num_threads();
  if (g.m <= (g.trans_b ? kSmallMDot : kSmallM)) {
    if (g.bias && !g.trans_b) {
      add_bias_rows(g);
      GemmArgs rest = g;
      rest.accumulate = true;
      rest.bias = nullptr;
      return small_m(rest, threads);
    }
    small_m(g, threads);
  } else {
    blocked(g, threads);
  }
}

}  // namespace nf::cpu::NF_ISA_NS
