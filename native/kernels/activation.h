// Activations of a Transformer's feed-forward block, optionally with the bias of the Linear before them
// fused in, float32, row-major:
//
//   forward   y[r, j]  = f(x[r, j] + b[j])            x, y [rows, cols]; b [cols] or null (then f(x))
//   backward  dx[r, j] = dy[r, j] · f'(x[r, j] + b[j])
//             db[j]   += Σ_r dx[r, j]                  only with b (db [cols]); accumulates, like every
//                                                      parameter gradient
//
// Saved for backward: x (the input before the bias) and b; nothing else, f' is recomputed from them.
//
//   ReLU  f(h) = max(0, h),  f'(h) = 1 for h > 0, else 0 (PyTorch's choice at 0)
//   GELU  f(h) = h·Φ(h) = ½·h·erfc(−h/√2)  (exact form, PyTorch's approximate='none')
//         f'(h) = Φ(h) + h·φ(h),  φ(h) = exp(−h²/2)/√(2π)
//
// The SIMD GELU evaluates erfc(a), a = |h|/√2, with Numerical Recipes' Chebyshev fit
// t·exp(−a² + P(t)), t = 1/(1 + a/2) (fractional error < 1.2e-7 for every a ≥ 0), and 2 − erfc(a) for
// h > 0, so it keeps a small relative error even far into the negative tail where Φ(h) underflows slowly.
// The reference uses std::erf / std::exp in PyTorch's textbook form ½·h·(1 + erf(h/√2)).
// db is summed per chunk of rows, then over chunks in order (chunks_simd.h): any thread count, same bits.
#pragma once

#include <cstdint>

namespace nf::cpu {

enum class Act { Relu, Gelu };

using ActivationForwardFn = void (*)(Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols);
using ActivationBackwardFn = void (*)(Act act, const float* x, const float* b, const float* dy, float* dx,
                                      float* db, int64_t rows, int64_t cols);

// Plain loops, one thread: the naive variant.
namespace ref {
void activation_forward(Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void activation_backward(Act act, const float* x, const float* b, const float* dy, float* dx, float* db,
                         int64_t rows, int64_t cols);
}  // namespace ref

// SIMD, multi-threaded over chunks of rows.
namespace scalar {
void activation_forward(Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void activation_backward(Act act, const float* x, const float* b, const float* dy, float* dx, float* db,
                         int64_t rows, int64_t cols);
}  // namespace scalar
namespace avx2 {
void activation_forward(Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void activation_backward(Act act, const float* x, const float* b, const float* dy, float* dx, float* db,
                         int64_t rows, int64_t cols);
}  // namespace avx2
namespace avx512 {
void activation_forward(Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void activation_backward(Act act, const float* x, const float* b, const float* dy, float* dx, float* db,
                         int64_t rows, int64_t cols);
}  // namespace avx512
namespace neon {
void activation_forward(Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void activation_backward(Act act, const float* x, const float* b, const float* dy, float* dx, float* db,
                         int64_t rows, int64_t cols);
}  // namespace neon

}  // namespace nf::cpu
