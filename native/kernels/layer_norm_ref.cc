// The naive LayerNorm: plain loops, one row at a time, float accumulators, one thread.
#include <cmath>

#include "layer_norm.h"

namespace nf::cpu::ref {

void layer_norm_forward(const LayerNormArgs& a) {
  const int64_t c = a.c;
  for (int64_t i = 0; i < a.n; ++i) {
    const float* x = a.x + i * c;
    const float* s = x;
    if (a.residual) {
      float* sum = a.sum + i * c;
      for (int64_t j = 0; j < c; ++j) sum[j] = x[j] + a.residual[i * c + j];
      s = sum;
    }
    float total = 0.0f;
    for (int64_t j = 0; j < c; ++j) total += s[j];
    const float mean = total / float(c);
    float sq = 0.0f;
    for (int64_t j = 0; j < c; ++j) sq += (s[j] - mean) * (s[j] - mean);
    const float rstd = 1.0f / std::sqrt(sq / float(c) + a.eps);
    float* y = a.y + i * c;
    for (int64_t j = 0; j < c; ++j) y[j] = (s[j] - mean) * rstd * a.gamma[j] + a.beta[j];
    a.mean[i] = mean;
    a.rstd[i] = rstd;
  }
}

void layer_norm_backward(const LayerNormGradArgs& a) {
  const int64_t c = a.c;
  for (int64_t i = 0; i < a.n; ++i) {
    const float* dy = a.dy + i * c;
    const float* s = a.s + i * c;
    const float mean = a.mean[i], rstd = a.rstd[i];
    float g_sum = 0.0f, gx_sum = 0.0f;
    for (int64_t j = 0; j < c; ++j) {
      const float xhat = (s[j] - mean) * rstd;
      const float g = dy[j] * a.gamma[j];
      g_sum += g;
      gx_sum += g * xhat;
      a.dgamma[j] += dy[j] * xhat;
      a.dbeta[j] += dy[j];
    }
    const float g_mean = g_sum / float(c), gx_mean = gx_sum / float(c);
    float* dx = a.dx + i * c;
    for (int64_t j = 0; j < c; ++j) {
      const float xhat = (s[j] - mean) * rstd;
      dx[j] = rstd * (dy[j] * a.gamma[j] - g_mean - xhat * gx_mean);
    }
  }
}

}  // namespace nf::cpu::ref
