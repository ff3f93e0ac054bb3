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
//
// matmul_bf16_forward always takes the blocked path, in one of two modes (see matmul.h for what it
// computes): Bf16Emu turns each packed float32 panel into bf16-rounded values with every pair of rows
// swapped (the odd k first, as VDPBF16PS adds it) and runs the float32 micro-kernel over them with denormal
// sums flushed; Bf16Pairs (the avx512bf16 translation unit, NF_BF16_NATIVE) turns the panel into rows of
// bf16 pairs, half as many, and runs VDPBF16PS. Both reuse the float32 packing, so the only new work is one
// pass over each panel while it is in cache.
#pragma once

#include <cstring>

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

enum class Mode { F32, Bf16Emu, Bf16Pairs };
#if defined(NF_BF16_NATIVE)
constexpr Mode kBf16Mode = Mode::Bf16Pairs;
#else
constexpr Mode kBf16Mode = Mode::Bf16Emu;
#endif
// K per block (matmul.h fixes the bf16 one, since it is part of the result's definition).
template <Mode M>
constexpr int64_t kc_of = M == Mode::F32 ? kKC : kBf16KC;
// Packed rows per K block of kc elements: kc; kc rounded up to even (a zero row pads the last pair); one
// row of pairs per two.
template <Mode M>
constexpr int64_t packed_k(int64_t kc) {
  return M == Mode::F32 ? kc : M == Mode::Bf16Emu ? (kc + 1) / 2 * 2 : (kc + 1) / 2;
}

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
// bf16 panels: a packed float32 panel (kc rows of w floats) rewritten as the bf16 mode's panel
// (packed_k(kc) rows of w), from a staging buffer that the float32 packing has just filled (still in cache).

// The widest panel: a B panel (kNR columns) or an A panel (kMR rows).
constexpr int kMaxPanel = kNR > kMR ? kNR : kMR;
// The missing row of an odd kc's last pair.
alignas(64) constexpr float kZeroRow[kMaxPanel] = {};

#if defined(NF_BF16_NATIVE)
// 16 dwords (bf16(even[i]), bf16(odd[i])), the even one in the low half (VDPBF16PS's element order).
// VCVTNE2PS2BF16 rounds as bf16_bits does (checked bit for bit by the tests), and one VPERMW interleaves the
// two halves it returns.
inline V bf16_pairs(V even, V odd) {
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                              22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_castsi512_ps(_mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(odd, even)));
}

// Row q of dst holds the w pairs of rows 2q and 2q + 1.
inline void bf16_panel(const float* src, float* dst, int64_t kc, int64_t w) {
  for (int64_t q = 0; q < packed_k<Mode::Bf16Pairs>(kc); ++q) {
    const float* even = src + 2 * q * w;
    const float* odd = 2 * q + 1 < kc ? even + w : kZeroRow;
    for (int64_t c = 0; c < w; c += kLanes) {
      const int n = int(min64(kLanes, w - c));
      vstore_n(dst + q * w + c, bf16_pairs(vload_n(even + c, n), vload_n(odd + c, n)), n);
    }
  }
}

