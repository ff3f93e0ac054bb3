// N-API glue for dropout (kernels/dropout.h). The backward is the same call on dy with the same p, seed
// and offset (the mask is recomputed from them).
//
//   dropoutForward(y, x, p, seed, offset)     y = x·mask/(1 − p); p in [0, 1], seed and offset integers
//                                             in [0, 2⁵³) (what a JS number holds exactly)
// dropoutForwardNaive runs the reference loop (same bits).
#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

constexpr int64_t kMaxSafe = (int64_t(1) << 53) - 1;

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 y = f32_arg(info, 0, "y"), x = f32_arg(info, 1, "x");
  const double p = number_arg(info, 2, "p", 0.0, 1.0);
  const uint64_t seed = uint64_t(int_arg(info, 3, "seed", 0, kMaxSafe));
  const uint64_t offset = uint64_t(int_arg(info, 4, "offset", 0, kMaxSafe));
  check_length(y.length, int64_t(x.length), "y");
  const cuda::Api* gpu = on_gpu({&y, &x}, Naive);
  (gpu ? gpu->dropout_forward : Naive ? cpu::ref::dropout_forward : kernels().dropout_forward)(
      x.data, y.data, int64_t(x.length), p, seed, offset);
  return info.Env().Undefined();
}

}  // namespace

void register_dropout(Napi::Env env, Napi::Object exports) {
  export_fn<forward<false>>(env, exports, "dropoutForward");
  export_fn<forward<true>>(env, exports, "dropoutForwardNaive");
}

}  // namespace nf::napi
