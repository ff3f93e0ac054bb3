// The cross-entropy of cross_entropy.h written once against simd.h, compiled by cross_entropy_{scalar,
// avx2,avx512,neon}.cc. Forward: two passes over a kept row (the maximum; then Σ exp(x − max) and, with
// label smoothing, Σx); backward: one pass writing (exp(x − lse) − ε/V)·scale, then the target's element
// patched to (p_t − q_t)·scale. Per-task loss partials (double) are summed in task order.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "cross_entropy.h"
#include "rows_simd.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct ExpAndSum {
  V e, x;
};

// One kept row: stores its logsumexp and returns its loss.
double forward_row(const CrossEntropyArgs& a, int64_t i, float* lse) {
  const int64_t v = a.v;
  const float* x = a.logits + i * v;
  const float eps = a.label_smoothing;
  const float max = vhmax(fold(v, vset1(-kInf), [&](V acc, int64_t j, int n) {
    return vmax(acc, pad(ld(x + j, n), n, -kInf));
  }, vmax));
  const V m = vset1(max);
  const ExpAndSum s = fold(v, ExpAndSum{vzero(), vzero()}, [&](ExpAndSum acc, int64_t j, int n) {
    const V xv = ld(x + j, n);
    const V e = pad(vexp(vsub(xv, m)), n, 0.0f);
    return ExpAndSum{vadd(acc.e, e), eps > 0.0f ? vadd(acc.x, xv) : acc.x};
  }, [](ExpAndSum p, ExpAndSum q) { return ExpAndSum{vadd(p.e, q.e), vadd(p.x, q.x)}; });
  // An all −inf row gives max − max = NaN, hence lse and the loss NaN, as PyTorch.
  lse[i] = max + std::log(vsum(s.e));
  double loss = double(lse[i]) - (1.0 - eps) * x[a.targets[i]];
  if (eps > 0.0f) loss -= double(eps) / double(v) * vsum(s.x);
  return loss;
}

void backward_row(const CrossEntropyArgs& a, int64_t i, const float* lse, float scale, float* dlogits) {
  const int64_t v = a.v;
  const int32_t t = a.targets[i];
  float* d = dlogits + i * v;
  if (t == a.ignore_index) {
    std::fill(d, d + v, 0.0f);
    return;
  }
  const float* x = a.logits + i * v;
  const float smooth = a.label_smoothing / float(v);
  const V l = vset1(lse[i]), q = vset1(smooth), s = vset1(scale);
  each(v, [&](int64_t j, int n) { st(d + j, vmul(vsub(vexp(vsub(ld(x + j, n), l)), q), s), n); });
  d[t] = (exp1(x[t] - lse[i]) - (1.0f - a.label_smoothing + smooth)) * scale;
}

}  // namespace

double cross_entropy_forward(const CrossEntropyArgs& a, float* lse) {
  const RowTasks t = row_tasks(a.n, a.v);
  std::vector<double> partial(size_t(t.count), 0.0);
  parallel_for(t.count, [&](int64_t k) {
    const Range r = task_rows(t, k, a.n);
    double sum = 0.0;
    for (int64_t i = r.begin; i < r.end; ++i) {
      if (a.targets[i] == a.ignore_index)
        lse[i] = 0.0f;
      else
        sum += forward_row(a, i, lse);
    }
    partial[size_t(k)] = sum;
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

void cross_entropy_backward(const CrossEntropyArgs& a, const float* lse, float scale, float* dlogits) {
  for_each_row(a.n, a.v, [&](int64_t i) { backward_row(a, i, lse, scale, dlogits); });
}

}  // namespace nf::cpu::NF_ISA_NS
