// The dropout of dropout.h for one ISA (dropout_{scalar,avx2,avx512,neon}.cc). The hash is 32-bit
// integer multiply, xor and shift, which simd.h does not map; instead the loop over a run of counters that
// share their high word is written so that the compiler vectorises it with the ISA's own integer vectors
// (checked with GCC 12's -fopt-info-vec: 16 lanes under AVX-512, 8 under AVX2, 4 with baseline SSE2).
#pragma once

#include <cstring>

#include "chunks_simd.h"
#include "dropout.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

// y[j] = x[j]·scale where bits(lo + j) ≥ threshold, else 0; lo + j does not wrap within the run.
void dropout_run(const float* x, float* y, int64_t n, uint32_t lo, uint32_t k0, uint32_t k1h, uint32_t threshold,
                 float scale) {
  for (int64_t j = 0; j < n; ++j) {
    // Branch-free (an all-ones or zero mask ANDed onto the bits of x·scale): GCC 12 does not if-convert
    // the select of a float on an integer comparison without AVX-512's masks.
    const uint32_t keep = 0u - uint32_t(dropout_bits(k0, k1h, lo + uint32_t(j)) >= threshold);
    uint32_t bits;
    const float kept = x[j] * scale;
    std::memcpy(&bits, &kept, sizeof bits);
    bits &= keep;
    std::memcpy(y + j, &bits, sizeof bits);
  }
}

}  // namespace

void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset) {
  if (n <= 0) return;
  if (p <= 0.0) {
    if (x != y) for_chunks(n, [&](int64_t i0, int64_t i1) { std::memcpy(y + i0, x + i0, size_t(i1 - i0) * sizeof(float)); });
    return;
  }
  if (p >= 1.0) {
    for_chunks(n, [&](int64_t i0, int64_t i1) { std::memset(y + i0, 0, size_t(i1 - i0) * sizeof(float)); });
    return;
  }
  const DropoutMask mask = dropout_mask(p, seed);
  for_chunks(n, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1;) {
      const uint64_t c = offset + uint64_t(i);
      const uint32_t lo = uint32_t(c);
      const int64_t end = min64(i1, i + int64_t((uint64_t(1) << 32) - lo));  // the next change of hi32(c)
      dropout_run(x + i, y + i, end - i, lo, mask.k0, mask.k1 ^ uint32_t(c >> 32), mask.threshold, mask.scale);
      i = end;
    }
  });
}

}  // namespace nf::cpu::NF_ISA_NS
