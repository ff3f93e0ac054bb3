#include "common.h"

#include <cmath>
#include <map>
#include <sstream>

namespace nf::napi {
namespace {

// Per-environment (per worker thread) store of the error classes.
struct ErrorClasses {
  std::map<std::string, Napi::FunctionReference> by_code;
};

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return "a boolean";
  if (v.IsNumber()) return "the number " + v.ToString().Utf8Value();
  if (v.IsString()) return "a string";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_float32_array: return "a Float32Array";
      case napi_float64_array: return "a Float64Array";
      case napi_int32_array: return "an Int32Array";
      case napi_uint8_array: return "a Uint8Array";
      default: return "another typed array";
    }
  }
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  return "an object";
}

[[noreturn]] void expected(const Napi::CallbackInfo& info, size_t i, const char* what, const char* name) {
  throw Error(Code::InvalidArgument,
              std::string("Expected ") + what + " for " + name + " but received " + describe(info[i]));
}

}  // namespace

F32 f32_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (const std::optional<DeviceView> d = device_view(v, name, "float32")) {
    return F32{{name, d->block}, static_cast<float*>(d->data), d->length};
  }
  if (!v.IsTypedArray()) expected(info, i, "a Float32Array", name);
  if (v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Error(Code::DType, std::string("Expected a Float32Array for ") + name + " but received " + describe(v));
  auto arr = v.As<Napi::Float32Array>();
  // A detached buffer reports length 0 and a null pointer; callers then fail their length checks.
  return F32{{name, nullptr}, arr.ElementLength() ? arr.Data() : nullptr, arr.ElementLength()};
}

std::optional<F32> f32_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info[i].IsNull()) return std::nullopt;
  if (!info[i].IsTypedArray()) expected(info, i, "a Float32Array or null", name);
  return f32_arg(info, i, name);
}

I32 i32_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (const std::optional<DeviceView> d = device_view(v, name, "int32")) {
    return I32{{name, d->block}, static_cast<const int32_t*>(d->data), d->length};
  }
  if (!v.IsTypedArray()) expected(info, i, "an Int32Array", name);
  if (v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Error(Code::DType, std::string("Expected an Int32Array for ") + name + " but received " + describe(v));
  auto arr = v.As<Napi::Int32Array>();
  return I32{{name, nullptr}, arr.ElementLength() ? arr.Data() : nullptr, arr.ElementLength()};
}

I8 i8_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray()) expected(info, i, "an Int8Array", name);
  if (v.As<Napi::TypedArray>().TypedArrayType() != napi_int8_array)
    throw Error(Code::DType, std::string("Expected an Int8Array for ") + name + " but received " + describe(v));
  auto arr = v.As<Napi::Int8Array>();
  return I8{{name, nullptr}, arr.ElementLength() ? arr.Data() : nullptr, arr.ElementLength()};
}

const double* f64_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name, size_t expected_length) {
  const Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    expected(info, i, "a Float64Array or null", name);
  auto arr = v.As<Napi::Float64Array>();
  if (arr.ElementLength() != expected_length)
    throw Error(Code::Shape, std::string("Expected ") + std::to_string(expected_length) + " entries in " + name +
                                 " but received " + std::to_string(arr.ElementLength()));
  return arr.Data();
}

const int32_t* i32_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name, size_t expected_length) {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  const I32 arr = i32_arg(info, i, name);
  if (arr.block)  // read on the host by the binding, so it must live there
    throw Error(Code::Device, std::string("Expected an Int32Array (host memory) for ") + name +
                                  " but received a cuda device array");
  if (arr.length != expected_length)
    throw Error(Code::Shape, std::string("Expected ") + std::to_string(expected_length) + " entries in " + name +
                                 " but received " + std::to_string(arr.length));
  return arr.data;
}

int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max) {
  const Napi::Value v = info[i];
  if (!v.IsNumber()) expected(info, i, "an integer", name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d)) || d < double(min) || d > double(max))
    throw Error(Code::InvalidArgument, std::string("Expected an integer in [") + std::to_string(min) + ", " +
                                           std::to_string(max) + "] for " + name + " but received " +
                                           v.ToString().Utf8Value());
  return static_cast<int64_t>(d);
}

