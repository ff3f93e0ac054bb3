// The additions of add.h, written once against simd.h and compiled by each per-ISA translation unit
// (add_{scalar,avx2,avx512,neon}.cc). Memory-bound: one pass, threads over fixed chunks.
#pragma once

#include "../simd.h"
#include "add.h"
#include "chunks_simd.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

// y[0, n) = a[0, n) + b[0, n)
void add_span(const float* a, const float* b, float* y, int64_t n) {
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) vstore(y + j, vadd(vload(a + j), vload(b + j)));
  if (j < n) vstore_n(y + j, vadd(vload_n(a + j, int(n - j)), vload_n(b + j, int(n - j))), int(n - j));
}

}  // namespace

void add_bias_forward(const float* x, const float* b, float* y, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) add_span(x + r * cols, b, y + r * cols, cols);
  });
}

void add_bias_backward(const float* dy, float* db, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  for_row_chunks_colsum(rows, cols, db, [&](int64_t r0, int64_t r1, float* partial) {
    for (int64_t r = r0; r < r1; ++r) add_into(partial, dy + r * cols, cols);
  });
}

void add_forward(const float* a, const float* b, float* y, int64_t n) {
  for_chunks(n, [&](int64_t i0, int64_t i1) { add_span(a + i0, b + i0, y + i0, i1 - i0); });
}

}  // namespace nf::cpu::NF_ISA_NS
