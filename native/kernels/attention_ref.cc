// The naive attention of attention.h: for each (batch, head) the whole Lq×Lk score matrix, exactly as
// written in the paper. O(Lq·Lk) memory per head.
#include <cmath>
#include <limits>
#include <vector>

#include "attention.h"

#include "../bf16.h"

namespace nf::cpu::ref {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// x as the products read it: rounded to bf16 when a.bf16.
inline float in(const AttentionArgs& a, float x) { return a.bf16 ? bf16_round(x) : x; }

// P = softmax(scale · q kᵀ) with masked keys at 0 (fully masked rows all 0); returns each row's logsumexp.
void probabilities(const AttentionArgs& a, int64_t b, const float* q, const float* k, std::vector<float>& p,
                   float* lse) {
  const int64_t lq = a.lq, lk = a.lk, d = a.d;
  for (int64_t i = 0; i < lq; ++i) {
    float* row = p.data() + i * lk;
    const int64_t lim = attention_limit(a, b, i);
    float mx = kNegInf;
    for (int64_t j = 0; j < lk; ++j) {
      float s = 0.0f;
      for (int64_t t = 0; t < d; ++t) s += in(a, q[i * d + t]) * in(a, k[j * d + t]);
      row[j] = j < lim ? s * a.scale : kNegInf;
      if (row[j] > mx) mx = row[j];
    }
    if (lim <= 0) {
      for (int64_t j = 0; j < lk; ++j) row[j] = 0.0f;
      lse[i] = kNegInf;
      continue;
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < lk; ++j) sum += (row[j] = std::exp(row[j] - mx));
    for (int64_t j = 0; j < lk; ++j) row[j] /= sum;
    lse[i] = mx + std::log(sum);
  }
}

}  // namespace

void attention_forward(const AttentionArgs& a, float* out, float* lse) {
  const int64_t lq = a.lq, lk = a.lk, d = a.d;
  std::vector<float> p(static_cast<size_t>(lq * lk));
  for (int64_t bh = 0; bh < a.batch * a.heads; ++bh) {
    const float* v = a.v + bh * lk * d;
    probabilities(a, bh / a.heads, a.q + bh * lq * d, a.k + bh * lk * d, p, lse + bh * lq);
    float* o = out + bh * lq * d;
    for (int64_t i = 0; i < lq; ++i)
      for (int64_t t = 0; t < d; ++t) {
        float s = 0.0f;
        for (int64_t j = 0; j < lk; ++j) s += in(a, p[i * lk + j]) * in(a, v[j * d + t]);
        o[i * d + t] = s;
      }
  }
}

void attention_backward(const AttentionArgs& a, const float* out, const float* dout, const float* lse, float* dq,
                        float* dk, float* dv) {
  const int64_t lq = a.lq, lk = a.lk, d = a.d;
  std::vector<float> p(static_cast<size_t>(lq * lk)), ds(static_cast<size_t>(lq * lk)), row_lse(lq);
  for (int64_t bh = 0; bh < a.batch * a.heads; ++bh) {
    const float *q = a.q + bh * lq * d, *k = a.k + bh * lk * d, *v = a.v + bh * lk * d, *go = dout + bh * lq * d;
    probabilities(a, bh / a.heads, q, k, p, row_lse.data());
    // dP = dout vᵀ; dS = P ∘ (dP − rowsum(P ∘ dP)), the softmax backward written out in full.
    for (int64_t i = 0; i < lq; ++i) {
      float dot = 0.0f;
      for (int64_t j = 0; j < lk; ++j) {
        float s = 0.0f;
        for (int64_t t = 0; t < d; ++t) s += in(a, go[i * d + t]) * in(a, v[j * d + t]);
        ds[i * lk + j] = s;
        dot += p[i * lk + j] * s;
      }
      for (int64_t j = 0; j < lk; ++j) ds[i * lk + j] = p[i * lk + j] * (ds[i * lk + j] - dot) * a.scale;
    }
    float *gq = dq + bh * lq * d, *gk = dk + bh * lk * d, *gv = dv + bh * lk * d;
    for (int64_t i = 0; i < lq; ++i)
      for (int64_t t = 0; t < d; ++t) {
        float s = 0.0f;
        for (int64_t j = 0; j < lk; ++j) s += in(a, ds[i * lk + j]) * in(a, k[j * d + t]);
        gq[i * d + t] = s;
      }
    for (int64_t j = 0; j < lk; ++j)
      for (int64_t t = 0; t < d; ++t) {
        float sk = 0.0f, sv = 0.0f;
        for (int64_t i = 0; i < lq; ++i) {
          sk += in(a, ds[i * lk + j]) * in(a, q[i * d + t]);
          sv += in(a, p[i * lk + j]) * in(a, go[i * d + t]);
        }
        gk[j * d + t] = sk;
        gv[j * d + t] = sv;
      }
  }
}

}  // namespace nf::cpu::ref