double number_arg(const Napi::CallbackInfo& info, size_t i, const char* name, double min, double max) {
  const Napi::Value v = info[i];
  if (!v.IsNumber()) expected(info, i, "a number", name);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(std::isfinite(d) && d >= min && d <= max)) {  // NaN fails this too
    std::ostringstream msg;
    msg << "Expected a finite number ";
    if (std::isinf(max)) msg << "≥ " << min;
    else msg << "in [" << min << ", " << max << "]";
    msg << " for " << name << " but received " << v.ToString().Utf8Value();
    throw Error(Code::InvalidArgument, msg.str());
  }
  return d;
}

bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBoolean()) expected(info, i, "a boolean", name);
  return info[i].As<Napi::Boolean>().Value();
}

std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) expected(info, i, "a string", name);
  return info[i].As<Napi::String>().Utf8Value();
}

const cuda::Api* on_gpu(std::initializer_list<const Buffer*> buffers, bool naive) {
  const Buffer* first = nullptr;
  for (const Buffer* b : buffers) {
    if (!b) continue;
    if (b->block && b->block->freed)
      throw Error(Code::Disposed, std::string("Expected live GPU memory for ") + b->name +
                                      " but it was freed while the arguments were read");
    if (!first) first = b;
    else if ((b->block != nullptr) != (first->block != nullptr))
      throw Error(Code::Device, std::string("Expected every buffer on one device but ") + first->name + " is on " +
                                    (first->block ? "cuda" : "the cpu") + " and " + b->name + " on " +
                                    (b->block ? "cuda" : "the cpu"));
  }
  if (!first || !first->block) return nullptr;
  if (naive)
    throw Error(Code::Device, std::string("Expected cpu buffers for a naive kernel (the reference loops run on the "
                                          "CPU only) but ") + first->name + " is on cuda");
  return cuda::api();  // not null: a GPU view exists only when the CUDA code does (device.cc)
}

namespace {
// A value for an error message, without calling into JS (ToString on a symbol or a proxy could throw).
std::string what(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_number: return "the number " + v.ToString().Utf8Value();
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_string: return "a string";
    default: return v.IsArray() ? "an array" : v.IsTypedArray() ? "a typed array" : "an object";
  }
}
}  // namespace

int dims_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* out) {
  const Napi::Value v = info[i];
  if (!v.IsArray())
    throw Error(Code::InvalidArgument, std::string("Expected an array of non-negative integers for ") + name +
                                           " but received " + what(v));
  const Napi::Array arr = v.As<Napi::Array>();
  const uint32_t n = arr.Length();
  if (n > cpu::kMaxCopyRank)
    throw Error(Code::Shape, std::string("Expected at most ") + std::to_string(cpu::kMaxCopyRank) + " entries in " +
                                 name + " but received " + std::to_string(n));
  for (uint32_t k = 0; k < n; ++k) {
    const Napi::Value e = arr.Get(k);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= double(kMaxSafeInteger) && d == double(int64_t(d))))
      throw Error(Code::InvalidArgument, std::string("Expected a non-negative integer for ") + name + "[" +
                                             std::to_string(k) + "] but received " + what(e));
    out[k] = static_cast<int64_t>(d);
  }
  return static_cast<int>(n);
}





void register_error_classes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) expected(info, 0, "an object of error classes", "classes");
  const Napi::Object classes = info[0].As<Napi::Object>();
  // Check every entry before replacing any, so a bad call leaves the registered classes as they were.
  for (Code c : kAllCodes)
    if (!classes.Get(code_name(c)).IsFunction())
      throw Error(Code::InvalidArgument, std::string("No error class given for ") + code_name(c));
  auto* store = env.GetInstanceData<ErrorClasses>();
  if (!store) {
    store = new ErrorClasses();
    env.SetInstanceData(store);  // deleted by node-addon-api when the environment is torn down
  }
  for (Code c : kAllCodes) store->by_code[code_name(c)] = Napi::Persistent(classes.Get(code_name(c)).As<Napi::Function>());
}

void throw_js(Napi::Env env, Code code, const std::string& message) {
  auto* store = env.GetInstanceData<ErrorClasses>();
  if (store) {
    auto it = store->by_code.find(code_name(code));
    if (it != store->by_code.end()) {
      Napi::Object err = it->second.New({Napi::String::New(env, message)});
      throw Napi::Error(env, err);
    }
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code_name(code)));
  throw err;
}

}  // namespace nf::napi
