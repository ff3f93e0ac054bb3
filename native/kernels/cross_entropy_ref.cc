// The naive cross-entropy: plain loops with std::exp, one row at a time, one thread.
#include <cmath>
#include <limits>

#include "cross_entropy.h"

namespace nf::cpu::ref {

double cross_entropy_forward(const CrossEntropyArgs& a, float* lse) {
  const float eps = a.label_smoothing;
  double total = 0.0;
  for (int64_t i = 0; i < a.n; ++i) {
    const int32_t t = a.targets[i];
    if (t == a.ignore_index) {
      lse[i] = 0.0f;
      continue;
    }
    const float* x = a.logits + i * a.v;
    float max = -std::numeric_limits<float>::infinity(), sum_x = 0.0f;
    for (int64_t c = 0; c < a.v; ++c) max = std::fmax(max, x[c]);
    float sum = 0.0f;
    for (int64_t c = 0; c < a.v; ++c) sum += std::exp(x[c] - max);
    lse[i] = max + std::log(sum);
    double loss = double(lse[i]) - (1.0 - eps) * x[t];
    if (eps > 0.0f) {
      for (int64_t c = 0; c < a.v; ++c) sum_x += x[c];
      loss -= double(eps) / double(a.v) * sum_x;
    }
    total += loss;
  }
  return total;
}

void cross_entropy_backward(const CrossEntropyArgs& a, const float* lse, float scale, float* dlogits) {
  const float smooth = a.label_smoothing / float(a.v), hit = 1.0f - a.label_smoothing + smooth;
  for (int64_t i = 0; i < a.n; ++i) {
    const int32_t t = a.targets[i];
    const float* x = a.logits + i * a.v;
    float* d = dlogits + i * a.v;
    for (int64_t c = 0; c < a.v; ++c)
      d[c] = t == a.ignore_index ? 0.0f : (std::exp(x[c] - lse[i]) - (c == t ? hit : smooth)) * scale;
  }
}

}  // namespace nf::cpu::ref
