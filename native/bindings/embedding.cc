// N-API glue for the embedding lookup (kernels/embedding.h). Every id of a host Int32Array is checked
// against the vocabulary here, before a kernel reads the table; ids on the GPU are checked by the CUDA
// kernels themselves (an id out of range throws from the forward and is skipped by the backward).
//
//   embeddingForward(out, weight, ids, vocab, cols)                      out[i, :] = weight[ids[i], :]
//   embeddingBackward(dWeight, ids, dOut, vocab, cols, paddingIdx | null)  dWeight[ids[i], :] += dOut[i, :]
// The *Naive twins run the reference loops.
#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

void check_ids(const I32& ids, int64_t vocab) {
  for (size_t i = 0; i < ids.length; ++i)
    if (ids.data[i] < 0 || ids.data[i] >= vocab)
      throw Error(Code::OutOfRange, "Expected ids in [0, " + std::to_string(vocab) + ") but ids[" + std::to_string(i) +
                                        "] is " + std::to_string(ids.data[i]));
}

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 out = f32_arg(info, 0, "out"), w = f32_arg(info, 1, "weight");
  const I32 ids = i32_arg(info, 2, "ids");
  const int64_t vocab = int_arg(info, 3, "vocab", 0, kMaxDim), cols = int_arg(info, 4, "cols", 0, kMaxDim);
  check_length(w.length, vocab * cols, "weight");
  check_length(out.length, int64_t(ids.length) * cols, "out");
  if (const cuda::Api* gpu = on_gpu({&out, &w, &ids}, Naive)) {  // the device checks the ids it reads
    gpu->embedding_forward(w.data, ids.data, out.data, int64_t(ids.length), cols, vocab);
    return info.Env().Undefined();
  }
  check_ids(ids, vocab);
  (Naive ? cpu::ref::embedding_forward : kernels().embedding_forward)(w.data, ids.data, out.data, int64_t(ids.length), cols);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value backward(const Napi::CallbackInfo& info) {
  const F32 dw = f32_arg(info, 0, "dWeight");
  const I32 ids = i32_arg(info, 1, "ids");
  const F32 dout = f32_arg(info, 2, "dOut");
  const int64_t vocab = int_arg(info, 3, "vocab", 0, kMaxDim), cols = int_arg(info, 4, "cols", 0, kMaxDim);
  const int64_t padding = info[5].IsNull() ? cpu::kNoPadding : int_arg(info, 5, "paddingIdx", 0, vocab - 1);
  check_length(dw.length, vocab * cols, "dWeight");
  check_length(dout.length, int64_t(ids.length) * cols, "dOut");
  if (const cuda::Api* gpu = on_gpu({&dw, &ids, &dout}, Naive)) {  // rows of ids outside [0, vocab) are skipped
    gpu->embedding_backward(ids.data, dout.data, dw.data, int64_t(ids.length), cols, padding, vocab);
    return info.Env().Undefined();
  }
  check_ids(ids, vocab);
  (Naive ? cpu::ref::embedding_backward : kernels().embedding_backward)(ids.data, dout.data, dw.data,
                                                                        int64_t(ids.length), cols, padding);
  return info.Env().Undefined();
}

}  // namespace

void register_embedding(Napi::Env env, Napi::Object exports) {
  export_fn<forward<false>>(env, exports, "embeddingForward");
  export_fn<forward<true>>(env, exports, "embeddingForwardNaive");
  export_fn<backward<false>>(env, exports, "embeddingBackward");
  export_fn<backward<true>>(env, exports, "embeddingBackwardNaive");
}

}  // namespace nf::napi
