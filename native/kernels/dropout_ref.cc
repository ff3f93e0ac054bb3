// The naive dropout: the keep decision of each element computed on its own, one thread.
#include "dropout.h"

namespace nf::cpu::ref {

void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset) {
  const DropoutMask mask = dropout_mask(p, seed);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t c = offset + uint64_t(i);
    if (p <= 0.0) y[i] = x[i];
    else if (p >= 1.0) y[i] = 0.0f;
    else y[i] = dropout_bits(mask.k0, mask.k1 ^ uint32_t(c >> 32), uint32_t(c)) >= mask.threshold ? x[i] * mask.scale : 0.0f;
  }
}

}  // namespace nf::cpu::ref
