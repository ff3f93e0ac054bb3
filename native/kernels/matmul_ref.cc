// The naive GEMM: one dot product per output element, in the textbook i-j-k order.
#include "matmul.h"

#include "../bf16.h"

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

void matmul_bf16_forward(const GemmArgs& g) {
  const auto a = [&](int64_t i, int64_t p) { return bf16_round(g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p]); };
  const auto b = [&](int64_t p, int64_t j) { return bf16_round(g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j]); };
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      float* c = g.c + i * g.ldc + j;
      if (g.k == 0) {
        const float x = g.accumulate ? *c : 0.0f;
        *c = g.bias ? x + g.bias[j] : x;
      }
      for (int64_t p0 = 0; p0 < g.k; p0 += kBf16KC) {
        const int64_t p1 = p0 + kBf16KC < g.k ? p0 + kBf16KC : g.k;
        float s = 0.0f;
        for (int64_t p = p0; p < p1; p += 2) {
          s = bf16_fma(p + 1 < p1 ? a(i, p + 1) : 0.0f, p + 1 < p1 ? b(p + 1, j) : 0.0f, s);
          s = bf16_fma(a(i, p), b(p, j), s);
        }
        const float x = g.accumulate || p0 > 0 ? *c + s : s;
        *c = p0 == 0 && g.bias ? x + g.bias[j] : x;
      }
    }
  }
}

}  // namespace nf::cpu::ref
