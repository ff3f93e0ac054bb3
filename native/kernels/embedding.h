// Token embedding, float32 table, int32 ids:
//
//   embedding_forward   out[i, :] = w[ids[i], :]              w [vocab, cols], ids [n], out [n, cols]
//   embedding_backward  dw[ids[i], :] += dout[i, :]           for every i with ids[i] ≠ padding_idx
//
// Saved for backward: ids. Every id must lie in [0, vocab): the bindings check them all before a kernel
// runs (kernels do not re-check). The backward accumulates into dw (a parameter gradient) and is
// deterministic: threads split the columns, and each column adds the rows in order i = 0, 1, …, exactly
// as the reference does, so fused, naive and any thread count give the same bits. padding_idx = kNoPadding
// gives every row its gradient; otherwise the padding row gets none (PyTorch's padding_idx).
#pragma once

#include <cstdint>

namespace nf::cpu {

constexpr int64_t kNoPadding = -1;

using EmbeddingForwardFn = void (*)(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols);
using EmbeddingBackwardFn = void (*)(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols,
                                     int64_t padding_idx);

// Plain loops, one thread: the naive variant.
namespace ref {
void embedding_forward(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols);
void embedding_backward(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols, int64_t padding_idx);
}  // namespace ref

// Row copies over chunks of ids; the backward over column blocks with SIMD adds.
namespace scalar {
void embedding_forward(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols);
void embedding_backward(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols, int64_t padding_idx);
}  // namespace scalar
namespace avx2 {
void embedding_forward(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols);
void embedding_backward(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols, int64_t padding_idx);
}  // namespace avx2
namespace avx512 {
void embedding_forward(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols);
void embedding_backward(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols, int64_t padding_idx);
}  // namespace avx512
namespace neon {
void embedding_forward(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols);
void embedding_backward(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols, int64_t padding_idx);
}  // namespace neon

}  // namespace nf::cpu
