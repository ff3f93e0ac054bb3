// The naive Adam / AdamW step: the textbook algorithm one vector operation per pass, with temporaries
// for the decayed gradient and the bias-corrected moments, one thread.
#include <cmath>
#include <vector>

#include "adam.h"

namespace nf::cpu::ref {

void adam_update(const AdamArgs& a) {
  const int64_t n = a.n;
  const float lr = float(a.lr), b1 = float(a.beta1), b2 = float(a.beta2), eps = float(a.eps), wd = float(a.weight_decay);
  // Scalars in double, rounded once (as PyTorch's Python floats): 1 − β2 formed in float would be off by
  // 1e-5 relative for β2 = 0.999.
  const float c1 = float(1.0 - a.beta1), c2 = float(1.0 - a.beta2);
  const float bc1 = float(1.0 - std::pow(a.beta1, double(a.step))), bc2 = float(1.0 - std::pow(a.beta2, double(a.step)));
  std::vector<float> g(a.grad, a.grad + n), m_hat(static_cast<size_t>(n)), v_hat(static_cast<size_t>(n));
  if (!a.decoupled)
    for (int64_t i = 0; i < n; ++i) g[i] += wd * a.param[i];
  else
    for (int64_t i = 0; i < n; ++i) a.param[i] -= lr * wd * a.param[i];
  for (int64_t i = 0; i < n; ++i) a.m[i] = b1 * a.m[i] + c1 * g[i];
  for (int64_t i = 0; i < n; ++i) a.v[i] = b2 * a.v[i] + c2 * g[i] * g[i];
  for (int64_t i = 0; i < n; ++i) m_hat[i] = a.m[i] / bc1;
  for (int64_t i = 0; i < n; ++i) v_hat[i] = a.v[i] / bc2;
  for (int64_t i = 0; i < n; ++i) a.param[i] -= lr * m_hat[i] / (std::sqrt(v_hat[i]) + eps);
}

}  // namespace nf::cpu::ref
