// How the element-wise kernels (activation, add, dropout, adam, embedding) split their work, included by
// their <family>_simd.h inside the ISA's anonymous namespace. Tasks are fixed ranges of the data whose
// boundaries depend on the shape only, and whether to use threads at all depends on the size only, so a
// kernel gives the same bits with any thread count. A reduction over rows (a bias gradient) is summed per
// chunk into its own partial row, then the partials are added in chunk order.
#pragma once

#include <vector>

#include "../simd.h"
#include "../threadpool.h"
#include "int_math.h"

#ifndef NF_ISA_NS
#error "define NF_ISA_NS (the ISA's namespace) before including chunks_simd.h"
#endif

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

// 16 Ki floats (64 KiB) per task: large enough that handing out a task costs nothing next to it, small
// enough to balance two to sixteen threads on the sizes of a Transformer layer.
constexpr int64_t kChunk = int64_t(1) << 14;
// Below this many elements a second thread costs more than it saves.
constexpr int64_t kMinParallel = int64_t(1) << 15;

// Runs task(0 .. tasks-1), on the pool when `work` elements are worth it.
template <class F>
void run_tasks(int64_t tasks, int64_t work, F&& task) {
  parallel_for_if(work >= kMinParallel, tasks, task);
}

// fn(i0, i1) over [0, n) in pieces of kChunk.
template <class F>
void for_chunks(int64_t n, F&& fn) {
  run_tasks(ceil_div(n, kChunk), n, [&](int64_t c) { fn(c * kChunk, min64(n, (c + 1) * kChunk)); });
}

// Whole rows per task, about kChunk elements (one row when rows are wider).
inline int64_t rows_per_chunk(int64_t cols) { return cols >= kChunk ? 1 : kChunk / cols; }

// fn(r0, r1) over the rows of a [rows, cols] matrix (cols ≥ 1).
template <class F>
void for_row_chunks(int64_t rows, int64_t cols, F&& fn) {
  const int64_t step = rows_per_chunk(cols);
  run_tasks(ceil_div(rows, step), rows * cols, [&](int64_t c) { fn(c * step, min64(rows, (c + 1) * step)); });
}

// acc[0, n) += x[0, n).
inline void add_into(float* acc, const float* x, int64_t n) {
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) vstore(acc + j, vadd(vload(acc + j), vload(x + j)));
  if (j < n) vstore_n(acc + j, vadd(vload_n(acc + j, int(n - j)), vload_n(x + j, int(n - j))), int(n - j));
}

// Like for_row_chunks, and also db[cols] += the column sums of what fn produces: fn(r0, r1, partial) adds
// each row it makes into partial (zeroed, cols floats, its own), and the partials are added into db in
// chunk order, column block by column block.
template <class F>
void for_row_chunks_colsum(int64_t rows, int64_t cols, float* db, F&& fn) {
  const int64_t step = rows_per_chunk(cols), chunks = ceil_div(rows, step);
  std::vector<float> partials(size_t(chunks * cols), 0.0f);
  run_tasks(chunks, rows * cols,
            [&](int64_t c) { fn(c * step, min64(rows, (c + 1) * step), partials.data() + c * cols); });
  for_chunks(cols, [&](int64_t j0, int64_t j1) {
    for (int64_t c = 0; c < chunks; ++c) add_into(db + j0, partials.data() + c * cols + j0, j1 - j0);
  });
}

}  // namespace
}  // namespace nf::cpu::NF_ISA_NS
