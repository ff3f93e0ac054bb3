// The int8 GEMM's definition in plain loops (matmul_int8.h), its quantization and its packing.
#include <cmath>

#include "matmul_int8.h"

namespace nf::cpu {

void quantize_rows(const float* x, int64_t rows, int64_t k, int64_t ld_x, int8_t* q, int64_t ld_q, float* scales) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * ld_x;
    float amax = 0.0f;
    bool finite = true;
    for (int64_t p = 0; p < k; ++p) {
      finite = finite && std::isfinite(row[p]);
      amax = std::fabs(row[p]) > amax ? std::fabs(row[p]) : amax;
    }
    int8_t* out = q + r * ld_q;
    for (int64_t p = 0; p < ld_q; ++p) out[p] = 0;
    if (!finite) {
      scales[r] = NAN;
      continue;
    }
    scales[r] = amax / 127.0f;
    if (amax == 0.0f) continue;
    const float inv = 127.0f / amax;
    for (int64_t p = 0; p < k; ++p) {
      const float v = std::nearbyint(row[p] * inv);
      out[p] = static_cast<int8_t>(v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v);
    }
  }
}

void int8_pack(const int8_t* wq, int64_t n, int64_t k, int8_t* packed) {
  const int64_t k4 = int8_k4(k), n16 = int8_n16(n);
  int32_t sums[16];
  for (int64_t j0 = 0; j0 < n16; j0 += 16) {
    int8_t* panel = packed + j0 * k4;
    for (int c = 0; c < 16; ++c) sums[c] = 0;
    for (int64_t p = 0; p < k4; ++p)
      for (int c = 0; c < 16; ++c) {
        const int8_t v = j0 + c < n && p < k ? wq[(j0 + c) * k + p] : 0;
        panel[(p / 4) * 64 + c * 4 + p % 4] = v;
        sums[c] += v;
      }
    // Column sums after the panels, as little-endian int32 (memcpy: the byte buffer has no alignment).
    for (int c = 0; c < 16; ++c)
      for (int b = 0; b < 4; ++b)
        packed[n16 * k4 + 4 * (j0 + c) + b] = static_cast<int8_t>(static_cast<uint32_t>(sums[c]) >> (8 * b));
  }
}

namespace ref {

void matmul_int8_forward(const Int8GemmArgs& g) {
  const int64_t k4 = int8_k4(g.k);
  int8_t* xq = new int8_t[static_cast<size_t>(k4 > 0 ? k4 : 1)];
  for (int64_t i = 0; i < g.m; ++i) {
    float sx;
    quantize_rows(g.x + i * g.k, 1, g.k, g.k, xq, k4, &sx);
    for (int64_t j = 0; j < g.n; ++j) {
      int32_t acc = 0;
      for (int64_t p = 0; p < g.k; ++p) acc += int32_t(xq[p]) * int32_t(g.w[j * g.k + p]);
      g.y[i * g.n + j] = std::fma(static_cast<float>(acc), sx * g.w_scales[j], g.bias ? g.bias[j] : 0.0f);
    }
  }
  delete[] xq;
}

}  // namespace ref
}  // namespace nf::cpu
