// N-API glue for the Adam / AdamW step (kernels/adam.h), in place on param, m and v.
//
//   adamUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step)
// Ranges as PyTorch checks them: lr, eps, weightDecay ≥ 0 (finite), betas in [0, 1), step ≥ 1.
// adamUpdateNaive runs the several-pass reference.
#include <limits>

#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

constexpr double kNoMax = std::numeric_limits<double>::infinity();

// β in [0, 1): 1 would divide by 1 − βᵗ = 0.
double beta_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const double b = number_arg(info, i, name, 0.0, 1.0);
  if (b == 1.0) throw Error(Code::InvalidArgument, std::string("Expected a number in [0, 1) for ") + name + " but received 1");
  return b;
}

template <bool Naive>
Napi::Value update(const Napi::CallbackInfo& info) {
  const F32 p = f32_arg(info, 0, "param"), g = f32_arg(info, 1, "grad"), m = f32_arg(info, 2, "m"),
            v = f32_arg(info, 3, "v");
  cpu::AdamArgs a{};
  a.lr = number_arg(info, 4, "lr", 0.0, kNoMax);
  a.beta1 = beta_arg(info, 5, "beta1");
  a.beta2 = beta_arg(info, 6, "beta2");
  a.eps = number_arg(info, 7, "eps", 0.0, kNoMax);
  a.weight_decay = number_arg(info, 8, "weightDecay", 0.0, kNoMax);
  a.decoupled = bool_arg(info, 9, "decoupled");
  a.step = int_arg(info, 10, "step", 1, (int64_t(1) << 53) - 1);
  a.n = int64_t(p.length);
  check_length(g.length, a.n, "grad");
  check_length(m.length, a.n, "m");
  check_length(v.length, a.n, "v");
  a.param = p.data, a.grad = g.data, a.m = m.data, a.v = v.data;
  const cuda::Api* gpu = on_gpu({&p, &g, &m, &v}, Naive);
  (gpu ? gpu->adam_update : Naive ? cpu::ref::adam_update : kernels().adam_update)(a);
  return info.Env().Undefined();
}

}  // namespace

void register_adam(Napi::Env env, Napi::Object exports) {
  export_fn<update<false>>(env, exports, "adamUpdate");
  export_fn<update<true>>(env, exports, "adamUpdateNaive");
}

}  // namespace nf::napi
