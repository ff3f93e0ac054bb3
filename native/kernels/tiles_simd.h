// Register tiles that stream B from memory, shared by the kernels that multiply small blocks (the GEMM's
// few-rows path, attention's blocks). Included by per-ISA translation units (which define NF_SIMD_<ISA>
// and NF_ISA_NS); everything sits in an anonymous namespace, so each ISA gets its own internal copy.
//
//   axpy_dispatch<R, TA>(rows, a, lda, k, b, ldb, c, ldc, accumulate, j0, j1)
//     c[0:rows, j0:j1] (+)= A[0:rows, 0:k] · b[0:k, j0:j1], rows ≤ R, b row-major (ldb), c row-major (ldc);
//     A(r, p) = a[r·lda + p], or a[p·lda + r] when TA (A stored transposed, k × rows).
//   dot_dispatch<R>(rows, a, lda, k, b, ldb, c, ldc, accumulate, j0, j1)
//     c[0:rows, j0:j1] (+)= A[0:rows, 0:k] · Bᵀ where b holds rows j of B (N × k, ldb): vector dot products
//     along k, for a B that is stored transposed and not worth packing.
//   Each c element is one fixed-order sum over p, whatever R and the column split.
#pragma once

#ifndef NF_ISA_NS
#error "define NF_ISA_NS (the ISA's namespace) before including tiles_simd.h"
#endif

#include <cstdint>

#include "../simd.h"

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

constexpr int kDotRows = kAccRegs >= 16 ? 4 : 2;
constexpr int kDotCols = 4;

// c[0:R, 0:NB] (+)= a[0:R, 0:k] · bᵀ where b is NB rows of length k: vector dot products along k.
template <int R, int NB>
void dot_tile(const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb, float* c, int64_t ldc,
              bool accumulate) {
  V acc[R][NB];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) acc[r][j] = vzero();
  int64_t p = 0;
  for (; p + kLanes <= k; p += kLanes) {
    V bv[NB];
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) bv[j] = vload(b + j * ldb + p);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const V av = vload(a + r * lda + p);
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[r][j] = vfma(av, bv[j], acc[r][j]);
    }
  }
  if (p < k) {
    const int n = int(k - p);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const V av = vload_n(a + r * lda + p, n);
#pragma GCC unroll 4
      for (int j = 0; j < NB; ++j) acc[r][j] = vfma(av, vload_n(b + j * ldb + p, n), acc[r][j]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) {
      const float s = vsum(acc[r][j]);
      c[r * ldc + j] = accumulate ? c[r * ldc + j] + s : s;
    }
}

template <int R = kDotRows>
void dot_dispatch(int rows, const float* a, int64_t lda, int64_t k, const float* b, int64_t ldb, float* c,
                  int64_t ldc, bool accumulate, int64_t j0, int64_t j1) {
  if constexpr (R > 1) {
    if (rows < R) return dot_dispatch<R - 1>(rows, a, lda, k, b, ldb, c, ldc, accumulate, j0, j1);
  }
  int64_t j = j0;
  for (; j + kDotCols <= j1; j += kDotCols)
    dot_tile<R, kDotCols>(a, lda, k, b + j * ldb, ldb, c + j, ldc, accumulate);
  for (; j < j1; ++j) dot_tile<R, 1>(a, lda, k, b + j * ldb, ldb, c + j, ldc, accumulate);
}

}  // namespace
}  // namespace nf::cpu::NF_ISA_NS
