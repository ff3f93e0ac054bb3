// Vocabulary shared by the row-wise kernels (layer_norm, softmax, cross_entropy): how rows are split
// into tasks, and loops over one row written once against simd.h. Included by per-ISA translation units
// (which define NF_SIMD_<ISA> and NF_ISA_NS); everything sits in an anonymous namespace, so each ISA gets
// its own internal copy.
//
//   row_tasks(n, c)             rows per task and task count: a function of the shape only, so per-task
//                               partial sums (dγ, dβ, the loss) are the same for any thread count
//   task_rows(t, k, n)          the rows [begin, end) of task k
//   for_each_row(n, c, f)       f(i) for every row, tasks spread over the thread pool
//   ld(p, n) / st(p, v, n)      a whole vector (n = kLanes) or the first n lanes, zeros above
//   pad(v, n, fill)             lanes ≥ n replaced by fill (e.g. −inf before a max, 0 before a sum)
//   fold(c, init, f, merge)     acc = f(acc, j, n) over the row's vectors in four interleaved accumulators
//                               (hides the add latency), merged in a fixed order
//   each(c, f)                  f(j, n) over the row's vectors
//   exp1(x)                     e^x by the same vexp as the vector loops (a lane to patch stays consistent)
#pragma once

#ifndef NF_ISA_NS
#error "define NF_ISA_NS (the ISA's namespace) before including rows_simd.h"
#endif

#include <cstdint>

#include "../simd.h"
#include "../threadpool.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

// About 128 KiB of input per task: long enough to amortise handing it to a thread, short enough that a
// (4096, 512) batch splits into 64 tasks. A single task runs on the caller (no threads for small inputs).
constexpr int64_t kTaskElems = int64_t(1) << 15;

struct RowTasks {
  int64_t rows;   // rows per task (the last task may have fewer)
  int64_t count;  // number of tasks
};

inline RowTasks row_tasks(int64_t n, int64_t c) {
  const int64_t per = c >= kTaskElems ? 1 : kTaskElems / (c > 0 ? c : 1);
  return RowTasks{per, n > 0 ? (n + per - 1) / per : 0};
}

struct Range {
  int64_t begin, end;
};

inline Range task_rows(const RowTasks& t, int64_t k, int64_t n) {
  const int64_t begin = k * t.rows;
  return Range{begin, begin + t.rows < n ? begin + t.rows : n};
}

template <class F>
inline void for_each_row(int64_t n, int64_t c, F f) {
  const RowTasks t = row_tasks(n, c);
  parallel_for(t.count, [&](int64_t k) {
    const Range r = task_rows(t, k, n);
    for (int64_t i = r.begin; i < r.end; ++i) f(i);
  });
}

alignas(64) constexpr float kIota[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

inline V ld(const float* p, int n) { return n == kLanes ? vload(p) : vload_n(p, n); }
inline void st(float* p, V v, int n) {
  if (n == kLanes)
    vstore(p, v);
  else
    vstore_n(p, v, n);
}
inline V pad(V v, int n, float fill) {
  return n == kLanes ? v : vselect_gt(vset1(float(n)), vload(kIota), v, vset1(fill));
}

template <class A, class F, class M>
inline A fold(int64_t c, A init, F f, M merge) {
  A a0 = init, a1 = init, a2 = init, a3 = init;
  int64_t j = 0;
  for (; j + 4 * kLanes <= c; j += 4 * kLanes) {
    a0 = f(a0, j, kLanes);
    a1 = f(a1, j + kLanes, kLanes);
    a2 = f(a2, j + 2 * kLanes, kLanes);
    a3 = f(a3, j + 3 * kLanes, kLanes);
  }
  for (; j + kLanes <= c; j += kLanes) a0 = f(a0, j, kLanes);
  if (j < c) a1 = f(a1, j, int(c - j));
  return merge(merge(a0, a1), merge(a2, a3));
}

template <class F>
inline void each(int64_t c, F f) {
  int64_t j = 0;
  for (; j + kLanes <= c; j += kLanes) f(j, kLanes);
  if (j < c) f(j, int(c - j));
}

inline float exp1(float x) {
  float lanes[kLanes];
  vstore(lanes, vexp(vset1(x)));
  return lanes[0];
}

}  // namespace
}  // namespace nf::cpu::NF_ISA_NS
