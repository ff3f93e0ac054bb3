// N-API glue for cross-entropy with log-softmax (kernels/cross_entropy.h).
//
//   crossEntropyForward(lse, logits, targets, n, v, labelSmoothing, ignoreIndex) → the mean loss over
//     rows whose target is not ignoreIndex (NaN when every row is ignored); lse [n] saved.
//   crossEntropyBackward(dLogits, logits, targets, lse, n, v, labelSmoothing, ignoreIndex, gradOutput)
//     dLogits = ∂(gradOutput · mean loss)/∂logits (assigned).
// Every target is checked (ignoreIndex or in [0, v)) before a kernel runs. The *Naive twins run the
// reference loops.
#include <limits>

#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

constexpr double kInt32Min = std::numeric_limits<int32_t>::min(), kInt32Max = std::numeric_limits<int32_t>::max();

// Reads the arguments the two directions share (logits at 1, targets at 2, then n, v, ε, ignoreIndex at
// `dims`), checks every target and returns the kernel's arguments and the number of kept rows.
// On the GPU the targets are checked by the kernels (see native/cuda.h) and the count is left to them (-1).
std::pair<cpu::CrossEntropyArgs, int64_t> read_args(const Napi::CallbackInfo& info, size_t logits_at, size_t dims,
                                                    const F32& logits, const I32& targets) {
  cpu::CrossEntropyArgs a{};
  a.n = int_arg(info, dims, "n", 0, kMaxDim);
  a.v = int_arg(info, dims + 1, "v", 1, kMaxDim);
  a.label_smoothing = float(number_arg(info, dims + 2, "labelSmoothing", 0.0, 1.0));
  a.ignore_index = int32_t(int_arg(info, dims + 3, "ignoreIndex", int64_t(kInt32Min), int64_t(kInt32Max)));
  check_length(logits.length, a.n * a.v, "logits");
  check_length(targets.length, a.n, "targets");
  a.logits = logits.data;
  a.targets = targets.data;
  if (targets.block) return {a, -1};
  int64_t kept = 0;
  for (int64_t i = 0; i < a.n; ++i) {
    const int32_t t = a.targets[i];
    if (t == a.ignore_index) continue;
    if (t < 0 || t >= a.v)
      throw Error(Code::OutOfRange, "Expected a class in [0, " + std::to_string(a.v) + ") or the ignoreIndex " +
                                        std::to_string(a.ignore_index) + " for targets[" + std::to_string(i) +
                                        "] but received " + std::to_string(t));
    ++kept;
  }
  return {a, kept};
}

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 lse = f32_arg(info, 0, "lse"), logits = f32_arg(info, 1, "logits");
  const I32 targets = i32_arg(info, 2, "targets");
  auto [a, kept] = read_args(info, 1, 3, logits, targets);
  check_length(lse.length, a.n, "lse");
  double total;
  if (const cuda::Api* gpu = on_gpu({&lse, &logits, &targets}, Naive)) total = gpu->cross_entropy_forward(a, lse.data, &kept);
  else total = (Naive ? cpu::ref::cross_entropy_forward : kernels().cross_entropy_forward)(a, lse.data);
  return Napi::Number::New(info.Env(), kept > 0 ? total / double(kept) : std::numeric_limits<double>::quiet_NaN());
}

template <bool Naive>
Napi::Value backward(const Napi::CallbackInfo& info) {
  const F32 dlogits = f32_arg(info, 0, "dLogits"), logits = f32_arg(info, 1, "logits");
  const I32 targets = i32_arg(info, 2, "targets");
  const auto [a, kept] = read_args(info, 1, 4, logits, targets);
  const F32 lse = f32_arg(info, 3, "lse");
  const double grad = number_arg(info, 8, "gradOutput", -std::numeric_limits<double>::infinity(),
                                 std::numeric_limits<double>::infinity());
  check_length(dlogits.length, a.n * a.v, "dLogits");
  check_length(lse.length, a.n, "lse");
  if (const cuda::Api* gpu = on_gpu({&dlogits, &logits, &targets, &lse}, Naive)) {
    gpu->cross_entropy_backward(a, lse.data, float(grad), dlogits.data);
    return info.Env().Undefined();
  }
  const float scale = kept > 0 ? float(grad / double(kept)) : 0.0f;
  (Naive ? cpu::ref::cross_entropy_backward : kernels().cross_entropy_backward)(a, lse.data, scale, dlogits.data);
  return info.Env().Undefined();
}

}  // namespace

void register_cross_entropy(Napi::Env env, Napi::Object exports) {
  export_fn<forward<false>>(env, exports, "crossEntropyForward");
  export_fn<forward<true>>(env, exports, "crossEntropyForwardNaive");
  export_fn<backward<false>>(env, exports, "crossEntropyBackward");
  export_fn<backward<true>>(env, exports, "crossEntropyBackwardNaive");
}

}  // namespace nf::napi
