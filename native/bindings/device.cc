// N-API glue for GPU memory and the GPU-only glue kernels (native/cuda.h). Built into every addon: without
// CUDA, cudaStatus() says why and nothing else can be reached (no block can ever be allocated).
//
//   cudaStatus() → { compiled, available, reason, devices }
//   deviceAlloc(bytes, zero) → handle          an External owning a block of the caching allocator
//   deviceFree(handle)                         back to the cache now (idempotent); the External's finalizer
//                                              does the same if JS never calls it
//   deviceUpload(dst, src)                     DeviceArray ← Float32Array | Int32Array of its length and dtype
//   deviceDownload(dst, src)                   typed array ← DeviceArray (synchronises)
//   deviceCopy(dst, src)                       DeviceArray ← DeviceArray of one length and dtype
//   deviceMemory() → { allocated, cached, peak }   deviceEmptyCache()   deviceSynchronize()   setTf32(on)
//   binaryForward(op, out, a, b, shape, aStrides, bStrides)   op 'add' | 'sub' | 'mul', NumPy broadcasting
//   reduceSum(out, x, shape, outStrides, scale)               out = scale · Σ over the dims whose stride is 0
//   scaleForward(y, x, s)   fillForward(y, value)   sumSquares(x) → number (synchronises)
//
// A DeviceArray is a view { handle, offset, length, dtype } of a block (lib/tensor/device_array.ts); its
// handle carries a type tag, so no other object can pass for one. The block's bytes are reported to V8 as
// external memory, so the garbage collector runs (and frees forgotten tensors) as GPU memory fills.
#include <napi.h>

#include <cstring>
#include <string>

#include "common.h"

namespace nf::napi {
namespace {

constexpr napi_type_tag kBlockTag = {0x6e6f6465666f726dull, 0x6375646162316b31ull};

const cuda::Api& gpu() {
  const cuda::Api* api = cuda::api();
  if (!api)
    throw Error(Code::Device, "CUDA is not available: this build of nodeformer has no CUDA kernels (binding.gyp "
                              "builds the CPU addon; build the CUDA one with npm run build:cuda)");
  return *api;
}

Block* block_arg(const Napi::CallbackInfo& info, size_t i) {
  const Napi::Value v = info[i];
  if (!v.IsExternal() || !v.As<Napi::External<Block>>().CheckTypeTag(&kBlockTag))
    throw Error(Code::InvalidArgument, "Expected a GPU memory handle made by deviceAlloc for handle");
  return v.As<Napi::External<Block>>().Data();
}

// Returns the block to the cache and tells V8 its bytes are gone. Never throws (finalizers call it).
void release(Napi::BasicEnv env, Block* b) noexcept {
  if (b->freed) return;
  b->freed = true;
  try {
    gpu().free(b->ptr);
  } catch (...) {  // a finalizer has nowhere to report to; the block is lost to the cache, not corrupted
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(b->bytes));
}

Napi::Value status_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  const cuda::Api* api = cuda::api();
  out.Set("compiled", api != nullptr);
  Napi::Array names = Napi::Array::New(env);
  if (!api) {
    out.Set("available", false);
    out.Set("reason", "this build of nodeformer has no CUDA kernels (binding.gyp builds the CPU addon; build the "
                      "CUDA one with npm run build:cuda)");
  } else {
    const cuda::Status s = api->status();
    out.Set("available", s.available);
    out.Set("reason", s.reason);
    for (uint32_t i = 0; i < s.devices.size(); ++i) names.Set(i, s.devices[i]);
  }
  out.Set("devices", names);
  return out;
}

Napi::Value alloc_js(const Napi::CallbackInfo& info) {
  const int64_t bytes = int_arg(info, 0, "bytes", 0, kMaxSafeInteger);
  const bool zero = bool_arg(info, 1, "zero");
  // Zero bytes still gets a distinct block, so every tensor owns exactly one handle.
  void* p = gpu().alloc(static_cast<size_t>(bytes ? bytes : 1));
  if (zero && bytes) {
    try {
      gpu().zero(p, static_cast<size_t>(bytes));
    } catch (...) {
      gpu().free(p);
      throw;
    }
  }
  auto* b = new Block{p, static_cast<size_t>(bytes), false};
  Napi::Env env = info.Env();
  auto handle = Napi::External<Block>::New(env, b, [](Napi::BasicEnv e, Block* blk) {
    release(e, blk);
    delete blk;
  });
  handle.TypeTag(&kBlockTag);
  Napi::MemoryManagement::AdjustExternalMemory(env, bytes);
  return handle;
}

Napi::Value free_js(const Napi::CallbackInfo& info) {
  release(info.Env(), block_arg(info, 0));
  return info.Env().Undefined();
}

// The GPU view at info[i], which must be one (a typed array there is a device mix-up, not a dtype error).
template <typename View>
View gpu_arg(const View& v) {
  if (!v.block)
    throw Error(Code::Device, std::string("Expected a cuda buffer for ") + v.name + " but received a cpu typed array");
  return v;
}

// The host typed array at info[i] and its byte length; `dtype` must match the device view's.
std::pair<void*, size_t> host_arg(const Napi::CallbackInfo& info, size_t i, const char* name, const char* dtype) {
  const Napi::Value v = info[i];
  const bool f32 = std::strcmp(dtype, "float32") == 0;
  const napi_typedarray_type want = f32 ? napi_float32_array : napi_int32_array;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != want)
    throw Error(Code::DType, std::string("Expected ") + (f32 ? "a Float32Array" : "an Int32Array") + " for " + name +
                                 " to match the " + dtype + " device array");
  Napi::TypedArray arr = v.As<Napi::TypedArray>();
  return {static_cast<uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset(), arr.ByteLength()};
}

