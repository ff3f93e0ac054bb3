// N-API glue for scaled dot-product attention (kernels/attention.h). All tensors are contiguous
// Float32Arrays, or all DeviceArrays (the CUDA kernels); kvLengths is a host Int32Array [batch] or null.
//
//   attentionForward(out, lse, q, k, v, batch, heads, lq, lk, d, causal, scale, kvLengths)
//   attentionBackward(dq, dk, dv, q, k, v, out, lse, dout, batch, heads, lq, lk, d, causal, scale, kvLengths)
//     writes dq, dk, dv (no accumulation).
// The *Naive twins run the textbook version (full score matrix). On the CPU with backend precision
// 'medium', both round the products' operands to bf16 (attention.h).
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

using cpu::AttentionArgs;

// Reads the arguments from `first` on (batch … kvLengths) and checks q, k, v against them.
AttentionArgs read_args(const Napi::CallbackInfo& info, size_t first, const F32& q, const F32& k, const F32& v) {
  AttentionArgs a{};
  a.batch = int_arg(info, first, "batch", 0, kMaxDim);
  a.heads = int_arg(info, first + 1, "heads", 0, kMaxDim);
  a.lq = int_arg(info, first + 2, "lq", 0, kMaxDim);
  a.lk = int_arg(info, first + 3, "lk", 0, kMaxDim);
  a.d = int_arg(info, first + 4, "d", 1, kMaxDim);
  a.causal = bool_arg(info, first + 5, "causal");
  a.scale = static_cast<float>(number_arg(info, first + 6, "scale", -HUGE_VAL, HUGE_VAL));
  a.kv_lengths = i32_arg_or_null(info, first + 7, "kvLengths", static_cast<size_t>(a.batch));
  if (a.kv_lengths)
    for (int64_t b = 0; b < a.batch; ++b)
      if (a.kv_lengths[b] < 0 || a.kv_lengths[b] > a.lk)
        throw Error(Code::OutOfRange, "kvLengths[" + std::to_string(b) + "] is " + std::to_string(a.kv_lengths[b]) +
                                          " but must be in [0, " + std::to_string(a.lk) + "] (the key length)");
  check_length(q.length, elements({a.batch, a.heads, a.lq, a.d}), "q");
  check_length(k.length, elements({a.batch, a.heads, a.lk, a.d}), "k");
  check_length(v.length, elements({a.batch, a.heads, a.lk, a.d}), "v");
  a.q = q.data, a.k = k.data, a.v = v.data;
  return a;
}

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 out = f32_arg(info, 0, "out"), lse = f32_arg(info, 1, "lse");
  const F32 q = f32_arg(info, 2, "q"), k = f32_arg(info, 3, "k"), v = f32_arg(info, 4, "v");
  AttentionArgs a = read_args(info, 5, q, k, v);
  check_length(out.length, int64_t(q.length), "out");
  check_length(lse.length, elements({a.batch, a.heads, a.lq}), "lse");
  const cuda::Api* gpu = on_gpu({&out, &lse, &q, &k, &v}, Naive);
  a.bf16 = !gpu && matmul_bf16();
  (gpu ? gpu->attention_forward : Naive ? cpu::ref::attention_forward : kernels().attention_forward)(a, out.data,
                                                                                                    lse.data);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value backward(const Napi::CallbackInfo& info) {
  const F32 dq = f32_arg(info, 0, "dq"), dk = f32_arg(info, 1, "dk"), dv = f32_arg(info, 2, "dv");
  const F32 q = f32_arg(info, 3, "q"), k = f32_arg(info, 4, "k"), v = f32_arg(info, 5, "v");
  const F32 out = f32_arg(info, 6, "out"), lse = f32_arg(info, 7, "lse"), dout = f32_arg(info, 8, "dout");
  AttentionArgs a = read_args(info, 9, q, k, v);
  check_length(out.length, int64_t(q.length), "out");
  check_length(dout.length, int64_t(q.length), "dout");
  check_length(dq.length, int64_t(q.length), "dq");
  check_length(dk.length, int64_t(k.length), "dk");
  check_length(dv.length, int64_t(k.length), "dv");
  check_length(lse.length, elements({a.batch, a.heads, a.lq}), "lse");
  const cuda::Api* gpu = on_gpu({&dq, &dk, &dv, &q, &k, &v, &out, &lse, &dout}, Naive);
  a.bf16 = !gpu && matmul_bf16();
  (gpu ? gpu->attention_backward : Naive ? cpu::ref::attention_backward : kernels().attention_backward)(
      a, out.data, dout.data, lse.data, dq.data, dk.data, dv.data);
  return info.Env().Undefined();
}

}  // namespace

void register_attention(Napi::Env env, Napi::Object exports) {
  export_fn<forward<false>>(env, exports, "attentionForward");
  export_fn<forward<true>>(env, exports, "attentionForwardNaive");
  export_fn<backward<false>>(env, exports, "attentionBackward");
  export_fn<backward<true>>(env, exports, "attentionBackwardNaive");
}

}  // namespace nf::napi
