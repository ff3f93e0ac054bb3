// Shared vocabulary of the N-API glue: argument readers that check what protects memory (types, lengths,
// integer ranges) and throw nf::Error, and `guarded`, which turns any C++ exception into a JS error of
// the class registered for its code (lib/errors.ts) — never an abort.
#pragma once

#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "../cuda.h"
#include "../errors.h"
#include "dims.h"

namespace nf::napi {

// A block of GPU memory behind a lib/tensor/device_array.ts DeviceArray (bindings/device.cc).
struct Block {
  void* ptr;
  size_t bytes;
  bool freed;
};

// Where a buffer argument lives: a typed array on the host, or a DeviceArray view of a GPU block.
struct Buffer {
  const char* name;
  const Block* block;  // null for a typed array
};

struct F32 : Buffer {
  float* data;
  size_t length;
};

struct I32 : Buffer {
  const int32_t* data;
  size_t length;
};

struct I8 : Buffer {
  int8_t* data;
  size_t length;
};

// A DeviceArray argument ({ handle, offset, length, dtype }, lib/tensor/device_array.ts), checked: a
// handle made by device.cc, not freed, the dtype asked for, offset + length inside the block. nullopt
// for anything that is not an object with a `handle` (typed arrays, numbers...); `dtype` null accepts
// either dtype. bindings/device.cc.
struct DeviceView {
  const Block* block;
  void* data;         // the block's memory at the view's offset
  size_t length;      // elements
  const char* dtype;  // "float32" or "int32"
};
std::optional<DeviceView> device_view(const Napi::Value& v, const char* name, const char* dtype);

// Argument readers; `name` appears in the error message ("Expected a Float32Array for a but received ...").
// f32_arg and i32_arg also take a DeviceArray of their dtype (a GPU view; see on_gpu).
F32 f32_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
// A Float32Array, or nothing for null (undefined is an error: an argument forgotten, not declined).
std::optional<F32> f32_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name);
I32 i32_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
// An Int8Array (host memory only: int8 weights are a CPU path).
I8 i8_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
// An Int32Array (host memory, never a device array) of exactly `expected_length` entries, or nullptr for
// null or undefined.
const int32_t* i32_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name, size_t expected_length);
// A Float64Array, or nullptr/length 0 for null or undefined.
const double* f64_arg_or_null(const Napi::CallbackInfo& info, size_t i, const char* name, size_t expected_length);
int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min, int64_t max);
// A finite number in [min, max] (max = infinity: no upper bound).
double number_arg(const Napi::CallbackInfo& info, size_t i, const char* name, double min, double max);
bool bool_arg(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name);

// The CUDA kernels when every given buffer (null entries are skipped) is a GPU view, null when all are
// host arrays. Mixed devices, `naive` on GPU views, or a view whose memory was freed while the arguments
// were read (by a getter) are errors. Call it after reading every argument, right before the kernel.
const cuda::Api* on_gpu(std::initializer_list<const Buffer*> buffers, bool naive = false);

// Dimension lists (shapes, strides: plain arrays of non-negative safe integers).
// Reads an array of at most cpu::kMaxCopyRank such integers at info[i] into out; returns its length.
int dims_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* out);

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
