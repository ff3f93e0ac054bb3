// One Adam / AdamW step over a flat parameter buffer, in place, float32 state, following PyTorch's
// torch.optim.Adam / AdamW (single-tensor path, amsgrad off) operation for operation:
//
//   g  = grad + wd·param                   Adam's L2 weight decay (not decoupled)
//   param ·= 1 − lr·wd                     AdamW's decoupled weight decay, before the update
//   m  = m + (1 − β1)·(g − m)              PyTorch's lerp form of β1·m + (1 − β1)·g
//   v  = β2·v + (1 − β2)·g²
//   param −= (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
//
// param, grad, m, v [n]; step t ≥ 1 is the count including this step. Scalars are formed in double and
// rounded to float once, as PyTorch does with Python floats. grad is only read. Element-wise, so any
// thread count gives the same bits.
#pragma once

#include <cstdint>

namespace nf::cpu {

struct AdamArgs {
  float* param;       // [n], updated
  const float* grad;  // [n]
  float* m;           // [n] first moment, updated
  float* v;           // [n] second moment, updated
  int64_t n;
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;  // AdamW
  int64_t step;    // t ≥ 1
};

using AdamUpdateFn = void (*)(const AdamArgs& a);

// The textbook form in separate passes (g + wd·p, m, v, m̂, v̂, the update), one thread: the naive variant.
namespace ref {
void adam_update(const AdamArgs& a);
}  // namespace ref

// One fused SIMD pass, threads over fixed chunks.
namespace scalar {
void adam_update(const AdamArgs& a);
}  // namespace scalar
namespace avx2 {
void adam_update(const AdamArgs& a);
}  // namespace avx2
namespace avx512 {
void adam_update(const AdamArgs& a);
}  // namespace avx512
namespace neon {
void adam_update(const AdamArgs& a);
}  // namespace neon

}  // namespace nf::cpu
