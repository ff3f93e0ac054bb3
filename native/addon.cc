// Addon entry: choose the kernels for this CPU once, then register each kernel family's bindings.
// A bad NODEFORMER_ISA makes loading fail with a message naming it, not a silent fallback.
#include <napi.h>

#include "bindings/common.h"
#include "dispatch.h"
#include "memory.h"

namespace nf::napi {
void register_attention(Napi::Env env, Napi::Object exports);
void register_backend(Napi::Env env, Napi::Object exports);
void register_bench(Napi::Env env, Napi::Object exports);
void register_matmul(Napi::Env env, Napi::Object exports);
void register_matmul_packed(Napi::Env env, Napi::Object exports);
void register_matmul_int8(Napi::Env env, Napi::Object exports);
void register_activation(Napi::Env env, Napi::Object exports);
void register_add(Napi::Env env, Napi::Object exports);
void register_dropout(Napi::Env env, Napi::Object exports);
void register_embedding(Napi::Env env, Napi::Object exports);
void register_adam(Napi::Env env, Napi::Object exports);
void register_layer_norm(Napi::Env env, Napi::Object exports);
void register_softmax(Napi::Env env, Napi::Object exports);
void register_cross_entropy(Napi::Env env, Napi::Object exports);
void register_strided_copy(Napi::Env env, Napi::Object exports);
void register_device(Napi::Env env, Napi::Object exports);
}  // namespace nf::napi

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  nf::configure_allocator();
  try {
    nf::init_dispatch();
  } catch (const nf::Error& e) {
    nf::napi::throw_js(env, e.code(), e.what());
  }
  nf::napi::register_attention(env, exports);
  nf::napi::register_backend(env, exports);
  nf::napi::register_bench(env, exports);
  nf::napi::register_matmul(env, exports);
  nf::napi::register_matmul_packed(env, exports);
  nf::napi::register_matmul_int8(env, exports);
  nf::napi::register_activation(env, exports);
  nf::napi::register_add(env, exports);
  nf::napi::register_dropout(env, exports);
  nf::napi::register_embedding(env, exports);
  nf::napi::register_adam(env, exports);
  nf::napi::register_layer_norm(env, exports);
  nf::napi::register_softmax(env, exports);
  nf::napi::register_cross_entropy(env, exports);
  nf::napi::register_strided_copy(env, exports);
  nf::napi::register_device(env, exports);
  return exports;
}

NODE_API_MODULE(nodeformer, Init)