// B[p0:p0+kc, j0:j0+nc] stored K×N straight into panels of pairs, `rows` ≥ kc / 2 rows apart (rows past
// kc's are left to the caller), without the float32 staging: rows 2q and 2q + 1 are read in long runs, as
// pack_b's grouped path does (64×512×2048, one thread: 0.78 → 0.69 ms).
inline void pack_b_pairs(const GemmArgs& g, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* dst,
                         int64_t rows) {
  const int64_t kq = packed_k<Mode::Bf16Pairs>(kc);
  for (int64_t q = 0; q < kq; ++q) {
    const float* even = g.b + (p0 + 2 * q) * g.ldb + j0;
    const float* odd = 2 * q + 1 < kc ? even + g.ldb : nullptr;
    for (int64_t j = 0; j < nc; j += kLanes) {
      const int n = int(min64(kLanes, nc - j));
      // Column j of the panel j / kNR; the padding of a last, partial panel is the zeros of vload_n.
      const V pairs = bf16_pairs(vload_n(even + j, n), odd ? vload_n(odd + j, n) : vzero());
      vstore(dst + (j / kNR) * kNR * rows + q * kNR + j % kNR, pairs);
    }
    if (ceil_div(nc, kLanes) * kLanes < ceil_div(nc, kNR) * kNR)  // a last panel with a whole vector of padding
      vstore(dst + (nc / kNR) * kNR * rows + q * kNR + kLanes, vzero());
  }
}
#else
// Rows 2q and 2q + 1 of dst are bf16(row 2q + 1) and bf16(row 2q): the odd one first, as VDPBF16PS adds it.
inline void bf16_panel(const float* src, float* dst, int64_t kc, int64_t w) {
  for (int64_t q = 0; q < packed_k<Mode::Bf16Emu>(kc) / 2; ++q) {
    const float* even = src + 2 * q * w;
    const float* odd = 2 * q + 1 < kc ? even + w : kZeroRow;
    for (int64_t c = 0; c < w; c += kLanes) {
      const int n = int(min64(kLanes, w - c));
      vstore_n(dst + 2 * q * w + c, vbf16(vload_n(odd + c, n)), n);
      vstore_n(dst + (2 * q + 1) * w + c, vbf16(vload_n(even + c, n)), n);
    }
  }
}
#endif

// The panels of src (widths w[0…count), kc rows each, back to back) as the mode's panels at dst.
inline void bf16_panels(const float* src, float* dst, int64_t kc, const int64_t* w, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    bf16_panel(src, dst, kc, w[i]);
    src += w[i] * kc;
    dst += w[i] * packed_k<kBf16Mode>(kc);
  }
}

// ---------------------------------------------------------------------------------------------------
// The register tile: c[0:MR, 0:NR] (+)= pa (kp × MR) · pb (kp × NR) (+ bias[0:NR] on every row, if given),
// kp packed rows of the mode's panels.

#if !defined(NF_SIMD_AVX512) && !defined(NF_SIMD_AVX2)
// The emulation's step where MXCSR cannot flush denormals for it: one exact fma (the scalar build's vfma
// rounds twice), then the flush.
inline V vfma_bf16(V a, V b, V c) {
#if defined(NF_SIMD_NEON)
  const V r = vfma(a, b, c);
  const uint32x4_t tiny = vcaltq_f32(r, vdupq_n_f32(1.17549435e-38f));
  return vbslq_f32(tiny, vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(r), vdupq_n_u32(0x80000000u))), r);
#else
  V r;
  for (int i = 0; i < kLanes; ++i) r.x[i] = bf16_fma(a.x[i], b.x[i], c.x[i]);
  return r;
#endif
}
#endif

template <int MR, Mode M>
inline void micro_kernel(int64_t kp, const float* __restrict pa, const float* __restrict pb, float* __restrict c,
                         int64_t ldc, bool accumulate, const float* __restrict bias) {
  V acc[MR][kNV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) acc[r][v] = vzero();
#if defined(NF_SIMD_AVX512) || defined(NF_SIMD_AVX2)
  // The emulation flushes denormal sums as VDPBF16PS does, by MXCSR's FTZ bit (the FMAs then give its bits
  // exactly); only for the chains, not for the stores' additions. The empty asm statements pin the chains
  // between the two MXCSR writes, which the compiler would otherwise be free to move them across.
  [[maybe_unused]] unsigned csr = 0;
  if constexpr (M == Mode::Bf16Emu) {
    csr = _mm_getcsr();
    _mm_setcsr(csr | 0x8000u);
    for (int r = 0; r < MR; ++r)
      for (int v = 0; v < kNV; ++v) __asm__ volatile("" : "+v"(acc[r][v]) : : "memory");
  }
#endif
  for (int64_t p = 0; p < kp; ++p, pa += MR, pb += kNR) {
    V b[kNV];
#pragma GCC unroll 4
    for (int v = 0; v < kNV; ++v) b[v] = vload(pb + v * kLanes);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      const V a = vset1(pa[r]);
#pragma GCC unroll 4
      for (int v = 0; v < kNV; ++v) {
#if defined(NF_BF16_NATIVE)
        if constexpr (M == Mode::Bf16Pairs) {
          acc[r][v] = _mm512_dpbf16_ps(acc[r][v], (__m512bh)a, (__m512bh)b[v]);
          continue;
        }
#elif !defined(NF_SIMD_AVX512) && !defined(NF_SIMD_AVX2)
        if constexpr (M == Mode::Bf16Emu) {
          acc[r][v] = vfma_bf16(a, b[v], acc[r][v]);
          continue;
        }
#endif
        acc[r][v] = vfma(a, b[v], acc[r][v]);
      }
    }
  }
