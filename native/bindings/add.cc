// N-API glue for the additions (kernels/add.h).
//
//   addBiasForward(y, x, bias, rows, cols)     y = x + bias, bias broadcast over rows
//   addBiasBackward(dBias, dy, rows, cols)     dBias += Σ_rows dy
//   addForward(y, a, b, n)                     y = a + b
// The *Naive twins run the reference loops.
#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

constexpr int64_t kMaxLength = (int64_t(1) << 53) - 1;

template <bool Naive>
Napi::Value bias_forward(const Napi::CallbackInfo& info) {
  const F32 y = f32_arg(info, 0, "y"), x = f32_arg(info, 1, "x"), b = f32_arg(info, 2, "bias");
  const int64_t rows = int_arg(info, 3, "rows", 0, kMaxDim), cols = int_arg(info, 4, "cols", 0, kMaxDim);
  check_length(x.length, rows * cols, "x");
  check_length(y.length, rows * cols, "y");
  check_length(b.length, cols, "bias");
  const cuda::Api* gpu = on_gpu({&y, &x, &b}, Naive);
  (gpu ? gpu->add_bias_forward : Naive ? cpu::ref::add_bias_forward : kernels().add_bias_forward)(x.data, b.data,
                                                                                                  y.data, rows, cols);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value bias_backward(const Napi::CallbackInfo& info) {
  const F32 db = f32_arg(info, 0, "dBias"), dy = f32_arg(info, 1, "dy");
  const int64_t rows = int_arg(info, 2, "rows", 0, kMaxDim), cols = int_arg(info, 3, "cols", 0, kMaxDim);
  check_length(dy.length, rows * cols, "dy");
  check_length(db.length, cols, "dBias");
  const cuda::Api* gpu = on_gpu({&db, &dy}, Naive);
  (gpu ? gpu->add_bias_backward : Naive ? cpu::ref::add_bias_backward : kernels().add_bias_backward)(dy.data, db.data,
                                                                                                     rows, cols);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value add(const Napi::CallbackInfo& info) {
  const F32 y = f32_arg(info, 0, "y"), a = f32_arg(info, 1, "a"), b = f32_arg(info, 2, "b");
  const int64_t n = int_arg(info, 3, "n", 0, kMaxLength);
  check_length(a.length, n, "a");
  check_length(b.length, n, "b");
  check_length(y.length, n, "y");
  const cuda::Api* gpu = on_gpu({&y, &a, &b}, Naive);
  (gpu ? gpu->add_forward : Naive ? cpu::ref::add_forward : kernels().add_forward)(a.data, b.data, y.data, n);
  return info.Env().Undefined();
}

}  // namespace

void register_add(Napi::Env env, Napi::Object exports) {
  export_fn<bias_forward<false>>(env, exports, "addBiasForward");
  export_fn<bias_forward<true>>(env, exports, "addBiasForwardNaive");
  export_fn<bias_backward<false>>(env, exports, "addBiasBackward");
  export_fn<bias_backward<true>>(env, exports, "addBiasBackwardNaive");
  export_fn<add<false>>(env, exports, "addForward");
  export_fn<add<true>>(env, exports, "addForwardNaive");
}

}  // namespace nf::napi
