// The embedding lookup of embedding.h for one ISA (embedding_{scalar,avx2,avx512,neon}.cc). The forward
// is a row copy per id; the backward gives each task a block of columns and walks all ids in order over
// it, so the scatter-add needs no atomics and sums each element in the order of the ids. How the columns
// are split therefore never changes a result, and the split may follow the thread count.
#pragma once

#include <cstring>

#include "../simd.h"
#include "chunks_simd.h"
#include "embedding.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

// Below this many elements of dout the backward stays on one thread: each task walks every id, so a
// second one pays for itself only on wide tables or many ids (A/B: 2048 ids × 256 columns ran slower on
// two threads than on one).
constexpr int64_t kMinParallelBackward = int64_t(1) << 20;

}  // namespace

void embedding_forward(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols) {
  if (n <= 0 || cols <= 0) return;
  for_row_chunks(n, cols, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) std::memcpy(out + i * cols, w + int64_t(ids[i]) * cols, size_t(cols) * sizeof(float));
  });
}

void embedding_backward(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols, int64_t padding_idx) {
  if (n <= 0 || cols <= 0) return;
  const int64_t tasks = n * cols < kMinParallelBackward ? 1 : min64(num_threads(), ceil_div(cols, 16));
  // Blocks of whole cache lines (16 floats): two tasks share no line of dw when rows start on one.
  const int64_t block = ceil_div(ceil_div(cols, tasks), 16) * 16;
  const auto task = [&](int64_t t) {
    const int64_t j0 = t * block, width = min64(cols, j0 + block) - j0;
    for (int64_t i = 0; i < n && width > 0; ++i) {
      if (ids[i] == padding_idx) continue;
      add_into(dw + int64_t(ids[i]) * cols + j0, dout + i * cols + j0, width);
    }
  };
  parallel_for_if(tasks > 1, tasks, task);
}

}  // namespace nf::cpu::NF_ISA_NS
