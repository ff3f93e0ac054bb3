// N-API glue for scaled dot-product attention (kernels/attention.h). All tensors are contiguous
// Float32Arrays; kvLengths is an Int32Array [batch] or null.
//
//   attentionForward(out, lse, q, k, v, batch, heads, lq, lk, d, causal, scale, kvLengths)
//   attentionBackward(dq, dk, dv, q, k, v, out, lse, dout, batch, heads, lq, lk, d, causal, scale, kvLengths)
//     writes dq, dk, dv (no accumulation).
// The *Naive twins run the textbook version (full score matrix).
#include <string>

#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

using cpu::AttentionArgs;

constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;

void check_length(const F32& x, const char* name, __int128 want) {
  if (static_cast<__int128>(x.length) != want)
    throw Error(Code::Shape, std::string("Expected ") + std::to_string(static_cast<long long>(want)) +
                                 " elements in " + name + " but received " + std::to_string(x.length));
}

// Reads the arguments from `first` on (batch … kvLengths) and checks q, k, v against them.
AttentionArgs read_args(const Napi::CallbackInfo& info, size_t first, const F32& q, const F32& k, const F32& v) {
  AttentionArgs a{};
  a.batch = int_arg(info, first, "batch", 0, kMaxDim);
  a.heads = int_arg(info, first + 1, "heads", 0, kMaxDim);
  a.lq = int_arg(info, first + 2, "lq", 0, kMaxDim);
  a.lk = int_arg(info, first + 3, "lk", 0, kMaxDim);
  a.d = int_arg(info, first + 4, "d", 1, kMaxDim);
  a.causal = bool_arg(info, first + 5, "causal");
  a.scale = static_cast<float>(float_arg(info, first + 6, "scale"));
  a.kv_lengths = i32_arg_or_null(info, first + 7, "kvLengths", static_cast<size_t>(a.batch));
  if (a.kv_lengths)
    for (int64_t b = 0; b < a.batch; ++b)
      if (a.kv_lengths[b] < 0 || a.kv_lengths[b] > a.lk)
        throw Error(Code::OutOfRange, "kvLengths[" + std::to_string(b) + "] is " + std::to_string(a.kv_lengths[b]) +
                                          " but must be in [0, " + std::to_string(a.lk) + "] (the key length)");
  const __int128 heads = static_cast<__int128>(a.batch) * a.heads;
  check_length(q, "q", heads * a.lq * a.d);
  check_length(k, "k", heads * a.lk * a.d);
  check_length(v, "v", heads * a.lk * a.d);
  a.q = q.data, a.k = k.data, a.v = v.data;
  return a;
}

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 out = f32_arg(info, 0, "out"), lse = f32_arg(info, 1, "lse");
  const F32 q = f32_arg(info, 2, "q"), k = f32_arg(info, 3, "k"), v = f32_arg(info, 4, "v");
  const AttentionArgs a = read_args(info, 5, q, k, v);
  check_length(out, "out", static_cast<__int128>(q.length));
  check_length(lse, "lse", static_cast<__int128>(a.batch) * a.heads * a.lq);
  (Naive ? cpu::ref::attention_forward : kernels().attention_forward)(a, out.data, lse.data);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value backward(const Napi::CallbackInfo& info) {
  const F32 dq = f32_arg(info, 0, "dq"), dk = f32_arg(info, 1, "dk"), dv = f32_arg(info, 2, "dv");
  const F32 q = f32_arg(info, 3, "q"), k = f32_arg(info, 4, "k"), v = f32_arg(info, 5, "v");
  const F32 out = f32_arg(info, 6, "out"), lse = f32_arg(info, 7, "lse"), dout = f32_arg(info, 8, "dout");
  const AttentionArgs a = read_args(info, 9, q, k, v);
  check_length(out, "out", static_cast<__int128>(q.length));
  check_length(dout, "dout", static_cast<__int128>(q.length));
  check_length(dq, "dq", static_cast<__int128>(q.length));
  check_length(dk, "dk", static_cast<__int128>(k.length));
  check_length(dv, "dv", static_cast<__int128>(k.length));
  check_length(lse, "lse", static_cast<__int128>(a.batch) * a.heads * a.lq);
  (Naive ? cpu::ref::attention_backward : kernels().attention_backward)(a, out.data, dout.data, lse.data, dq.data,
                                                                         dk.data, dv.data);
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
