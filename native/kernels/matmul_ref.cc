// The naive GEMM: one dot product per output element, in the textbook i-j-k order.
#include "matmul.h"

namespace nf::cpu::ref {

void matmul_forward(const GemmArgs& g) {
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      float acc = 0.0f;
      for (int64_t p = 0; p < g.k; ++p) {
        const float a = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const float b = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        acc += a * b;
      }
      float* c = g.c + i * g.ldc + j;
      *c = g.accumulate ? *c + acc : acc;
      if (g.bias) *c += g.bias[j];
    }
  }
}

}  // namespace nf::cpu::ref