// A DeviceArray of either dtype.
DeviceView any_view(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (auto v = device_view(info[i], name, nullptr)) return *v;
  throw Error(Code::InvalidArgument, std::string("Expected a DeviceArray for ") + name);
}

Napi::Value upload_js(const Napi::CallbackInfo& info) {
  const DeviceView dst = any_view(info, 0, "dst");
  const auto [src, bytes] = host_arg(info, 1, "src", dst.dtype);
  check_length(bytes / 4, static_cast<int64_t>(dst.length), "src");
  if (dst.block->freed) throw Error(Code::Disposed, "Expected live GPU memory for dst but it was freed");
  if (bytes) gpu().to_device(dst.data, src, bytes);
  return info.Env().Undefined();
}

Napi::Value download_js(const Napi::CallbackInfo& info) {
  const DeviceView src = any_view(info, 1, "src");
  const auto [dst, bytes] = host_arg(info, 0, "dst", src.dtype);
  check_length(bytes / 4, static_cast<int64_t>(src.length), "dst");
  if (src.block->freed) throw Error(Code::Disposed, "Expected live GPU memory for src but it was freed");
  if (bytes) gpu().to_host(dst, src.data, bytes);
  return info.Env().Undefined();
}

Napi::Value copy_js(const Napi::CallbackInfo& info) {
  const DeviceView dst = any_view(info, 0, "dst"), src = any_view(info, 1, "src");
  if (std::strcmp(dst.dtype, src.dtype) != 0)
    throw Error(Code::DType, std::string("Expected src of dst's dtype ") + dst.dtype + " but received " + src.dtype);
  check_length(src.length, static_cast<int64_t>(dst.length), "src");
  if (dst.block->freed || src.block->freed) throw Error(Code::Disposed, "Expected live GPU memory for dst and src");
  if (dst.length) gpu().copy(dst.data, src.data, dst.length * 4);
  return info.Env().Undefined();
}

Napi::Value memory_js(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  const cuda::MemoryStats m = cuda::api() ? cuda::api()->memory_stats() : cuda::MemoryStats{0, 0, 0};
  out.Set("allocated", double(m.allocated));
  out.Set("cached", double(m.cached));
  out.Set("peak", double(m.peak));
  return out;
}

