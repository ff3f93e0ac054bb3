// fma_peak (fma_peak.h) written once against simd.h; included by fma_peak_<isa>.cc.
#pragma once

#include "../simd.h"
#include "fma_peak.h"

namespace nf::cpu::NF_ISA_NS {

double fma_peak(int64_t iterations) {
  using namespace nf::simd;
  constexpr int kChains = kAccRegs;
  V acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = vset1(float(i));
  const V x = vset1(0.999999f), y = vset1(1e-6f);  // acc → a fixed point: no overflow, no denormals
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 32
    for (int i = 0; i < kChains; ++i) acc[i] = vfma(acc[i], x, y);
  }
  V sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = vadd(sum, acc[i]);
  volatile float sink = vsum(sum);  // keeps the loop from being optimised away
  (void)sink;
  return 2.0 * kLanes * kChains * double(iterations);
}

}  // namespace nf::cpu::NF_ISA_NS
