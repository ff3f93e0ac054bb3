// The naive softmax: plain loops with std::exp, one row at a time, one thread.
#include <cmath>
#include <limits>

#include "softmax.h"

namespace nf::cpu::ref {

void softmax_forward(float* y, const float* x, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x + i * c;
    float* yi = y + i * c;
    float max = -std::numeric_limits<float>::infinity();
    for (int64_t j = 0; j < c; ++j) max = std::fmax(max, xi[j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < c; ++j) sum += yi[j] = std::exp(xi[j] - max);
    for (int64_t j = 0; j < c; ++j) yi[j] /= sum;
  }
}

void softmax_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i) {
    const float* dyi = dy + i * c;
    const float* yi = y + i * c;
    float dot = 0.0f;
    for (int64_t j = 0; j < c; ++j) dot += dyi[j] * yi[j];
    for (int64_t j = 0; j < c; ++j) dx[i * c + j] = yi[j] * (dyi[j] - dot);
  }
}

}  // namespace nf::cpu::ref
