// Scaled dot-product attention, float32:
//
//   q [B, H, Lq, D], k and v [B, H, Lk, D] (contiguous);  S = scale · q kᵀ;  P = softmax(S) over keys;  out = P v
//
// Masks are a per-row prefix of the keys: query i of batch b sees keys j < limit(b, i), with
//   limit = min(kv_lengths[b], causal ? i + (Lk − Lq) + 1 : Lk)
// (causal aligned at the bottom right, as with a KV cache). A row with limit ≤ 0 sees nothing: its output
// is 0 and its logsumexp −inf, never NaN.
//
// Forward writes out [B, H, Lq, D] and lse [B, H, Lq] (the per-row logsumexp of the scaled, masked scores),
// which is all the backward needs besides the inputs: it recomputes P = exp(S − lse) block by block.
// Backward writes (does not accumulate) dq, dk, dv from dout, using Dᵢ = Σ_d dout∘out:
//   dv = Pᵀ dout,  dS = P ∘ (dout vᵀ − D),  dq = scale · dS k,  dk = scale · dSᵀ q.
//
// With bf16 (backend precision 'medium'), every operand of those products is rounded to bf16 (../bf16.h)
// and the sums stay float32: q, k, v and dout once on entry, P before P·V and Pᵀ·dout, dS before dS·k and
// dSᵀ·q. The softmax, its sums, lse and D stay float32 (D from the unrounded dout). The fused kernel rounds
// P before normalising it, the reference after, so the two agree within a bf16 unit of P, not bit for bit.
#pragma once

#include <cstdint>

namespace nf::cpu {

struct AttentionArgs {
  int64_t batch, heads, lq, lk, d;
  const float* q;
  const float* k;
  const float* v;
  const int32_t* kv_lengths;  // [batch], each in [0, lk]; null = every key
  bool causal;
  float scale;
  bool bf16 = false;  // see above
};

// Keys [0, limit) that query row i sees (may be ≤ 0).
inline int64_t attention_limit(const AttentionArgs& a, int64_t b, int64_t i) {
  int64_t lim = a.kv_lengths ? a.kv_lengths[b] : a.lk;
  if (a.causal && i + (a.lk - a.lq) + 1 < lim) lim = i + (a.lk - a.lq) + 1;
  return lim;
}

using AttentionForwardFn = void (*)(const AttentionArgs& a, float* out, float* lse);
using AttentionBackwardFn = void (*)(const AttentionArgs& a, const float* out, const float* dout, const float* lse,
                                     float* dq, float* dk, float* dv);

namespace ref {
// The textbook version: the full Lq×Lk score matrix per head, softmax, then P·V (and the backward from the
// full P); single-threaded. The bench's baseline; its error sets the bar for the fused kernel's.
void attention_forward(const AttentionArgs& a, float* out, float* lse);
void attention_backward(const AttentionArgs& a, const float* out, const float* dout, const float* lse, float* dq,
                        float* dk, float* dv);
}  // namespace ref

// Flash-style: Q blocks outer, K/V blocks inner, online softmax, never more than a block of scores.
#define NF_DECLARE_ATTENTION(ns)                                                                      \
  namespace ns {                                                                                     \
  void attention_forward(const AttentionArgs& a, float* out, float* lse);                            \
  void attention_backward(const AttentionArgs& a, const float* out, const float* dout, const float* lse, \
                          float* dq, float* dk, float* dv);                                           \
  }
NF_DECLARE_ATTENTION(scalar)
NF_DECLARE_ATTENTION(avx2)
NF_DECLARE_ATTENTION(avx512)
NF_DECLARE_ATTENTION(neon)
#undef NF_DECLARE_ATTENTION

}  // namespace nf::cpu
