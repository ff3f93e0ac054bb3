// Additions of a Transformer, float32, row-major:
//
//   add_bias_forward    y[r, j] = x[r, j] + b[j]        x, y [rows, cols], b [cols]
//   add_bias_backward   db[j]  += Σ_r dy[r, j]          (dx = dy: nothing to compute); accumulates
//   add_forward         y[i] = a[i] + b[i]              a, b, y [n] (the residual connection; its backward
//                                                       hands dy to both inputs)
//
// Nothing is saved for backward. db is summed per chunk of rows, then over chunks in order
// (chunks_simd.h), so it has the same bits with any thread count; the reference sums rows in order.
#pragma once

#include <cstdint>

namespace nf::cpu {

using AddBiasForwardFn = void (*)(const float* x, const float* b, float* y, int64_t rows, int64_t cols);
using AddBiasBackwardFn = void (*)(const float* dy, float* db, int64_t rows, int64_t cols);
using AddForwardFn = void (*)(const float* a, const float* b, float* y, int64_t n);

// Plain loops, one thread: the naive variant.
namespace ref {
void add_bias_forward(const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void add_bias_backward(const float* dy, float* db, int64_t rows, int64_t cols);
void add_forward(const float* a, const float* b, float* y, int64_t n);
}  // namespace ref

// SIMD, multi-threaded over chunks.
namespace scalar {
void add_bias_forward(const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void add_bias_backward(const float* dy, float* db, int64_t rows, int64_t cols);
void add_forward(const float* a, const float* b, float* y, int64_t n);
}  // namespace scalar
namespace avx2 {
void add_bias_forward(const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void add_bias_backward(const float* dy, float* db, int64_t rows, int64_t cols);
void add_forward(const float* a, const float* b, float* y, int64_t n);
}  // namespace avx2
namespace avx512 {
void add_bias_forward(const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void add_bias_backward(const float* dy, float* db, int64_t rows, int64_t cols);
void add_forward(const float* a, const float* b, float* y, int64_t n);
}  // namespace avx512
namespace neon {
void add_bias_forward(const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void add_bias_backward(const float* dy, float* db, int64_t rows, int64_t cols);
void add_forward(const float* a, const float* b, float* y, int64_t n);
}  // namespace neon

}  // namespace nf::cpu
