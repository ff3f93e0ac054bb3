// The GEMM against packed weights of matmul_packed.h, written once against simd.h and compiled by each
// per-ISA translation unit (matmul_packed_<isa>.cc), which defines NF_SIMD_<ISA> and NF_ISA_NS first.
//
// A tile is R rows of C × NP panels (16·NP columns): per k it loads NP·kPV vectors of W, one from each
// panel's contiguous block, and broadcasts R elements of A into R·NP·kPV accumulators. Column blocks of
// NP panels are outermost, so each block of W is read from memory once and from L1/L2 by the other row
// groups. NP is the widest (up to 4) whose accumulators still hold min(M, 12) rows: on AVX-512 4 panels
// for 1-6 rows (one row alone has 4 independent chains, enough to keep up with W streaming from L2), 3
// for 7-8 and 2 (tiles of 12 rows) beyond. Measured on Zen 5, one thread, against NP forced to 2, 3 or 4
// everywhere: within noise of the best at 1, 8 and 32 rows.
// Every tile gives each C element the one fma chain of matmul_packed.h, so neither the tiles nor the
// thread split (whole panels) change a bit.
#pragma once

#include "../simd.h"
#include "../threadpool.h"
#include "int_math.h"
#include "matmul_packed.h"

#ifndef NF_ISA_NS
#error "define NF_ISA_NS (the ISA's namespace) before including matmul_packed_simd.h"
#endif

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

constexpr int kPV = int(kPackCols) / kLanes;  // vectors per panel row
constexpr int kMaxRows = 12;
// Rows of a tile of np panels: as many as the accumulator registers allow (0: no such tile on this ISA).
constexpr int rows_for(int np) {
  return kAccRegs / (np * kPV) < kMaxRows ? kAccRegs / (np * kPV) : kMaxRows;
}
// Below this many multiply-adds a second thread costs more than it saves.
constexpr int64_t kMinParallelWork = int64_t(1) << 17;

// c[0:R, 0:16·NP] = a[0:R, 0:k] · (NP panels at w)ᵀ (+ bias), only the first `cols` columns written.
template <int R, int NP>
void tile(const float* __restrict a, int64_t k, const float* __restrict w, float* __restrict c, int64_t ldc,
          const float* __restrict bias, int64_t cols) {
  constexpr int NV = NP * kPV;
  const int64_t panel = kPackCols * k;
  V acc[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[r][v] = vzero();
  for (int64_t p = 0; p < k; ++p) {
    V wv[NV];
#pragma GCC unroll 4
    for (int q = 0; q < NP; ++q)
#pragma GCC unroll 4
      for (int v = 0; v < kPV; ++v) wv[q * kPV + v] = vload(w + q * panel + p * kPackCols + v * kLanes);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const V av = vset1(a[r * k + p]);
#pragma GCC unroll 16
      for (int v = 0; v < NV; ++v) acc[r][v] = vfma(av, wv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) {
    const int64_t j = int64_t(v) * kLanes;  // panels are adjacent in C: vector v covers columns j…j+kLanes-1
    if (j >= cols) break;
    const int n = cols - j < kLanes ? int(cols - j) : kLanes;
    const V b = !bias ? vzero() : n == kLanes ? vload(bias + j) : vload_n(bias + j, n);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const V x = bias ? vadd(acc[r][v], b) : acc[r][v];
      if (n == kLanes) vstore(c + r * ldc + j, x);
      else vstore_n(c + r * ldc + j, x, n);
    }
  }
}

template <int NP, int R = rows_for(NP)>
void tile_rows(int rows, const float* a, int64_t k, const float* w, float* c, int64_t ldc, const float* bias,
               int64_t cols) {
  if constexpr (R > 1) {
    if (rows < R) return tile_rows<NP, R - 1>(rows, a, k, w, c, ldc, bias, cols);
  }
  tile<R, NP>(a, k, w, c, ldc, bias, cols);
}

// Panels [q0, q1) for all m rows: blocks of NP panels, each for every row group, then the rest in
// narrower blocks.
template <int NP>
void panels(const PackedGemmArgs& g, int64_t q0, int64_t q1) {
  if constexpr (rows_for(NP) < 1) {
    return panels<NP - 1>(g, q0, q1);
  } else {
    constexpr int64_t kRows = rows_for(NP);
    int64_t q = q0;
    for (; q + NP <= q1; q += NP) {
      const int64_t j = q * kPackCols, cols = min64(NP * kPackCols, g.n - j);
      const float* w = g.packed + q * kPackCols * g.k;
      const float* bias = g.bias ? g.bias + j : nullptr;
      for (int64_t i = 0; i < g.m; i += kRows)
        tile_rows<NP>(int(min64(kRows, g.m - i)), g.a + i * g.k, g.k, w, g.c + i * g.n + j, g.n, bias, cols);
    }
    if constexpr (NP > 1) {
      if (q < q1) panels<NP - 1>(g, q, q1);
    }
  }
}

// The widest tile (up to 4 panels) that still holds min(m, rows_for(1)) rows.
void panels_for(const PackedGemmArgs& g, int64_t q0, int64_t q1) {
  const int64_t rows = min64(g.m, rows_for(1));
  if (rows_for(4) >= rows) return panels<4>(g, q0, q1);
  if (rows_for(3) >= rows) return panels<3>(g, q0, q1);
  if (rows_for(2) >= rows) return panels<2>(g, q0, q1);
  panels<1>(g, q0, q1);
}

}  // namespace

void matmul_packed_forward(const PackedGemmArgs& g) {
  if (g.m <= 0 || g.n <= 0) return;
  const int64_t panel_count = ceil_div(g.n, kPackCols);
  const int threads = g.m * g.n * g.k < kMinParallelWork ? 1 : num_threads();
  // Tasks are runs of whole blocks of 4 panels, so that only the last one has a narrower block.
  const int64_t units = ceil_div(panel_count, 4);
  const int64_t tasks = min64(units, threads > 1 ? int64_t(threads) * 2 : 1);
  const int64_t step = ceil_div(units, tasks) * 4;
  parallel_for_if(tasks > 1, tasks, [&](int64_t t) {
    const int64_t q0 = t * step, q1 = min64(q0 + step, panel_count);
    if (q0 < q1) panels_for(g, q0, q1);
  });
}

}  // namespace nf::cpu::NF_ISA_NS
