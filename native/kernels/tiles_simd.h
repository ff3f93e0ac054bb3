// Register tiles that stream B from memory, shared by the kernels that multiply small blocks (the GEMM's
// few-rows path, attention's blocks). Included by per-ISA translation units (which define NF_SIMD_<ISA>
// and NF_ISA_NS); everything sits in an anonymous namespace, so each ISA gets its own internal copy.
//
//   axpy_dispatch<R, TA>(rows, a, lda, k, b, ldb, c, ldc, accumulate, j0, j1)
//     c[0:rows, j0:j1] (+)= A[0:rows, 0:k] · b[0:k, j0:j1], rows ≤ R, b row-major (ldb), c row-major (ldc);
//     A(r, p) = a[r·lda + p], or a[p·lda + r] when TA (A stored transposed, k × rows).
//   dot_dispatch<R>(rows, a, lda, k, b, ldb, c, ldc, accumulate, j0, j1, bias = null)
//     c[0:rows, j0:j1] (+)= A[0:rows, 0:k] · Bᵀ (+ bias[j0:j1] on every row) where b holds rows j of B
//     (N × k, ldb): vector dot products along k, for a B that is stored transposed and not worth packing.
//   dot_block(m, …, bias, j0, j1, prefetch): the same for any number of rows, reading each block of B
//     rows from memory once (prefetching the next block when B is too big for L2).
//   Each c element is one fixed-order sum over p, whatever R and the column split.
#pragma once

#ifndef NF_ISA_NS
#error "define NF_ISA_NS (the ISA's namespace) before including tiles_simd.h"
#endif

#include <cstdint>

#include "../simd.h"
#include "int_math.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

// Rows of B the streaming path prefetches ahead (measured best at 2-4 on Zen 5 with AVX-512).
constexpr int64_t kPrefetchRows = 4;

// Vectors per column tile for a group of R rows: the widest with R·NV ≤ kAccRegs, NV ∈ {8, 4, 3, 2, 1}.
// Wide tiles read B in long runs per row; NV = 3 rather than 2 for 7-8 rows was +11-44% at 8×512×2048.
constexpr int nv_for_rows(int r) {
  return r * 8 <= kAccRegs ? 8 : r * 4 <= kAccRegs ? 4 : r * 3 <= kAccRegs ? 3 : r * 2 <= kAccRegs ? 2 : 1;
}
constexpr int kAxpyRows = kAccRegs >= 24 ? 8 : kAccRegs >= 12 ? 6 : 4;

