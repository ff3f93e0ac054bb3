// Dropout on the GPU with the CPU's counter-based random stream, float32. The maths is
// native/kernels/dropout.h (reference: dropout_ref.cc):
//
//   dropout_forward   y[i] = keep(seed, offset + i) ? x[i]·scale : 0      x, y [n]
//   backward          the same call on dy with the same p, seed and offset: nothing is saved (the mask is
//                     recomputed), so it is the same kernel.
//
// The mask is the CPU's bit for bit: the host forms the keys, threshold and scale with dropout.h's own
// dropout_mask, and each thread hashes its counter c = offset + i with dropout.h's own dropout_bits
// (compiled for the device too), bits = mix(mix(lo32(c) ^ k0) ^ (k1 ^ hi32(c))), keeping the element when
// bits ≥ threshold. A dropped
// element is +0 even where x is NaN or infinite. p = 0 copies x (nothing when y is x); p = 1 writes zeros.
//
// Geometry: a grid-stride loop over n (grid_for, 256 threads), one element per thread per step; the
// hash is a few integer multiplies, far below the memory time. y may be x: each element is read and
// written by one thread.
#include "common.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void dropout_kernel(const float* x, float* y, int64_t n, uint64_t offset, cpu::DropoutMask mask) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const uint64_t c = offset + uint64_t(i);
    const uint32_t bits = cpu::dropout_bits(mask.k0, mask.k1 ^ uint32_t(c >> 32), uint32_t(c));
    y[i] = bits >= mask.threshold ? x[i] * mask.scale : 0.0f;
  }
}

}  // namespace

void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset) {
  if (n <= 0) return;
  if (p <= 0.0) {
    if (x != y)
      check(cudaMemcpyAsync(y, x, size_t(n) * sizeof(float), cudaMemcpyDeviceToDevice, stream()), "dropout_forward (copy)");
    return;
  }
  if (p >= 1.0) {
    check(cudaMemsetAsync(y, 0, size_t(n) * sizeof(float), stream()), "dropout_forward (zero)");
    return;
  }
  dropout_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(x, y, n, offset, cpu::dropout_mask(p, seed));
  check_launch("dropout_forward");
}

}  // namespace nf::cuda
