// Softmax over the last dimension on the GPU, float32, row-major. The maths is native/kernels/softmax.h
// (reference: softmax_ref.cc):
//
//   softmax_forward   y = exp(x − max x) / Σ exp(x − max x) per row of C
//     y [N, C]: also what backward needs (nothing else is saved); x [N, C]. A row of all −inf gives NaN
//     (−inf − (−inf)), as on the CPU and in PyTorch; −inf entries in a row with a finite maximum give 0.
//   softmax_backward  dx = y ∘ (dy − Σ dy∘y)   (assigned)
//     dx, dy, y [N, C].
//
// Geometry: a row of C ≤ 1024 gets one warp (8 rows per 256-thread block), so its max and sum are warp
// shuffles with no barrier; a longer row gets a 512-thread block and block_max / block_sum. Groups loop
// over rows (grid-stride, grid_for), so any N fits. The forward walks a row three times (max, Σexp, the
// output, recomputing exp rather than storing and re-reading it); the later walks hit L1/L2. Every element
// is read and written by one thread only, so y may be x (and dx may be dy).
#include "kernels.h"
#include "rows.cuh"

namespace nf::cuda {
namespace {


template <bool kWarp>
__global__ void forward_rows(float* y, const float* x, int64_t n, int64_t c) {
  __shared__ float shared[32];
  const RowGroup<kWarp> g;
  for (int64_t i = g.first; i < n; i += g.stride) {
    const float* xi = x + i * c;
    float* yi = y + i * c;
    float max = -INFINITY;
    for (int64_t j = g.lane; j < c; j += g.width) max = fmaxf(max, xi[j]);
    max = group_max<kWarp>(max, shared);
    float sum = 0.0f;
    for (int64_t j = g.lane; j < c; j += g.width) sum += expf(xi[j] - max);
    sum = group_sum<kWarp>(sum, shared);
    for (int64_t j = g.lane; j < c; j += g.width) yi[j] = expf(xi[j] - max) / sum;
  }
}

template <bool kWarp>
__global__ void backward_rows(float* dx, const float* dy, const float* y, int64_t n, int64_t c) {
  __shared__ float shared[32];
  const RowGroup<kWarp> g;
  for (int64_t i = g.first; i < n; i += g.stride) {
    const float* dyi = dy + i * c;
    const float* yi = y + i * c;
    float dot = 0.0f;
    for (int64_t j = g.lane; j < c; j += g.width) dot = fmaf(dyi[j], yi[j], dot);
    dot = group_sum<kWarp>(dot, shared);
    float* dxi = dx + i * c;
    for (int64_t j = g.lane; j < c; j += g.width) dxi[j] = yi[j] * (dyi[j] - dot);
  }
}

}  // namespace

void softmax_forward(float* y, const float* x, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0) return;
  if (c <= kWarpCols) forward_rows<true><<<grid_for(n, kWarpBlock / 32), kWarpBlock, 0, stream()>>>(y, x, n, c);
  else forward_rows<false><<<grid_for(n, 1), kRowBlock, 0, stream()>>>(y, x, n, c);
  check_launch("softmax_forward");
}

void softmax_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0) return;
  if (c <= kWarpCols) backward_rows<true><<<grid_for(n, kWarpBlock / 32), kWarpBlock, 0, stream()>>>(dx, dy, y, n, c);
  else backward_rows<false><<<grid_for(n, 1), kRowBlock, 0, stream()>>>(dx, dy, y, n, c);
  check_launch("softmax_backward");
}

}  // namespace nf::cuda
