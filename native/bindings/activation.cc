// N-API glue for the activations (kernels/activation.h). `kind` is 'relu' or 'gelu'; bias is a
// Float32Array of `cols` or null, and dBias is given exactly when bias is.
//
//   activationForward(y, x, bias | null, rows, cols, kind)                y = f(x + bias)
//   activationBackward(dx, dBias | null, x, bias | null, dy, rows, cols, kind)
//     dx = dy·f'(x + bias) (assigned); dBias += Σ_rows dx
// The *Naive twins run the reference loops.
#include <optional>

#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

using cpu::Act;


Act act_arg(const Napi::CallbackInfo& info, size_t i) {
  const std::string kind = string_arg(info, i, "kind");
  if (kind == "relu") return Act::Relu;
  if (kind == "gelu") return Act::Gelu;
  throw Error(Code::InvalidArgument, "Expected 'relu' or 'gelu' for kind but received '" + kind + "'");
}

struct Dims {
  int64_t rows, cols;
};

Dims read_dims(const Napi::CallbackInfo& info, size_t first) {
  return Dims{int_arg(info, first, "rows", 0, kMaxDim), int_arg(info, first + 1, "cols", 0, kMaxDim)};
}

std::optional<F32> bias_arg(const Napi::CallbackInfo& info, size_t i, const Dims& d) {
  std::optional<F32> b = f32_arg_or_null(info, i, "bias");
  if (b) check_length(b->length, d.cols, "bias");
  return b;
}

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 y = f32_arg(info, 0, "y"), x = f32_arg(info, 1, "x");
  const Dims d = read_dims(info, 3);
  const Act act = act_arg(info, 5);
  const std::optional<F32> b = bias_arg(info, 2, d);
  check_length(x.length, d.rows * d.cols, "x");
  check_length(y.length, d.rows * d.cols, "y");
  const cuda::Api* gpu = on_gpu({&y, &x, b ? &*b : nullptr}, Naive);
  (gpu ? gpu->activation_forward : Naive ? cpu::ref::activation_forward : kernels().activation_forward)(
      act, x.data, b ? b->data : nullptr, y.data, d.rows, d.cols);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value backward(const Napi::CallbackInfo& info) {
  const F32 dx = f32_arg(info, 0, "dx");
  const std::optional<F32> db = f32_arg_or_null(info, 1, "dBias");
  const F32 x = f32_arg(info, 2, "x"), dy = f32_arg(info, 4, "dy");
  const Dims d = read_dims(info, 5);
  const Act act = act_arg(info, 7);
  const std::optional<F32> b = bias_arg(info, 3, d);
  if (db.has_value() != b.has_value())
    throw Error(Code::InvalidArgument, "Expected dBias exactly when bias is given (both or neither are null)");
  if (db) check_length(db->length, d.cols, "dBias");
  check_length(x.length, d.rows * d.cols, "x");
  check_length(dy.length, d.rows * d.cols, "dy");
  check_length(dx.length, d.rows * d.cols, "dx");
  const cuda::Api* gpu = on_gpu({&dx, db ? &*db : nullptr, &x, b ? &*b : nullptr, &dy}, Naive);
  (gpu ? gpu->activation_backward : Naive ? cpu::ref::activation_backward : kernels().activation_backward)(
      act, x.data, b ? b->data : nullptr, dy.data, dx.data, db ? db->data : nullptr, d.rows, d.cols);
  return info.Env().Undefined();
}

}  // namespace

void register_activation(Napi::Env env, Napi::Object exports) {
  export_fn<forward<false>>(env, exports, "activationForward");
  export_fn<forward<true>>(env, exports, "activationForwardNaive");
  export_fn<backward<false>>(env, exports, "activationBackward");
  export_fn<backward<true>>(env, exports, "activationBackwardNaive");
}

}  // namespace nf::napi
