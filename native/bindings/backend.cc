// N-API glue for the backend: which ISA and how many threads, and the constants TypeScript checks at load.
#include "../dispatch.h"
#include "../memory.h"
#include "../threadpool.h"
#include "common.h"

namespace nf::napi {
namespace {

Napi::Value info_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("simd", isa_name(kernels().isa));
  Napi::Array isas = Napi::Array::New(env);
  uint32_t i = 0;
  for (Isa isa : supported_isas()) isas.Set(i++, isa_name(isa));
  out.Set("supportedSimd", isas);
  out.Set("bf16", kernels().bf16);
  out.Set("amx", kernels().amx);
  out.Set("int8", kernels().int8);
  out.Set("threads", num_threads());
  out.Set("hardwareThreads", hardware_threads());
  out.Set("retainsFreedMemory", allocator_configured());
#if defined(NF_HAVE_CUDA)
  out.Set("cudaCompiled", true);
#else
  out.Set("cudaCompiled", false);
#endif
  return out;
}

Napi::Value set_threads_js(const Napi::CallbackInfo& info) {
  const int n = static_cast<int>(int_arg(info, 0, "threads", 1, 1024));
  return Napi::Number::New(info.Env(), set_num_threads(n));
}

Napi::Value set_simd_js(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), isa_name(set_isa(string_arg(info, 0, "simd"))));
}

// setLowPrecision('native' | 'vector' | 'emulate'): see set_low_precision.
Napi::Value set_low_precision_js(const Napi::CallbackInfo& info) {
  set_low_precision(parse_low_precision(string_arg(info, 0, "lowPrecision")));
  return info.Env().Undefined();
}

constexpr const char* kPrecisions[] = {"highest", "high", "medium"};

// setMatmulPrecision(name): the process-wide setting (the GPU's TF32 switch is set beside it from JS).
Napi::Value set_matmul_precision_js(const Napi::CallbackInfo& info) {
  const std::string p = string_arg(info, 0, "precision");
  for (int i = 0; i < 3; ++i)
    if (p == kPrecisions[i]) {
      set_matmul_precision(static_cast<MatmulPrecision>(i));
      return info.Env().Undefined();
    }
  throw Error(Code::InvalidArgument, "Expected precision 'highest', 'high' or 'medium' but received '" + p + "'");
}

Napi::Value get_matmul_precision_js(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), kPrecisions[static_cast<int>(matmul_precision())]);
}

Napi::Value release_memory_js(const Napi::CallbackInfo& info) {
  release_memory();
  return info.Env().Undefined();
}

Napi::Value register_errors_js(const Napi::CallbackInfo& info) {
  register_error_classes(info);
  return info.Env().Undefined();
}

}  // namespace

void register_backend(Napi::Env env, Napi::Object exports) {
  export_fn<info_js>(env, exports, "info");
  export_fn<set_threads_js>(env, exports, "setThreads");
  export_fn<set_simd_js>(env, exports, "setSimd");
  export_fn<set_low_precision_js>(env, exports, "setLowPrecision");
  export_fn<set_matmul_precision_js>(env, exports, "setMatmulPrecision");
  export_fn<get_matmul_precision_js>(env, exports, "getMatmulPrecision");
  export_fn<release_memory_js>(env, exports, "releaseMemory");
  export_fn<register_errors_js>(env, exports, "registerErrorClasses");
  Napi::Array codes = Napi::Array::New(env);
  uint32_t i = 0;
  for (Code c : kAllCodes) codes.Set(i++, code_name(c));
  exports.Set("errorCodes", codes);
}

}  // namespace nf::napi
