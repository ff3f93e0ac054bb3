// The softmax of softmax.h written once against simd.h, compiled by softmax_{scalar,avx2,avx512,neon}.cc.
// Three passes over each row while it sits in L1: the maximum, e = exp(x − max) stored into y with its
// sum, then y ·= 1/sum. (An online max-and-sum would save a pass at the price of a second exp per element.)
#pragma once

#include <algorithm>
#include <limits>

#include "rows_simd.h"
#include "softmax.h"

namespace nf::cpu::NF_ISA_NS {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

void forward_row(float* y, const float* x, int64_t c) {
  const float max = vhmax(fold(c, vset1(-kInf), [&](V acc, int64_t j, int n) {
    return vmax(acc, pad(ld(x + j, n), n, -kInf));
  }, vmax));
  // All −inf: x − max would be NaN anyway; say so explicitly (vmax may drop a NaN entry, the sum keeps it).
  if (!(max > -kInf)) {
    std::fill(y, y + c, std::numeric_limits<float>::quiet_NaN());
    return;
  }
  const V m = vset1(max);
  const float sum = vsum(fold(c, vzero(), [&](V acc, int64_t j, int n) {
    const V e = vexp(vsub(ld(x + j, n), m));
    st(y + j, e, n);
    return vadd(acc, pad(e, n, 0.0f));
  }, vadd));
  const V inv = vset1(1.0f / sum);
  each(c, [&](int64_t j, int n) { st(y + j, vmul(ld(y + j, n), inv), n); });
}

void backward_row(float* dx, const float* dy, const float* y, int64_t c) {
  const V dot = vset1(vsum(fold(c, vzero(), [&](V acc, int64_t j, int n) {
    return vfma(ld(dy + j, n), ld(y + j, n), acc);
  }, vadd)));
  each(c, [&](int64_t j, int n) { st(dx + j, vmul(ld(y + j, n), vsub(ld(dy + j, n), dot)), n); });
}

}  // namespace

void softmax_forward(float* y, const float* x, int64_t n, int64_t c) {
  for_each_row(n, c, [&](int64_t i) { forward_row(y + i * c, x + i * c, c); });
}

void softmax_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t c) {
  for_each_row(n, c, [&](int64_t i) { backward_row(dx + i * c, dy + i * c, y + i * c, c); });
}

}  // namespace nf::cpu::NF_ISA_NS
