// The naive activations: the textbook formulas with std::erf / std::exp, element by element, one thread.
#include <cmath>

#include "activation.h"

namespace nf::cpu::ref {
namespace {

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

float f(Act act, float h) {
  if (act == Act::Relu) return h > 0.0f ? h : 0.0f;
  return 0.5f * h * (1.0f + std::erf(h * kInvSqrt2));
}

float df(Act act, float h) {
  if (act == Act::Relu) return h > 0.0f ? 1.0f : 0.0f;
  return 0.5f * (1.0f + std::erf(h * kInvSqrt2)) + h * kInvSqrt2Pi * std::exp(-0.5f * h * h);
}

}  // namespace

void activation_forward(Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      y[i] = f(act, b ? x[i] + b[j] : x[i]);
    }
}

void activation_backward(Act act, const float* x, const float* b, const float* dy, float* dx, float* db,
                         int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = r * cols + j;
      dx[i] = dy[i] * df(act, b ? x[i] + b[j] : x[i]);
      if (b) db[j] += dx[i];
    }
}

}  // namespace nf::cpu::ref