Napi::Value empty_cache_js(const Napi::CallbackInfo& info) {
  if (cuda::api()) cuda::api()->empty_cache();
  return info.Env().Undefined();
}

Napi::Value synchronize_js(const Napi::CallbackInfo& info) {
  gpu().synchronize();
  return info.Env().Undefined();
}

Napi::Value set_tf32_js(const Napi::CallbackInfo& info) {
  const bool on = bool_arg(info, 0, "enabled");
  if (cuda::api()) cuda::api()->set_tf32(on);
  return info.Env().Undefined();
}

// Reads `shape` at info[at] and strides for each name at the following arguments, all of one rank.
int shape_and_strides(const Napi::CallbackInfo& info, size_t at, int64_t* shape,
                      std::initializer_list<std::pair<const char*, int64_t*>> strides) {
  const int rank = dims_arg(info, at, "shape", shape);
  size_t i = at;
  for (const auto& [name, out] : strides) {
    if (dims_arg(info, ++i, name, out) != rank)
      throw Error(Code::Shape, std::string("Expected ") + name + " of the rank " + std::to_string(rank) + " of shape");
  }
  for (int k = 0; k < rank; ++k)
    if (shape[k] > kMaxDim) throw Error(Code::Shape, "Expected dimensions below 2^31 in shape " + join_dims(shape, rank));
  return rank;
}

Napi::Value binary_js(const Napi::CallbackInfo& info) {
  cuda::BinaryArgs a{};
  const std::string op = string_arg(info, 0, "op");
  if (op == "add") a.op = cuda::BinaryOp::Add;
  else if (op == "sub") a.op = cuda::BinaryOp::Sub;
  else if (op == "mul") a.op = cuda::BinaryOp::Mul;
  else throw Error(Code::InvalidArgument, "Expected 'add', 'sub' or 'mul' for op but received '" + op + "'");
  a.rank = shape_and_strides(info, 4, a.shape, {{"aStrides", a.a_strides}, {"bStrides", a.b_strides}});
  const F32 out = gpu_arg(f32_arg(info, 1, "out")), x = gpu_arg(f32_arg(info, 2, "a")), y = gpu_arg(f32_arg(info, 3, "b"));
  const int64_t n = elements(a.shape, size_t(a.rank));
  check_length(out.length, n, "out");
  if (n == 0) return info.Env().Undefined();
  check_reach(a.shape, a.rank, a.a_strides, 0, x.length, "a");
  check_reach(a.shape, a.rank, a.b_strides, 0, y.length, "b");
  a.a = x.data, a.b = y.data, a.out = out.data;
  on_gpu({&out, &x, &y})->binary(a);
  return info.Env().Undefined();
}

Napi::Value reduce_js(const Napi::CallbackInfo& info) {
  cuda::ReduceArgs a{};
  a.rank = shape_and_strides(info, 2, a.shape, {{"outStrides", a.out_strides}});
  a.scale = float(number_arg(info, 4, "scale", -3.4e38, 3.4e38));
  const F32 out = gpu_arg(f32_arg(info, 0, "out")), x = gpu_arg(f32_arg(info, 1, "x"));
  check_length(x.length, elements(a.shape, size_t(a.rank)), "x");
  a.out_size = static_cast<int64_t>(out.length);
  if (x.length > 0) check_reach(a.shape, a.rank, a.out_strides, 0, out.length, "out");
  a.x = x.data, a.out = out.data;
  on_gpu({&out, &x})->reduce_sum(a);
  return info.Env().Undefined();
}

Napi::Value scale_js(const Napi::CallbackInfo& info) {
  const double s = number_arg(info, 2, "s", -3.4e38, 3.4e38);
  const F32 y = gpu_arg(f32_arg(info, 0, "y")), x = gpu_arg(f32_arg(info, 1, "x"));
  check_length(y.length, static_cast<int64_t>(x.length), "y");
  on_gpu({&y, &x})->scale(y.data, x.data, float(s), static_cast<int64_t>(x.length));
  return info.Env().Undefined();
}

