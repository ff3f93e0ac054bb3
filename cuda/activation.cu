// The feed-forward activations on the GPU, optionally with the preceding Linear's bias fused in, float32,
// row-major. The maths is native/kernels/activation.h (reference: activation_ref.cc):
//
//   activation_forward   y[r, j]  = f(x[r, j] + b[j])        x, y [rows, cols]; b [cols] or null (then f(x))
//   activation_backward  dx[r, j] = dy[r, j] · f'(x[r, j] + b[j])   (assigned)
//                        db[j]   += Σ_r dx[r, j]              only with b; accumulated
//   Saved for backward: x (before the bias) and b; f' is recomputed from them.
//
//   ReLU  f(h) = max(0, h) (a NaN stays NaN), f'(h) = 1 for h > 0, else 0 (PyTorch's choice at 0); the
//         backward selects dy or 0, so an infinite dy where h ≤ 0 gives 0, as the CPU's SIMD kernels.
//   GELU  f(h) = ½·h·erfc(−h/√2) = h·Φ(h), the exact form (PyTorch's approximate='none'); erfcf keeps the
//         relative accuracy far into the negative tail, where 1 + erf(h/√2) would cancel.
//         f'(h) = Φ(h) + h·φ(h), φ(h) = exp(−h²/2)/√(2π)
//
// Geometry: grid-stride loops over the rows·cols elements (grid_for, 256 threads); the bias's column is
// tracked along the loop (one division per thread, not per element). Each element is read and written by
// one thread, so y may be x and dx may be dy. db is add_bias_backward (add.cu) over the dx just written:
// a deterministic column sum of the same values the CPU sums.
#include "common.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

using cpu::Act;

constexpr int kThreads = 256;
constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

template <Act A>
__device__ __forceinline__ float act_forward(float h) {
  if constexpr (A == Act::Relu) return h > 0.0f || isnan(h) ? h : 0.0f;
  else return 0.5f * h * erfcf(-h * kInvSqrt2);
}

// dy · f'(h)
template <Act A>
__device__ __forceinline__ float act_backward(float h, float dy) {
  if constexpr (A == Act::Relu) {
    return h > 0.0f ? dy : 0.0f;
  } else {
    const float phi = kInvSqrt2Pi * expf(-0.5f * (h * h));
    return dy * fmaf(h, phi, 0.5f * erfcf(-h * kInvSqrt2));
  }
}

template <Act A, bool kBias>
__global__ void forward_kernel(const float* x, const float* b, float* y, int64_t total, int64_t cols) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x, step = stride % cols;
  int64_t j = i % cols;  // the column of i, advanced with the loop: j + step < 2·cols
  for (; i < total; i += stride) {
    y[i] = act_forward<A>(kBias ? x[i] + b[j] : x[i]);
    if constexpr (kBias) {
      j += step;
      if (j >= cols) j -= cols;
    }
  }
}

template <Act A, bool kBias>
__global__ void backward_kernel(const float* x, const float* b, const float* dy, float* dx, int64_t total,
                                int64_t cols) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x, step = stride % cols;
  int64_t j = i % cols;
  for (; i < total; i += stride) {
    dx[i] = act_backward<A>(kBias ? x[i] + b[j] : x[i], dy[i]);
    if constexpr (kBias) {
      j += step;
      if (j >= cols) j -= cols;
    }
  }
}

template <Act A>
void forward(const float* x, const float* b, float* y, int64_t total, int64_t cols) {
  const unsigned grid = grid_for(total, kThreads);
  if (b) forward_kernel<A, true><<<grid, kThreads, 0, stream()>>>(x, b, y, total, cols);
  else forward_kernel<A, false><<<grid, kThreads, 0, stream()>>>(x, b, y, total, cols);
}

template <Act A>
void backward(const float* x, const float* b, const float* dy, float* dx, int64_t total, int64_t cols) {
  const unsigned grid = grid_for(total, kThreads);
  if (b) backward_kernel<A, true><<<grid, kThreads, 0, stream()>>>(x, b, dy, dx, total, cols);
  else backward_kernel<A, false><<<grid, kThreads, 0, stream()>>>(x, b, dy, dx, total, cols);
}

}  // namespace

void activation_forward(Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  if (act == Act::Relu) forward<Act::Relu>(x, b, y, rows * cols, cols);
  else forward<Act::Gelu>(x, b, y, rows * cols, cols);
  check_launch("activation_forward");
}

void activation_backward(Act act, const float* x, const float* b, const float* dy, float* dx, float* db,
                         int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  if (act == Act::Relu) backward<Act::Relu>(x, b, dy, dx, rows * cols, cols);
  else backward<Act::Gelu>(x, b, dy, dx, rows * cols, cols);
  check_launch("activation_backward");
  if (b) add_bias_backward(dx, db, rows, cols);
}

}  // namespace nf::cuda
