// The fused Adam / AdamW step of adam.h for one ISA (adam_{scalar,avx2,avx512,neon}.cc): one pass reads
// param, grad, m, v and writes param, m, v (28 bytes per parameter), which is all the memory traffic
// there is; the division and square root are hidden behind it.
#pragma once

#include <cmath>

#include "../simd.h"
#include "adam.h"
#include "chunks_simd.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

struct AdamConsts {
  V l2, decay, w1, beta2, w2, step_size, bc2_sqrt, eps;
};

template <bool L2, bool Decoupled>
inline void adam_lanes(const AdamConsts& k, float* p, const float* gp, float* m, float* v, int r) {
  const bool full = r == kLanes;
  V pv = full ? vload(p) : vload_n(p, r);
  V g = full ? vload(gp) : vload_n(gp, r);
  V mv = full ? vload(m) : vload_n(m, r);
  V vv = full ? vload(v) : vload_n(v, r);
  if (L2) g = vfma(k.l2, pv, g);
  if (Decoupled) pv = vmul(pv, k.decay);
  mv = vfma(k.w1, vsub(g, mv), mv);
  vv = vfma(k.w2, vmul(g, g), vmul(vv, k.beta2));
  const V denom = vadd(vdiv(vsqrt(vv), k.bc2_sqrt), k.eps);
  pv = vsub(pv, vdiv(vmul(k.step_size, mv), denom));
  if (full) {
    vstore(p, pv), vstore(m, mv), vstore(v, vv);
  } else {
    vstore_n(p, pv, r), vstore_n(m, mv, r), vstore_n(v, vv, r);
  }
}

template <bool L2, bool Decoupled>
void adam_span(const AdamConsts& k, float* p, const float* g, float* m, float* v, int64_t n) {
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) adam_lanes<L2, Decoupled>(k, p + j, g + j, m + j, v + j, kLanes);
  if (j < n) adam_lanes<L2, Decoupled>(k, p + j, g + j, m + j, v + j, int(n - j));
}

template <bool L2, bool Decoupled>
void adam_all(const AdamArgs& a, const AdamConsts& k) {
  for_chunks(a.n, [&](int64_t i0, int64_t i1) {
    adam_span<L2, Decoupled>(k, a.param + i0, a.grad + i0, a.m + i0, a.v + i0, i1 - i0);
  });
}

}  // namespace

void adam_update(const AdamArgs& a) {
  if (a.n <= 0) return;
  const double t = double(a.step);
  const AdamConsts k{vset1(float(a.weight_decay)),
                     vset1(float(1.0 - a.lr * a.weight_decay)),
                     vset1(float(1.0 - a.beta1)),
                     vset1(float(a.beta2)),
                     vset1(float(1.0 - a.beta2)),
                     vset1(float(a.lr / (1.0 - std::pow(a.beta1, t)))),
                     vset1(float(std::sqrt(1.0 - std::pow(a.beta2, t)))),
                     vset1(float(a.eps))};
  const bool decay = a.weight_decay != 0.0;
  if (decay && a.decoupled) adam_all<false, true>(a, k);
  else if (decay) adam_all<true, false>(a, k);
  else adam_all<false, false>(a, k);
}

}  // namespace nf::cpu::NF_ISA_NS
