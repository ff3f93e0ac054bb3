// One Adam / AdamW step on the GPU over a flat parameter buffer, in place, float32 state. The maths is
// native/kernels/adam.h, and the operation order is that of its fused CPU kernel (adam_simd.h), which
// follows PyTorch's single-tensor path:
//
//   g  = grad + wd·param              (Adam's L2 decay: fmaf(wd, param, grad))
//   param ·= 1 − lr·wd                (AdamW's decoupled decay, before the update)
//   m  = m + (1 − β1)·(g − m)         (fmaf(1 − β1, g − m, m): PyTorch's lerp)
//   v  = β2·v + (1 − β2)·g²           (fmaf(1 − β2, g·g, v·β2))
//   param −= (lr / (1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + eps)
//
// param, m, v [n] updated; grad [n] read. Nothing is saved. The scalars are formed in double on the host
// and rounded to float once, as on the CPU (and as PyTorch does with Python floats); division and sqrtf
// are IEEE-rounded (no fast-math), every multiply-add adam_simd.h fuses is an explicit fmaf, and the one
// product it rounds on its own (param·decay, before the subtraction) is __fmul_rn, which cannot be fused.
// The results are the bits of that operation order. Note: GCC's default -ffp-contract=fast fuses that
// product into the subtraction in the CPU's AVX2 / AVX-512 builds, so for AdamW (weight decay ≠ 0)
// those differ from these in the last bit of param.
//
// Geometry: a grid-stride loop over n (grid_for, 256 threads), one parameter per thread per step: 28
// bytes of memory traffic per parameter, which is all the time there is.
#include <cmath>

#include "common.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

constexpr int kThreads = 256;

struct AdamConsts {
  float l2, decay, w1, beta2, w2, step_size, bc2_sqrt, eps;
};

template <bool kL2, bool kDecoupled>
__global__ void adam_kernel(float* param, const float* grad, float* m, float* v, int64_t n, AdamConsts k) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float p = param[i], g = grad[i], mi = m[i], vi = v[i];
    if constexpr (kL2) g = fmaf(k.l2, p, g);
    // __fmul_rn: rounded on its own, as adam.h orders it; ptxas would otherwise be free to fuse this
    // product into the subtraction below (one rounding fewer, a different last bit).
    if constexpr (kDecoupled) p = __fmul_rn(p, k.decay);
    mi = fmaf(k.w1, g - mi, mi);
    vi = fmaf(k.w2, g * g, vi * k.beta2);
    const float denom = sqrtf(vi) / k.bc2_sqrt + k.eps;
    p = p - k.step_size * mi / denom;
    param[i] = p;
    m[i] = mi;
    v[i] = vi;
  }
}

}  // namespace

void adam_update(const cpu::AdamArgs& a) {
  if (a.n <= 0) return;
  const double t = double(a.step);
  const AdamConsts k{float(a.weight_decay),
                     float(1.0 - a.lr * a.weight_decay),
                     float(1.0 - a.beta1),
                     float(a.beta2),
                     float(1.0 - a.beta2),
                     float(a.lr / (1.0 - std::pow(a.beta1, t))),
                     float(std::sqrt(1.0 - std::pow(a.beta2, t))),
                     float(a.eps)};
  const unsigned grid = grid_for(a.n, kThreads);
  const bool decay = a.weight_decay != 0.0;
  if (decay && a.decoupled) adam_kernel<false, true><<<grid, kThreads, 0, stream()>>>(a.param, a.grad, a.m, a.v, a.n, k);
  else if (decay) adam_kernel<true, false><<<grid, kThreads, 0, stream()>>>(a.param, a.grad, a.m, a.v, a.n, k);
  else adam_kernel<false, false><<<grid, kThreads, 0, stream()>>>(a.param, a.grad, a.m, a.v, a.n, k);
  check_launch("adam_update");
}

}  // namespace nf::cuda
