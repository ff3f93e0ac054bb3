// The naive embedding: an element-by-element gather and scatter-add, one thread.
#include "embedding.h"

namespace nf::cpu::ref {

void embedding_forward(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = w[int64_t(ids[i]) * cols + j];
}

void embedding_backward(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols, int64_t padding_idx) {
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] == padding_idx) continue;
    for (int64_t j = 0; j < cols; ++j) dw[int64_t(ids[i]) * cols + j] += dout[i * cols + j];
  }
}

}  // namespace nf::cpu::ref