// c[0:R, 0:NV·L] (+)= a[0:R, 0:k] · b[0:k, 0:NV·L]; in the TAIL variant (NV = 1) only `n` < L columns.
template <int R, int NV, bool TAIL, bool TA = false>
void axpy_tile(const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb, float* c, int64_t ldc,
               bool accumulate, int n) {
  V acc[R][NV];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = vzero();
  for (int64_t p = 0; p < k; ++p) {
    if (!TAIL) {
#pragma GCC unroll 16
      for (int v = 0; v < NV * kLanes; v += 16) prefetch(b + (p + kPrefetchRows) * ldb + v);  // one per 64 B line
    }
    V bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = TAIL ? vload_n(b + p * ldb, n) : vload(b + p * ldb + v * kLanes);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const V av = vset1(TA ? a[p * lda + r] : a[r * lda + p]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = vfma(av, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      float* dst = c + r * ldc + v * kLanes;
      if (TAIL) {
        vstore_n(dst, accumulate ? vadd(vload_n(dst, n), acc[r][v]) : acc[r][v], n);
      } else {
        vstore(dst, accumulate ? vadd(vload(dst), acc[r][v]) : acc[r][v]);
      }
    }
}

// Columns [j0, j1) of R rows: wide tiles, then single vectors, then a masked tail.
template <int R, bool TA = false>
void axpy_rows(const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb, float* c, int64_t ldc,
               bool accumulate, int64_t j0, int64_t j1) {
  constexpr int NV = nv_for_rows(R);
  int64_t j = j0;
  for (; j + NV * kLanes <= j1; j += NV * kLanes)
    axpy_tile<R, NV, false, TA>(a, lda, k, b + j, ldb, c + j, ldc, accumulate, kLanes);
  for (; j + kLanes <= j1; j += kLanes) axpy_tile<R, 1, false, TA>(a, lda, k, b + j, ldb, c + j, ldc, accumulate, kLanes);
  if (j < j1) axpy_tile<R, 1, true, TA>(a, lda, k, b + j, ldb, c + j, ldc, accumulate, int(j1 - j));
}

template <int R = kAxpyRows, bool TA = false>
void axpy_dispatch(int rows, const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb, float* c,
                   int64_t ldc, bool accumulate, int64_t j0, int64_t j1) {
  if constexpr (R > 1) {
    if (rows < R) return axpy_dispatch<R - 1, TA>(rows, a, lda, k, b, ldb, c, ldc, accumulate, j0, j1);
  }
  axpy_rows<R, TA>(a, lda, k, b, ldb, c, ldc, accumulate, j0, j1);
}

// The dot-product tiles hold kDotTile accumulators, R rows × NB columns of c with R·NB = kDotTile, and
// reduce them with vsum_lanes (kLanes sums in ~3 instructions each rather than ~8): at k = 256 a 4×4
// tile is 256 multiply-adds, and sixteen separate vsums would add ~130 instructions.
constexpr int kDotRows = kAccRegs >= 16 ? 4 : 2;
constexpr int kDotTile = kDotRows * 4;
// One row takes half a tile: 16 rows of B 4 KiB apart (k = 1024) fall in one L1 set and evict each other
// (1×1024×256: 22 → 43 GFLOP/s with 8 columns).
constexpr int dot_cols_for(int r) { return r == 1 ? kDotTile / 2 : kDotTile / (r == 3 ? 4 : r); }

// c[0:R, 0:NB] (+)= a[0:R, 0:k] · bᵀ (+ bias[0:NB] on every row, if given) where b is NB rows of length k;
// with PF, the same lines of the NB rows at pf are prefetched along the way.
template <int R, int NB, bool PF = false>
void dot_tile(const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb, float* c, int64_t ldc,
              bool accumulate, const float* bias, const float* pf = nullptr) {
  constexpr int kAcc = R * NB;
  V acc[kAcc];
#pragma GCC unroll 16
  for (int i = 0; i < kAcc; ++i) acc[i] = vzero();
  int64_t p = 0;
  for (; p + kLanes <= k; p += kLanes) {
    V bv[NB];
    if constexpr (PF) {
#pragma GCC unroll 16
      for (int j = 0; j < NB; ++j) prefetch(pf + j * ldb + p);
    }
#pragma GCC unroll 16
    for (int j = 0; j < NB; ++j) bv[j] = vload(b + j * ldb + p);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const V av = vload(a + r * lda + p);
#pragma GCC unroll 16
      for (int j = 0; j < NB; ++j) acc[r * NB + j] = vfma(av, bv[j], acc[r * NB + j]);
    }
  }
  if (p < k) {
    const int n = int(k - p);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const V av = vload_n(a + r * lda + p, n);
#pragma GCC unroll 16
      for (int j = 0; j < NB; ++j) acc[r * NB + j] = vfma(av, vload_n(b + j * ldb + p, n), acc[r * NB + j]);
    }
  }
  alignas(64) float s[(kAcc + kLanes - 1) / kLanes * kLanes];
  int i = 0;
#pragma GCC unroll 4
  for (; i + kLanes <= kAcc; i += kLanes) vstore(s + i, vsum_lanes(acc + i));
#pragma GCC unroll 16
  for (; i < kAcc; ++i) s[i] = vsum(acc[i]);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int j = 0; j < NB; ++j) {
      float* dst = c + r * ldc + j;
      const float x = accumulate ? *dst + s[r * NB + j] : s[r * NB + j];
      *dst = bias ? x + bias[j] : x;
    }
}

