// Cross-entropy fused with log-softmax, with PyTorch's semantics (torch.nn.functional.cross_entropy with
// label_smoothing ε and ignore_index, reduction 'mean'), float32 logits [N, V], int32 targets [N].
//
//   q_c = (1 − ε)·[c = t] + ε/V,  lse = log Σ_c exp(x_c) (max-subtracted),
//   loss_i = −Σ_c q_c·log p_c = lse − (1 − ε)·x_t − (ε/V)·Σ_c x_c   (the Σx term only when ε > 0, so a
//            −inf logit does not give 0·∞)
//   forward:  lse [N] saved (0 for ignored rows); returns Σ loss_i over kept rows in double, summed per
//             task then in task order (so the same for any thread count). The caller divides by the count
//             of kept rows (0 kept rows: 0/0 = NaN, as PyTorch).
//   backward: dlogits = (softmax(x) − q)·scale for kept rows, 0 for ignored rows, in one pass over the
//             logits (scale = gradOutput / count).
// Targets must be ignore_index or in [0, V): the binding checks them before any kernel runs.
#pragma once

#include <cstdint>

namespace nf::cpu {

struct CrossEntropyArgs {
  int64_t n, v;
  const float* logits;     // [N, V]
  const int32_t* targets;  // [N]
  float label_smoothing;   // ε in [0, 1]
  int32_t ignore_index;
};

using CrossEntropyForwardFn = double (*)(const CrossEntropyArgs& a, float* lse);
using CrossEntropyBackwardFn = void (*)(const CrossEntropyArgs& a, const float* lse, float scale, float* dlogits);

// ref: the textbook loops with std::exp, one thread (the naive twin). The others: SIMD (vexp), threaded.
namespace ref {
double cross_entropy_forward(const CrossEntropyArgs& a, float* lse);
void cross_entropy_backward(const CrossEntropyArgs& a, const float* lse, float scale, float* dlogits);
}  // namespace ref
namespace scalar {
double cross_entropy_forward(const CrossEntropyArgs& a, float* lse);
void cross_entropy_backward(const CrossEntropyArgs& a, const float* lse, float scale, float* dlogits);
}  // namespace scalar
namespace avx2 {
double cross_entropy_forward(const CrossEntropyArgs& a, float* lse);
void cross_entropy_backward(const CrossEntropyArgs& a, const float* lse, float scale, float* dlogits);
}  // namespace avx2
namespace avx512 {
double cross_entropy_forward(const CrossEntropyArgs& a, float* lse);
void cross_entropy_backward(const CrossEntropyArgs& a, const float* lse, float scale, float* dlogits);
}  // namespace avx512
namespace neon {
double cross_entropy_forward(const CrossEntropyArgs& a, float* lse);
void cross_entropy_backward(const CrossEntropyArgs& a, const float* lse, float scale, float* dlogits);
}  // namespace neon

}  // namespace nf::cpu
