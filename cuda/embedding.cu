// Token embedding on the GPU, float32 table, int32 ids. The maths is native/kernels/embedding.h
// (reference: embedding_ref.cc):
//
//   embedding_forward   out[i, :] = w[ids[i], :]          w [vocab, cols], ids [n], out [n, cols]
//   embedding_backward  dw[ids[i], :] += dout[i, :]       for every i with ids[i] ≠ padding_idx
//                                                          (kNoPadding: every row); dw [vocab, cols]
//   Saved for backward: ids.
//
// The CPU binding checks every id before its kernel runs; here the ids live on the device, so the forward
// checks them there: a pass over the ids records the lowest position of an id outside [0, vocab) (atomicMin
// on a device word), the copy skips such rows (writing nothing for them), and the launcher synchronises to
// read the word and throws Code::OutOfRange with the binding's message. The backward skips ids outside
// [0, vocab) (the forward has refused them; this keeps a bad id from writing outside dw when the backward
// is called on its own).
//
// Geometry: grid-stride loops over the n·cols elements (grid_for, 256 threads), so a warp copies 32
// adjacent floats of a row (coalesced on both sides) whatever cols is; the row and column are tracked along
// the loop (one division per thread, not per element). The backward adds with atomicAdd: rows sharing an
// id add in an unspecified order, so dw is NOT bit-deterministic on the GPU (it is on the CPU, which adds
// the rows in order); the differences are float rounding only.
#include <string>

#include "common.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

constexpr int kThreads = 256;
constexpr unsigned long long kNoPosition = ~0ull;

__global__ void check_ids(const int32_t* ids, int64_t n, int64_t vocab, unsigned long long* bad) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    if (ids[i] < 0 || ids[i] >= vocab) atomicMin(bad, static_cast<unsigned long long>(i));
}

// Element e = r·cols + j of a [n, cols] array, advanced by a grid-stride loop's stride: one division per
// thread, then a carry when the column passes the end of the row.
struct Cursor {
  int64_t r, j, step_r, step_j, cols;
  __device__ Cursor(int64_t e, int64_t stride, int64_t cols)
      : r(e / cols), j(e % cols), step_r(stride / cols), step_j(stride % cols), cols(cols) {}
  __device__ void advance() {
    r += step_r;
    j += step_j;
    if (j >= cols) {
      j -= cols;
      ++r;
    }
  }
};

__global__ void forward_kernel(const float* w, const int32_t* ids, float* out, int64_t total, int64_t cols,
                               int64_t vocab) {
  int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (Cursor at(e, stride, cols); e < total; e += stride, at.advance()) {
    const int32_t id = ids[at.r];
    if (id >= 0 && id < vocab) out[e] = w[int64_t(id) * cols + at.j];
  }
}

__global__ void backward_kernel(const int32_t* ids, const float* dout, float* dw, int64_t total, int64_t cols,
                                int64_t padding_idx, int64_t vocab) {
  int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (Cursor at(e, stride, cols); e < total; e += stride, at.advance()) {
    const int32_t id = ids[at.r];
    if (id != padding_idx && id >= 0 && id < vocab) atomicAdd(dw + int64_t(id) * cols + at.j, dout[e]);
  }
}

}  // namespace

void embedding_forward(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols, int64_t vocab) {
  if (n <= 0) return;
  Scratch flag(sizeof(unsigned long long));
  unsigned long long* bad = flag.as<unsigned long long>();
  check(cudaMemsetAsync(bad, 0xFF, sizeof(unsigned long long), stream()), "embedding_forward (clear)");
  check_ids<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(ids, n, vocab, bad);
  check_launch("embedding_forward (ids)");
  if (cols > 0) {
    forward_kernel<<<grid_for(n * cols, kThreads), kThreads, 0, stream()>>>(w, ids, out, n * cols, cols, vocab);
    check_launch("embedding_forward");
  }
  unsigned long long position = kNoPosition;
  check(cudaMemcpyAsync(&position, bad, sizeof position, cudaMemcpyDeviceToHost, stream()), "embedding_forward (copy)");
  check(cudaStreamSynchronize(stream()), "embedding_forward (synchronize)");
  if (position == kNoPosition) return;
  int32_t id = 0;
  check(cudaMemcpyAsync(&id, ids + position, sizeof id, cudaMemcpyDeviceToHost, stream()), "embedding_forward (copy id)");
  check(cudaStreamSynchronize(stream()), "embedding_forward (synchronize)");
  throw Error(Code::OutOfRange, "Expected ids in [0, " + std::to_string(vocab) + ") but ids[" +
                                    std::to_string(position) + "] is " + std::to_string(id));
}

void embedding_backward(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols,
                        int64_t padding_idx, int64_t vocab) {
  if (n <= 0 || cols <= 0) return;
  backward_kernel<<<grid_for(n * cols, kThreads), kThreads, 0, stream()>>>(ids, dout, dw, n * cols, cols, padding_idx,
                                                                           vocab);
  check_launch("embedding_backward");
}

}  // namespace nf::cuda
