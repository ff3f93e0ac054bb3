// Shared vocabulary of the N-API glue: argument readers that check what protects memory (types, lengths,
// integer ranges) and throw nf::Error, and `guarded`, which turns any C++ exception into a JS error of
// the class registered for its code (lib/errors.ts) — never an abort.
#pragma once

#include <napi.h>

#include <cstdint>
#include <optional>
#include <string>

#include "../errors.h"

namespace nf::napi {

// The largest dimension a binding accepts: products of two stay far inside int64_t.
constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;

struct F32 {
  float* data;
  size_t length;
};

struct I32 {
  const int32_t* data;
  size_t length;
};

// Argument readers; `name` appears in the error message ("Expected a Float32Array for a but received ...").
F32 f32_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
// A Float32Array, or nothing for null (undefined is an error: an argument forgotten, not declined).
std::optional<F32> f32_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name);
I32 i32_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
// An Int32Array of exactly `expected_length` entries, or nullptr for null or undefined.
const int32_t* i32_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name, size_t expected_length);
// A Float64Array, or nullptr/length 0 for null or undefined.
const double* f64_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name, size_t expected_length);
int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max);
// A finite number in [min, max] (max = infinity: no upper bound).
double number_arg(const Napi::CallbackInfo& info, size_t i, const char* name, double min, double max);
bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name);

// Throws Code::Shape unless a buffer named `name` has `expected` elements.
void check_length(size_t length, int64_t expected, const char* name);

// Stores the constructors of lib/errors.ts, keyed by code name (called once from lib/native/binding.ts).
void register_error_classes(const Napi::CallbackInfo& info);

// Throws `e` into JS as an instance of its code's class (a plain Error with .code before registration).
[[noreturn]] void throw_js(Napi::Env env, Code code, const std::string& message);

// Wraps a binding so that nf::Error, std::bad_alloc and any other C++ exception reach JS as typed errors.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw_js(info.Env(), e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw_js(info.Env(), Code::Native, "out of memory");
  } catch (const std::exception& e) {
    throw_js(info.Env(), Code::Native, e.what());
  }
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
void export_fn(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New<guarded<F>>(env, name));
}

}  // namespace nf::napi