Napi::Value fill_js(const Napi::CallbackInfo& info) {
  const double value = number_arg(info, 1, "value", -3.4e38, 3.4e38);
  const F32 y = gpu_arg(f32_arg(info, 0, "y"));
  on_gpu({&y})->fill(y.data, float(value), static_cast<int64_t>(y.length));
  return info.Env().Undefined();
}

Napi::Value sum_squares_js(const Napi::CallbackInfo& info) {
  const F32 x = gpu_arg(f32_arg(info, 0, "x"));
  return Napi::Number::New(info.Env(), on_gpu({&x})->sum_squares(x.data, static_cast<int64_t>(x.length)));
}

}  // namespace

std::optional<DeviceView> device_view(const Napi::Value& v, const char* name, const char* dtype) {
  if (!v.IsObject() || v.IsTypedArray() || v.IsArray() || v.IsFunction()) return std::nullopt;
  const Napi::Object o = v.As<Napi::Object>();
  const Napi::Value handle = o.Get("handle");
  if (!handle.IsExternal()) return std::nullopt;
  if (!handle.As<Napi::External<Block>>().CheckTypeTag(&kBlockTag))
    throw Error(Code::InvalidArgument, std::string("Expected a DeviceArray made by nodeformer for ") + name);
  const Block* b = handle.As<Napi::External<Block>>().Data();
  const Napi::Value offset = o.Get("offset"), length = o.Get("length"), type = o.Get("dtype");
  const double off = offset.IsNumber() ? offset.As<Napi::Number>().DoubleValue() : -1;
  const double len = length.IsNumber() ? length.As<Napi::Number>().DoubleValue() : -1;
  if (!(off >= 0 && len >= 0 && off == double(int64_t(off)) && len == double(int64_t(len)) &&
        (off + len) * 4 <= double(b->bytes)))
    throw Error(Code::OutOfRange, std::string("Expected the view ") + name + " to lie inside its " +
                                      std::to_string(b->bytes) + "-byte GPU block");
  const std::string t = type.IsString() ? type.As<Napi::String>().Utf8Value() : "";
  const char* found = t == "float32" ? "float32" : t == "int32" ? "int32" : nullptr;
  if (!found || (dtype && std::strcmp(found, dtype) != 0))
    throw Error(Code::DType, std::string("Expected a ") + (dtype ? dtype : "float32 or int32") + " array for " + name +
                                 " but received a " + (t.empty() ? "device array of no dtype" : t + " device array"));
  if (b->freed) throw Error(Code::Disposed, std::string("Expected live GPU memory for ") + name + " but it was freed");
  return DeviceView{b, static_cast<uint8_t*>(b->ptr) + int64_t(off) * 4, static_cast<size_t>(len), found};
}

void register_device(Napi::Env env, Napi::Object exports) {
  export_fn<status_js>(env, exports, "cudaStatus");
  export_fn<alloc_js>(env, exports, "deviceAlloc");
  export_fn<free_js>(env, exports, "deviceFree");
  export_fn<upload_js>(env, exports, "deviceUpload");
  export_fn<download_js>(env, exports, "deviceDownload");
  export_fn<copy_js>(env, exports, "deviceCopy");
  export_fn<memory_js>(env, exports, "deviceMemory");
  export_fn<empty_cache_js>(env, exports, "deviceEmptyCache");
  export_fn<synchronize_js>(env, exports, "deviceSynchronize");
  export_fn<set_tf32_js>(env, exports, "setTf32");
  export_fn<binary_js>(env, exports, "binaryForward");
  export_fn<reduce_js>(env, exports, "reduceSum");
  export_fn<scale_js>(env, exports, "scaleForward");
  export_fn<fill_js>(env, exports, "fillForward");
  export_fn<sum_squares_js>(env, exports, "sumSquares");
}

}  // namespace nf::napi
