// A fixed pool of native worker threads (no OpenMP) that kernels split work over.
//
// parallel_for(n, fn) runs fn(i) for i in [0, n) on the caller plus the workers and returns when all are
// done. Which thread runs which index is not fixed, so a kernel must make every index write its own
// outputs with an order of arithmetic that does not depend on the thread count: that is what keeps
// results bit-identical with 1 and N threads. A call made while the pool is busy (another JS thread,
// a libuv worker) runs serially on its caller instead of waiting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace nf {

using TaskFn = void (*)(void* ctx, int64_t index);

// Number of threads a parallel_for may use, the caller included (>= 1).
int num_threads();
// Resizes the pool; n < 1 means "the machine's cores". Returns the new count.
int set_num_threads(int n);
// The cores this process may run on (sched affinity), >= 1.
int hardware_threads();

void run_parallel(int64_t n, TaskFn fn, void* ctx);

template <class F>
inline void parallel_for(int64_t n, F&& fn) {
  using Fn = std::remove_reference_t<F>;  // fn may be an lvalue (F = Fn&)
  run_parallel(
      n, [](void* ctx, int64_t i) { (*static_cast<Fn*>(ctx))(i); }, const_cast<void*>(static_cast<const void*>(&fn)));
}

// parallel_for when `worth_it` (the caller's judgement of the work, from the shape only), else the same
// indices in order on the calling thread: small calls skip the hand-off to the pool.
template <class F>
inline void parallel_for_if(bool worth_it, int64_t n, F&& fn) {
  if (worth_it && n > 1) {
    parallel_for(n, fn);
  } else {
    for (int64_t i = 0; i < n; ++i) fn(i);
  }
}

// A grow-only, 64-byte aligned scratch buffer owned by the calling thread (slot 0..3). Kernels use it for
// packing so that a hot loop never calls malloc. Throws nf::Error on allocation failure.
float* scratch(int slot, size_t floats);

}  // namespace nf
