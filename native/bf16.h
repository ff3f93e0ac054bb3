// bfloat16 as the CPUs' instructions define it (Intel's VCVTNE2PS2BF16 / VDPBF16PS, measured bit for bit
// on Zen 5): float32 → bf16 rounds to nearest even, turns NaN into a quiet NaN, and treats denormal inputs
// as zero (DAZ); a bf16 dot-product step flushes denormal results to zero (FTZ). The portable versions
// here are the reference of the SIMD ones (simd.h's vbf16) and of the low-precision GEMMs.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace nf {

// The upper 16 bits of x rounded to bf16.
inline uint16_t bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  if ((u & 0x7f800000u) == 0) return static_cast<uint16_t>((u >> 16) & 0x8000u);          // ±0, DAZ
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);                   // ties to even
}

// x rounded to bf16, as a float.
inline float bf16_round(float x) {
  const uint32_t u = uint32_t(bf16_bits(x)) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Flush to zero: a denormal becomes a zero of its sign; NaN, ±∞ and normal numbers are unchanged.
inline float ftz(float x) { return std::fabs(x) < 1.17549435e-38f ? std::copysign(0.0f, x) : x; }

// One step of a bf16 dot product: acc + a·b rounded once, flushed to zero (a, b already bf16 values).
inline float bf16_fma(float a, float b, float acc) { return ftz(std::fma(a, b, acc)); }

}  // namespace nf
