// LayerNorm over the last dimension, float32, row-major, with an optional fused residual add.
//
//   forward:  s = x + r (when a residual r is given, else s = x), per row of C:
//             mean = Σs/C, var = Σ(s − mean)²/C (two passes: no E[s²] − mean² cancellation),
//             rstd = 1/√(var + eps), y = (s − mean)·rstd·γ + β
//     y [N, C]; sum [N, C] = s, written only with a residual (null otherwise); mean, rstd [N] saved for
//     backward; x, r [N, C] (r may be null); γ, β [C].
//   backward: x̂ = (s − mean)·rstd, g = dy·γ,
//             dx = rstd·(g − mean(g) − x̂·mean(g·x̂))   (assigned; with a residual dr = dx as well)
//             dγ += Σ_rows dy·x̂, dβ += Σ_rows dy      (parameter gradients accumulate)
//     dx [N, C]; dγ, dβ [C]; dy [N, C]; s [N, C] (x, or the saved sum); γ [C]; mean, rstd [N].
//
// The SIMD version reads each row from memory once (the statistics and the output passes run over the
// row while it is in L1) and splits rows into tasks fixed by the shape; dγ and dβ are per-task partials
// summed in task order, so results are bit-identical for any thread count.
#pragma once

#include <cstdint>

namespace nf::cpu {

struct LayerNormArgs {
  int64_t n, c;
  const float* x;         // [N, C]
  const float* residual;  // [N, C], or null
  const float* gamma;     // [C]
  const float* beta;      // [C]
  float eps;
  float* y;     // [N, C]
  float* sum;   // [N, C]: x + residual; null exactly when residual is
  float* mean;  // [N]
  float* rstd;  // [N]
};

struct LayerNormGradArgs {
  int64_t n, c;
  const float* dy;     // [N, C]
  const float* s;      // [N, C]: the normalised input (x, or the saved sum)
  const float* gamma;  // [C]
  const float* mean;   // [N]
  const float* rstd;   // [N]
  float* dx;           // [N, C], assigned
  float* dgamma;       // [C], accumulated
  float* dbeta;        // [C], accumulated
};

using LayerNormForwardFn = void (*)(const LayerNormArgs&);
using LayerNormBackwardFn = void (*)(const LayerNormGradArgs&);

// ref: the textbook loops, one row at a time on one thread (the naive twin). The others: SIMD, threaded.
namespace ref { void layer_norm_forward(const LayerNormArgs& a); void layer_norm_backward(const LayerNormGradArgs& a); }
namespace scalar { void layer_norm_forward(const LayerNormArgs& a); void layer_norm_backward(const LayerNormGradArgs& a); }
namespace avx2 { void layer_norm_forward(const LayerNormArgs& a); void layer_norm_backward(const LayerNormGradArgs& a); }
namespace avx512 { void layer_norm_forward(const LayerNormArgs& a); void layer_norm_backward(const LayerNormGradArgs& a); }
namespace neon { void layer_norm_forward(const LayerNormArgs& a); void layer_norm_backward(const LayerNormGradArgs& a); }

}  // namespace nf::cpu
