// N-API glue for LayerNorm (kernels/layer_norm.h). Rows are the flattened leading dimensions.
//
//   layerNormForward(y, sum | null, mean, rstd, x, residual | null, gamma, beta, n, c, eps)
//     y = LN(x (+ residual)); sum = x + residual (given exactly when residual is); mean, rstd [n] saved.
//   layerNormBackward(dx, dgamma, dbeta, dy, s, gamma, mean, rstd, n, c)
//     dx = ∂L/∂s (assigned), dgamma += ∂L/∂γ, dbeta += ∂L/∂β; s is x, or the saved sum.
// The *Naive twins run the reference loops.
#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 y = f32_arg(info, 0, "y");
  const std::optional<F32> sum = f32_arg_or_null(info, 1, "sum");
  const F32 mean = f32_arg(info, 2, "mean"), rstd = f32_arg(info, 3, "rstd"), x = f32_arg(info, 4, "x");
  const std::optional<F32> residual = f32_arg_or_null(info, 5, "residual");
  const F32 gamma = f32_arg(info, 6, "gamma"), beta = f32_arg(info, 7, "beta");
  const int64_t n = int_arg(info, 8, "n", 0, kMaxDim), c = int_arg(info, 9, "c", 1, kMaxDim);
  const double eps = number_arg(info, 10, "eps", 0.0, 1e30);
  const bool has_residual = residual.has_value();
  if (sum.has_value() != has_residual)
    throw Error(Code::InvalidArgument, "Expected sum and residual to be both given or both null");
  check_length(y.length, n * c, "y");
  check_length(x.length, n * c, "x");
  if (has_residual) {
    check_length(residual->length, n * c, "residual");
    check_length(sum->length, n * c, "sum");
  }
  check_length(mean.length, n, "mean");
  check_length(rstd.length, n, "rstd");
  check_length(gamma.length, c, "gamma");
  check_length(beta.length, c, "beta");
  cpu::LayerNormArgs a{};
  a.n = n, a.c = c, a.x = x.data, a.residual = has_residual ? residual->data : nullptr, a.gamma = gamma.data;
  a.beta = beta.data, a.eps = float(eps), a.y = y.data, a.sum = has_residual ? sum->data : nullptr;
  a.mean = mean.data, a.rstd = rstd.data;
  const cuda::Api* gpu = on_gpu({&y, sum ? &*sum : nullptr, &mean, &rstd, &x, residual ? &*residual : nullptr, &gamma, &beta}, Naive);
  (gpu ? gpu->layer_norm_forward : Naive ? cpu::ref::layer_norm_forward : kernels().layer_norm_forward)(a);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value backward(const Napi::CallbackInfo& info) {
  const F32 dx = f32_arg(info, 0, "dx"), dgamma = f32_arg(info, 1, "dgamma"), dbeta = f32_arg(info, 2, "dbeta");
  const F32 dy = f32_arg(info, 3, "dy"), s = f32_arg(info, 4, "s"), gamma = f32_arg(info, 5, "gamma");
  const F32 mean = f32_arg(info, 6, "mean"), rstd = f32_arg(info, 7, "rstd");
  const int64_t n = int_arg(info, 8, "n", 0, kMaxDim), c = int_arg(info, 9, "c", 1, kMaxDim);
  check_length(dx.length, n * c, "dx");
  check_length(dy.length, n * c, "dy");
  check_length(s.length, n * c, "s");
  check_length(dgamma.length, c, "dgamma");
  check_length(dbeta.length, c, "dbeta");
  check_length(gamma.length, c, "gamma");
  check_length(mean.length, n, "mean");
  check_length(rstd.length, n, "rstd");
  const cpu::LayerNormGradArgs a{n,         c,         dy.data, s.data,      gamma.data,
                                 mean.data, rstd.data, dx.data, dgamma.data, dbeta.data};
  const cuda::Api* gpu = on_gpu({&dx, &dgamma, &dbeta, &dy, &s, &gamma, &mean, &rstd}, Naive);
  (gpu ? gpu->layer_norm_backward : Naive ? cpu::ref::layer_norm_backward : kernels().layer_norm_backward)(a);
  return info.Env().Undefined();
}

}  // namespace

void register_layer_norm(Napi::Env env, Napi::Object exports) {
  export_fn<forward<false>>(env, exports, "layerNormForward");
  export_fn<forward<true>>(env, exports, "layerNormForwardNaive");
  export_fn<backward<false>>(env, exports, "layerNormBackward");
  export_fn<backward<true>>(env, exports, "layerNormBackwardNaive");
}

}  // namespace nf::napi