#if defined(NF_SIMD_AVX512) || defined(NF_SIMD_AVX2)
  if constexpr (M == Mode::Bf16Emu) {
    for (int r = 0; r < MR; ++r)
      for (int v = 0; v < kNV; ++v) __asm__ volatile("" : "+v"(acc[r][v]) : : "memory");
    _mm_setcsr(csr);
  }
#endif
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
template <Mode M, int MR = kMR>
inline void tile(int64_t h, int64_t kp, const float* pa, const float* pb, float* c, int64_t ldc, bool accumulate,
                 const float* bias) {
  if constexpr (MR > kMRStep) {
    if (h < MR) return tile<M, MR - kMRStep>(h, kp, pa, pb, c, ldc, accumulate, bias);
  }
  micro_kernel<MR, M>(kp, pa, pb, c, ldc, accumulate, bias);
}

// c[0:mr, 0:nr] = (c +) edge (+ bias), edge being a tile computed whole into a buffer (rows lde apart)
// whose first mr rows and nr columns are C's.
inline void store_edge(float* c, int64_t ldc, const float* edge, int64_t lde, int64_t mr, int64_t nr, bool accumulate,
                       const float* bias) {
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t j = 0; j < nr; j += kLanes) {
      const int n = int(min64(kLanes, nr - j));
      float* dst = c + r * ldc + j;
      V x = vload_n(edge + r * lde + j, n);
      if (accumulate) x = vadd(vload_n(dst, n), x);
      if (bias) x = vadd(x, vload_n(bias + j, n));
      vstore_n(dst, x, n);
    }
}

