// The LayerNorm of layer_norm.h written once against simd.h, compiled by layer_norm_{scalar,avx2,avx512,
// neon}.cc. Each row is read from memory once: the sum (storing x + r on the way when there is a
// residual), then Σ(s − mean)² and the output run over the row while it sits in L1. Rows are split into
// tasks fixed by the shape (rows_simd.h); the backward's dγ, dβ are per-task partials in scratch memory,
// summed in task order.
#pragma once

#include <algorithm>
#include <cmath>

#include "layer_norm.h"
#include "rows_simd.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

void forward_row(const LayerNormArgs& a, int64_t i) {
  const int64_t c = a.c;
  const float* x = a.x + i * c;
  const float* s = x;
  V total;
  if (a.residual) {
    const float* r = a.residual + i * c;
    float* sum = a.sum + i * c;
    total = fold(c, vzero(), [&](V acc, int64_t j, int n) {
      const V v = vadd(ld(x + j, n), ld(r + j, n));
      st(sum + j, v, n);
      return vadd(acc, v);
    }, vadd);
    s = sum;
  } else {
    total = fold(c, vzero(), [&](V acc, int64_t j, int n) { return vadd(acc, ld(x + j, n)); }, vadd);
  }
  const float mean = vsum(total) / float(c);
  const V m = vset1(mean);
  const V sq = fold(c, vzero(), [&](V acc, int64_t j, int n) {
    const V d = pad(vsub(ld(s + j, n), m), n, 0.0f);
    return vfma(d, d, acc);
  }, vadd);
  const float rstd = 1.0f / std::sqrt(vsum(sq) / float(c) + a.eps);
  const V r = vset1(rstd);
  float* y = a.y + i * c;
  each(c, [&](int64_t j, int n) {
    st(y + j, vfma(vmul(vsub(ld(s + j, n), m), r), ld(a.gamma + j, n), ld(a.beta + j, n)), n);
  });
  a.mean[i] = mean;
  a.rstd[i] = rstd;
}

// One row of dx, adding the row's dy·x̂ and dy into the task's partial dγ, dβ. Lanes past the row end
// load dy = 0, so they add nothing to any sum.
void backward_row(const LayerNormGradArgs& a, int64_t i, float* pg, float* pb) {
  const int64_t c = a.c;
  const float* dy = a.dy + i * c;
  const float* s = a.s + i * c;
  const V m = vset1(a.mean[i]), r = vset1(a.rstd[i]);
  V g_sum = vzero(), gx_sum = vzero();
  each(c, [&](int64_t j, int n) {
    const V d = ld(dy + j, n);
    const V xhat = vmul(vsub(ld(s + j, n), m), r);
    const V g = vmul(d, ld(a.gamma + j, n));
    g_sum = vadd(g_sum, g);
    gx_sum = vfma(g, xhat, gx_sum);
    st(pg + j, vfma(d, xhat, ld(pg + j, n)), n);
    st(pb + j, vadd(ld(pb + j, n), d), n);
  });
  const V g_mean = vset1(vsum(g_sum) / float(c)), gx_mean = vset1(vsum(gx_sum) / float(c));
  float* dx = a.dx + i * c;
  each(c, [&](int64_t j, int n) {
    const V xhat = vmul(vsub(ld(s + j, n), m), r);
    const V g = vmul(ld(dy + j, n), ld(a.gamma + j, n));
    st(dx + j, vmul(r, vsub(vsub(g, g_mean), vmul(xhat, gx_mean))), n);
  });
}

}  // namespace

void layer_norm_forward(const LayerNormArgs& a) {
  for_each_row(a.n, a.c, [&](int64_t i) { forward_row(a, i); });
}

void layer_norm_backward(const LayerNormGradArgs& a) {
  const int64_t c = a.c;
  const RowTasks t = row_tasks(a.n, c);
  if (t.count == 0) return;
  // [task][dγ | dβ] partials; the caller's scratch, written by whichever thread runs each task.
  float* partial = scratch(0, size_t(t.count) * 2 * c);
  parallel_for(t.count, [&](int64_t k) {
    float* pg = partial + k * 2 * c;
    float* pb = pg + c;
    std::fill(pg, pg + 2 * c, 0.0f);
    const Range r = task_rows(t, k, a.n);
    for (int64_t i = r.begin; i < r.end; ++i) backward_row(a, i, pg, pb);
  });
  for (int64_t k = 1; k < t.count; ++k) {
    const float* p = partial + k * 2 * c;
    each(2 * c, [&](int64_t j, int n) { st(partial + j, vadd(ld(partial + j, n), ld(p + j, n)), n); });
  }
  each(c, [&](int64_t j, int n) {
    st(a.dgamma + j, vadd(ld(a.dgamma + j, n), ld(partial + j, n)), n);
    st(a.dbeta + j, vadd(ld(a.dbeta + j, n), ld(partial + c + j, n)), n);
  });
}

}  // namespace nf::cpu::NF_ISA_NS
