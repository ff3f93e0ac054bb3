// The activations of activation.h, written once against simd.h and compiled by each per-ISA translation
// unit (activation_{scalar,avx2,avx512,neon}.cc). One pass over memory: the bias add, f, and in the
// backward f' and the bias gradient's partial sums all happen on a vector while it is in registers.
#pragma once

#include "../simd.h"
#include "activation.h"
#include "chunks_simd.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

using namespace nf::simd;

constexpr float kInvSqrt2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;

// 2·Φ(h) = erfc(−h/√2). erfc(a) for a = |h|/√2 ≥ 0 is t·exp(−a² + P(t)), t = 1/(1 + a/2), with the
// Chebyshev-fitted coefficients of Numerical Recipes (2nd ed., §6.2, erfcc; fractional error < 1.2e-7);
// −a² is formed inside an FMA so that it is exact before P is added. For h > 0, erfc(−a) = 2 − erfc(a).
// In float32 the exponent's rounding adds a relative error of about a²·2⁻²⁴ (4e-6 at h = −10).
inline V two_phi(V h) {
  const V a = vmul(vmax(h, vsub(vzero(), h)), vset1(kInvSqrt2));
  const V t = vdiv(vset1(1.0f), vfma(a, vset1(0.5f), vset1(1.0f)));
  V p = vset1(0.17087277f);
  p = vfma(p, t, vset1(-0.82215223f));
  p = vfma(p, t, vset1(1.48851587f));
  p = vfma(p, t, vset1(-1.13520398f));
  p = vfma(p, t, vset1(0.27886807f));
  p = vfma(p, t, vset1(-0.18628806f));
  p = vfma(p, t, vset1(0.09678418f));
  p = vfma(p, t, vset1(0.37409196f));
  p = vfma(p, t, vset1(1.00002368f));
  p = vfma(p, t, vset1(-1.26551223f));
  const V e = vmul(t, vexp(vfma(vsub(vzero(), a), a, p)));
  return vselect_gt(h, vzero(), vsub(vset1(2.0f), e), e);
}

template <Act A>
inline V act_forward(V h) {
  // max(0, h) with 0 first: a NaN h stays NaN (x86 max returns its second operand on NaN).
  if constexpr (A == Act::Relu) return vmax(vzero(), h);
  else return vmul(vmul(vset1(0.5f), h), two_phi(h));
}

// dy · f'(h)
template <Act A>
inline V act_backward(V h, V dy) {
  if constexpr (A == Act::Relu) {
    return vselect_gt(h, vzero(), dy, vzero());
  } else {
    const V phi = vmul(vset1(kInvSqrt2Pi), vexp(vmul(vset1(-0.5f), vmul(h, h))));
    return vmul(dy, vfma(h, phi, vmul(vset1(0.5f), two_phi(h))));
  }
}

// One span of n elements; b (when Bias) runs alongside x, so a span is one row.
template <Act A, bool Bias>
void forward_span(const float* x, const float* b, float* y, int64_t n) {
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    const V h = Bias ? vadd(vload(x + j), vload(b + j)) : vload(x + j);
    vstore(y + j, act_forward<A>(h));
  }
  if (j < n) {
    const int r = int(n - j);
    const V h = Bias ? vadd(vload_n(x + j, r), vload_n(b + j, r)) : vload_n(x + j, r);
    vstore_n(y + j, act_forward<A>(h), r);
  }
}

// dx for one span; with Bias also partial[j] += dx[j].
template <Act A, bool Bias>
void backward_span(const float* x, const float* b, const float* dy, float* dx, float* partial, int64_t n) {
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    const V h = Bias ? vadd(vload(x + j), vload(b + j)) : vload(x + j);
    const V d = act_backward<A>(h, vload(dy + j));
    vstore(dx + j, d);
    if constexpr (Bias) vstore(partial + j, vadd(vload(partial + j), d));
  }
  if (j < n) {
    const int r = int(n - j);
    const V h = Bias ? vadd(vload_n(x + j, r), vload_n(b + j, r)) : vload_n(x + j, r);
    const V d = act_backward<A>(h, vload_n(dy + j, r));
    vstore_n(dx + j, d, r);
    if constexpr (Bias) vstore_n(partial + j, vadd(vload_n(partial + j, r), d), r);
  }
}

template <Act A>
void forward(const float* x, const float* b, float* y, int64_t rows, int64_t cols) {
  if (!b) {
    for_chunks(rows * cols, [&](int64_t i0, int64_t i1) { forward_span<A, false>(x + i0, nullptr, y + i0, i1 - i0); });
    return;
  }
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) forward_span<A, true>(x + r * cols, b, y + r * cols, cols);
  });
}

template <Act A>
void backward(const float* x, const float* b, const float* dy, float* dx, float* db, int64_t rows, int64_t cols) {
  if (!b) {
    for_chunks(rows * cols, [&](int64_t i0, int64_t i1) {
      backward_span<A, false>(x + i0, nullptr, dy + i0, dx + i0, nullptr, i1 - i0);
    });
    return;
  }
  for_row_chunks_colsum(rows, cols, db, [&](int64_t r0, int64_t r1, float* partial) {
    for (int64_t r = r0; r < r1; ++r)
      backward_span<A, true>(x + r * cols, b, dy + r * cols, dx + r * cols, partial, cols);
  });
}

}  // namespace

void activation_forward(Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  if (act == Act::Relu) forward<Act::Relu>(x, b, y, rows, cols);
  else forward<Act::Gelu>(x, b, y, rows, cols);
}

void activation_backward(Act act, const float* x, const float* b, const float* dy, float* dx, float* db,
                         int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  if (act == Act::Relu) backward<Act::Relu>(x, b, dy, dx, db, rows, cols);
  else backward<Act::Gelu>(x, b, dy, dx, db, rows, cols);
}

}  // namespace nf::cpu::NF_ISA_NS
