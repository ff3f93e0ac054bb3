// Dropout with a counter-based random stream, float32:
//
//   dropout_forward   y[i] = keep(seed, offset + i) ? x[i] / (1 − p) : 0      x, y [n]
//   backward          dx = dropout_forward(dy) with the same p, seed and offset: the mask is recomputed,
//                     never stored (nothing is saved for backward but p, seed and offset)
//
// keep(seed, c) is a pure function of the seed and the element's counter c = offset + i, so the mask is
// the same for any thread count, chunking and ISA, and a caller draws disjoint streams with disjoint
// offset ranges. bits(seed, c) = mix(mix(lo32(c) ^ k0) ^ hi32(c) ^ k1), where k0:k1 = splitmix64(seed) and
// mix is Wellons' "lowbias32" integer hash (xorshift-multiply, a bijection on 32 bits), and an element is
// kept when bits ≥ round(p·2³²): probability 1 − p to within 2⁻³². p = 0 copies x; p = 1 gives zeros.
// A dropped element is 0 even where x is NaN or infinite. The scale is 1/(1 − p) rounded to float once.
#pragma once

#include <cstdint>

// The hash is also compiled for the GPU (cuda/dropout.cu), so both devices draw the same mask.
#if defined(__CUDACC__)
#define NF_HOST_DEVICE __host__ __device__
#else
#define NF_HOST_DEVICE
#endif

namespace nf::cpu {

// What one (p, seed) pair fixes: the keys, the keep threshold and the scale. `static inline` (here and
// below) keeps one copy per translation unit, so no ISA-flagged copy can be linked into another.
struct DropoutMask {
  uint32_t k0, k1;
  uint32_t threshold;  // keep when bits ≥ threshold
  float scale;         // 1 / (1 − p)
};

static inline DropoutMask dropout_mask(double p, uint64_t seed) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull;  // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const double t = p * 4294967296.0 + 0.5;
  return DropoutMask{uint32_t(z), uint32_t(z >> 32), t >= 4294967295.0 ? 4294967295u : uint32_t(t),
                     float(1.0 / (1.0 - p))};
}

NF_HOST_DEVICE static inline uint32_t dropout_mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// The random bits of counter c: k1h = k1 ^ hi32(c), so a loop over counters with the same high word
// hoists it.
NF_HOST_DEVICE static inline uint32_t dropout_bits(uint32_t k0, uint32_t k1h, uint32_t lo) { return dropout_mix(dropout_mix(lo ^ k0) ^ k1h); }

using DropoutForwardFn = void (*)(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset);

// One element at a time, one thread: the naive variant.
namespace ref {
void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset);
}  // namespace ref

// Vectorised by the compiler for each ISA (the hash is integer arithmetic simd.h does not map), threads
// over fixed chunks.
namespace scalar {
void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset);
}  // namespace scalar
namespace avx2 {
void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset);
}  // namespace avx2
namespace avx512 {
void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset);
}  // namespace avx512
namespace neon {
void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset);
}  // namespace neon

}  // namespace nf::cpu
