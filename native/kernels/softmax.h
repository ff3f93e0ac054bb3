// Softmax over the last dimension, float32, row-major.
//
//   forward:  y = exp(x − max x) / Σ exp(x − max x) per row of C
//     y [N, C] (also what backward needs); x [N, C].
//     A row of all −inf gives NaN, as in PyTorch (there is no distribution to return); −inf entries in a
//     row with a finite maximum give exactly 0.
//   backward: dx = y ∘ (dy − Σ dy∘y)   (assigned)
//     dx [N, C]; dy [N, C]; y [N, C].
//
// Rows are independent, so any split over threads gives the same bits.
#pragma once

#include <cstdint>

namespace nf::cpu {

using SoftmaxForwardFn = void (*)(float* y, const float* x, int64_t n, int64_t c);
using SoftmaxBackwardFn = void (*)(float* dx, const float* dy, const float* y, int64_t n, int64_t c);

// ref: the textbook loops with std::exp, one thread (the naive twin). The others: SIMD (vexp), threaded.
namespace ref {
void softmax_forward(float* y, const float* x, int64_t n, int64_t c);
void softmax_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t c);
}  // namespace ref
namespace scalar {
void softmax_forward(float* y, const float* x, int64_t n, int64_t c);
void softmax_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t c);
}  // namespace scalar
namespace avx2 {
void softmax_forward(float* y, const float* x, int64_t n, int64_t c);
void softmax_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t c);
}  // namespace avx2
namespace avx512 {
void softmax_forward(float* y, const float* x, int64_t n, int64_t c);
void softmax_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t c);
}  // namespace avx512
namespace neon {
void softmax_forward(float* y, const float* x, int64_t n, int64_t c);
void softmax_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t c);
}  // namespace neon

}  // namespace nf::cpu