// Columns [j0, j1) of R ≤ kDotRows rows: tiles of dot_cols_for(R) columns, then single columns; rows
// j0.. of pf (same ldb) prefetched alongside, if given.
template <int R>
void dot_cols(const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb, float* c, int64_t ldc,
              bool accumulate, const float* bias, int64_t j0, int64_t j1, const float* pf) {
  constexpr int NB = dot_cols_for(R);
  int64_t j = j0;
  for (; j + NB <= j1; j += NB) {
    const float* bj = bias ? bias + j : nullptr;
    if (pf) dot_tile<R, NB, true>(a, lda, k, b + j * ldb, ldb, c + j, ldc, accumulate, bj, pf + (j - j0) * ldb);
    else dot_tile<R, NB>(a, lda, k, b + j * ldb, ldb, c + j, ldc, accumulate, bj);
  }
  for (; j < j1; ++j) dot_tile<R, 1>(a, lda, k, b + j * ldb, ldb, c + j, ldc, accumulate, bias ? bias + j : nullptr);
}

template <int R = kDotRows>
void dot_dispatch(int rows, const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb, float* c,
                  int64_t ldc, bool accumulate, int64_t j0, int64_t j1, const float* bias = nullptr,
                  const float* pf = nullptr) {
  if constexpr (R > 1) {
    if (rows < R) return dot_dispatch<R - 1>(rows, a, lda, k, b, ldb, c, ldc, accumulate, j0, j1, bias, pf);
  }
  dot_cols<R>(a, lda, k, b, ldb, c, ldc, accumulate, bias, j0, j1, pf);
}

// B larger than this comes from L3 or DRAM rather than L2, and dot_block prefetches it a block ahead
// (A/B-measured on Zen 5, one thread: +10-27% at 8000×256 and 32000×512; at 1 MiB, where B stays in
// L2, the extra load-port work cost 9-13%; 2-4 MiB about even).
constexpr int64_t kDotPrefetchBytes = int64_t(4) << 20;

// c[0:m, j0:j1] (+)= a[0:m, 0:k] · b[j0:j1, 0:k]ᵀ (+ bias): blocks of kDotTile columns outermost, so that
// each block of b is read from memory once, whatever m, and from L1/L2 by the other row groups. With
// `prefetch`, the first row group's tiles prefetch the next block.
inline void dot_block(int64_t m, const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb, float* c,
                      int64_t ldc, bool accumulate, const float* bias, int64_t j0, int64_t j1, bool prefetch) {
  if (m <= kDotRows) {
    // One row group needs no blocks (a call per block cost ~4% at 1×256×256): its tiles prefetch rows one
    // block ahead of their own, up to the last whole block, which has nothing ahead.
    const int64_t jp = prefetch ? j0 + max64(0, (j1 - j0) / kDotTile - 1) * kDotTile : j0;
    if (jp > j0)
      dot_dispatch(int(m), a, lda, k, b, ldb, c, ldc, accumulate, j0, jp, bias, b + (j0 + kDotTile) * ldb);
    return dot_dispatch(int(m), a, lda, k, b, ldb, c, ldc, accumulate, jp, j1, bias);
  }
  for (int64_t jb = j0; jb < j1; jb += kDotTile) {
    const int64_t je = min64(jb + kDotTile, j1);
    const float* next = prefetch && je + kDotTile <= j1 ? b + je * ldb : nullptr;
    for (int64_t i = 0; i < m; i += kDotRows)
      dot_dispatch(int(min64(kDotRows, m - i)), a + i * lda, lda, k, b, ldb, c + i * ldc, ldc, accumulate, jb, je,
                   bias, i == 0 ? next : nullptr);
  }
}

}  // namespace
}  // namespace nf::cpu::NF_ISA_NS
