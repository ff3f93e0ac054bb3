// N-API glue for softmax over the last dimension (kernels/softmax.h). Rows are the flattened leading dims.
//
//   softmaxForward(y, x, n, c)          y = softmax(x)
//   softmaxBackward(dx, dy, y, n, c)    dx = y ∘ (dy − Σ dy∘y) (assigned)
// The *Naive twins run the reference loops.
#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 y = f32_arg(info, 0, "y"), x = f32_arg(info, 1, "x");
  const int64_t n = int_arg(info, 2, "n", 0, kMaxDim), c = int_arg(info, 3, "c", 0, kMaxDim);
  check_length(y.length, n * c, "y");
  check_length(x.length, n * c, "x");
  const cuda::Api* gpu = on_gpu({&y, &x}, Naive);
  (gpu ? gpu->softmax_forward : Naive ? cpu::ref::softmax_forward : kernels().softmax_forward)(y.data, x.data, n, c);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value backward(const Napi::CallbackInfo& info) {
  const F32 dx = f32_arg(info, 0, "dx"), dy = f32_arg(info, 1, "dy"), y = f32_arg(info, 2, "y");
  const int64_t n = int_arg(info, 3, "n", 0, kMaxDim), c = int_arg(info, 4, "c", 0, kMaxDim);
  check_length(dx.length, n * c, "dx");
  check_length(dy.length, n * c, "dy");
  check_length(y.length, n * c, "y");
  const cuda::Api* gpu = on_gpu({&dx, &dy, &y}, Naive);
  (gpu ? gpu->softmax_backward : Naive ? cpu::ref::softmax_backward : kernels().softmax_backward)(dx.data, dy.data,
                                                                                                  y.data, n, c);
  return info.Env().Undefined();
}

}  // namespace

void register_softmax(Napi::Env env, Napi::Object exports) {
  export_fn<forward<false>>(env, exports, "softmaxForward");
  export_fn<forward<true>>(env, exports, "softmaxForwardNaive");
  export_fn<backward<false>>(env, exports, "softmaxBackward");
  export_fn<backward<true>>(env, exports, "softmaxBackwardNaive");
}

}  // namespace nf::napi