// C[m0:m1, n0:n1] of the blocked path, on the calling thread.
template <Mode M>
void blocked_block(const GemmArgs& g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  constexpr int64_t kc_block = kc_of<M>;
  // Room for the mode's panels (a row more than float32 when kc is odd).
  const int64_t kc_max = min64(kc_block, g.k), rows_max = packed_k<M>(kc_max);
  float* pb = scratch(0, static_cast<size_t>(ceil_div(min64(kNC, n1 - n0), kNR) * kNR * rows_max));
  float* pa = scratch(1, static_cast<size_t>(ceil_div(min64(kMC, m1 - m0), kMR) * kMR * rows_max));
  // The bf16 modes pack float32 panels into a staging buffer (A's block, or B's panels a group at a time)
  // and rewrite them from there while they are in cache.
  constexpr int64_t kStageCols = 8 * kNR;
  float* stage = M == Mode::F32 ? nullptr : scratch(3, static_cast<size_t>(max64(kStageCols, kMC + kMR) * kc_max));
  [[maybe_unused]] int64_t widths[kStageCols / kNR > kMC / kMRStep + 1 ? kStageCols / kNR : kMC / kMRStep + 1];
  alignas(64) float edge[kMR * kNR];
  for (int64_t jc = n0; jc < n1; jc += kNC) {
    const int64_t nc = min64(kNC, n1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += kc_block) {
      const int64_t kc = min64(kc_block, g.k - pc), kp = packed_k<M>(kc);
      const bool accumulate = g.accumulate || pc > 0;
      const float* bias = pc == 0 ? g.bias : nullptr;  // added once, with the first K block
      if constexpr (M == Mode::F32) {
        pack_b(g, pc, kc, jc, nc, pb);
      } else {
#if defined(NF_BF16_NATIVE)
        if (!g.trans_b) {
          pack_b_pairs(g, pc, kc, jc, nc, pb, kp);
        } else
#endif
        for (int64_t j = 0; j < nc; j += kStageCols) {
          const int64_t cols = min64(kStageCols, nc - j), count = ceil_div(cols, kNR);
          pack_b(g, pc, kc, jc + j, cols, stage);
          for (int64_t i = 0; i < count; ++i) widths[i] = kNR;
          bf16_panels(stage, pb + j * kp, kc, widths, count);
        }
      }
      for (int64_t ic = m0; ic < m1; ic += kMC) {
        const int64_t mc = min64(kMC, m1 - ic);
        if constexpr (M == Mode::F32) {
          pack_a(g, ic, mc, pc, kc, pa);
        } else {
          pack_a(g, ic, mc, pc, kc, stage);
          int64_t count = 0;
          for (int64_t ir = 0; ir < mc; ir += kMR) widths[count++] = panel_rows(min64(kMR, mc - ir));
          bf16_panels(stage, pa, kc, widths, count);
        }
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int64_t nr = min64(kNR, nc - jr);
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            const int64_t mr = min64(kMR, mc - ir);
            float* c = g.c + (ic + ir) * g.ldc + jc + jr;
            const int64_t h = panel_rows(mr);
            const float* tile_bias = bias ? bias + jc + jr : nullptr;
            if (mr == h && nr == kNR) {
              tile<M>(h, kp, pa + ir * kp, pb + jr * kp, c, g.ldc, accumulate, tile_bias);
            } else {
              // Same arithmetic into a full tile, then the valid part is added or copied.
              tile<M>(h, kp, pa + ir * kp, pb + jr * kp, edge, kNR, false, nullptr);
              store_edge(c, g.ldc, edge, kNR, mr, nr, accumulate, tile_bias);
            }
          }
        }
      }
    }
  }
}

// Runs block(m0, m1, n0, n1) over a tm × tn grid of C's sub-blocks, one per thread, cut at multiples of the
// mr × nr tile. Each thread repacks the A rows and B columns it needs, so the grid is the one that repacks
// least: tn·M·K + tm·K·N.
template <class Block>
void split_grid(const GemmArgs& g, int threads, int64_t mr, int64_t nr, Block&& block) {
  int tm = 1, tn = 1;
  double best = -1.0;
  for (int t = 1; t <= threads; ++t) {
    if (threads % t) continue;
    const int u = threads / t;
    if (t > ceil_div(g.m, mr) || u > ceil_div(g.n, nr)) continue;
    const double cost = double(u) * double(g.m) * double(g.k) + double(t) * double(g.k) * double(g.n);
    if (best < 0 || cost < best) best = cost, tm = t, tn = u;
  }
  const int64_t mstep = ceil_div(ceil_div(g.m, tm), mr) * mr;
  const int64_t nstep = ceil_div(ceil_div(g.n, tn), nr) * nr;
  parallel_for(int64_t(tm) * tn, [&](int64_t t) {
    const int64_t m0 = (t / tn) * mstep, n0 = (t % tn) * nstep;
    if (m0 < g.m && n0 < g.n) block(m0, min64(m0 + mstep, g.m), n0, min64(n0 + nstep, g.n));
  });
}

template <Mode M>
void blocked(const GemmArgs& g, int threads) {
  split_grid(g, threads, kMR, kNR,
             [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) { blocked_block<M>(g, m0, m1, n0, n1); });
}

#if !defined(NF_BF16_NATIVE)
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

#endif

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

#if !defined(NF_BF16_NATIVE)
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
    blocked<Mode::F32>(g, threads);
  }
}
#endif

// Every shape takes the blocked path: the bf16 inputs must be rounded (packed) anyway.
void matmul_bf16_forward(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0) return add_bias_rows(g);
  blocked<kBf16Mode>(g, g.m * g.n * g.k < kMinParallelWork ? 1 : num_threads());
}

}  // namespace nf::cpu::NF_ISA_NS
