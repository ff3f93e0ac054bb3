#include "common.h"

#include <cmath>
#include <map>

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
  if (!v.IsTypedArray()) expected(info, i, "a Float32Array", name);
  if (v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Error(Code::DType, std::string("Expected a Float32Array for ") + name + " but received " + describe(v));
  auto arr = v.As<Napi::Float32Array>();
  // A detached buffer reports length 0 and a null pointer; callers then fail their length checks.
  return F32{arr.ElementLength() ? arr.Data() : nullptr, arr.ElementLength()};
}

F32 f32_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return info[i].IsNull() ? F32{nullptr, 0} : f32_arg(info, i, name);
}

I32 i32_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray()) expected(info, i, "an Int32Array", name);
  if (v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Error(Code::DType, std::string("Expected an Int32Array for ") + name + " but received " + describe(v));
  auto arr = v.As<Napi::Int32Array>();
  return I32{arr.ElementLength() ? arr.Data() : nullptr, arr.ElementLength()};
}

void check_length(size_t length, int64_t expected, const char* name) {
  if (static_cast<int64_t>(length) != expected)
    throw Error(Code::Shape, std::string("Expected ") + std::to_string(expected) + " elements in " + name +
                                 " but received " + std::to_string(length));
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
  if (!(d >= min && d <= max))
    throw Error(Code::InvalidArgument, std::string("Expected a number in [") + std::to_string(min) + ", " +
                                           std::to_string(max) + "] for " + name + " but received " +
                                           v.ToString().Utf8Value());
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
