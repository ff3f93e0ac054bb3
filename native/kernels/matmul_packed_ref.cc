// The packing of matmul_packed.h, and the reference forward: plain loops over the packed layout.
#include <cmath>

#include "matmul_packed.h"

namespace nf::cpu {

void matmul_pack(const float* w, int64_t n, int64_t k, float* packed) {
  const int64_t panels = (n + kPackCols - 1) / kPackCols;
  for (int64_t q = 0; q < panels; ++q)
    for (int64_t p = 0; p < k; ++p)
      for (int64_t c = 0; c < kPackCols; ++c) {
        const int64_t j = q * kPackCols + c;
        packed[(q * k + p) * kPackCols + c] = j < n ? w[j * k + p] : 0.0f;
      }
}

namespace ref {

void matmul_packed_forward(const PackedGemmArgs& g) {
  for (int64_t i = 0; i < g.m; ++i)
    for (int64_t j = 0; j < g.n; ++j) {
      const float* wj = g.packed + (j / kPackCols) * kPackCols * g.k + j % kPackCols;  // W[j, p] at wj[p·16]
      float acc = 0.0f;
      for (int64_t p = 0; p < g.k; ++p) acc = std::fma(g.a[i * g.k + p], wj[p * kPackCols], acc);
      g.c[i * g.n + j] = g.bias ? acc + g.bias[j] : acc;
    }
}

}  // namespace ref
}  // namespace nf::cpu
