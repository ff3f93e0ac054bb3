// N-API glue for the strided copy (kernels/strided_copy.h).
//
//   stridedCopy(dst, src, shape, dstStrides, srcStrides, dstOffset, srcOffset)
//     for every index i of shape: dst[dstOffset + Σ i_k·dstStrides_k] = src[srcOffset + Σ i_k·srcStrides_k]
// shape and the strides are plain arrays of one length (the rank, ≤ 6) of non-negative safe integers.
// What protects memory is checked here: every element reached lies inside its buffer (computed in 128
// bits, so no sum can wrap), dst's strides write each element once (so no order of writes, thread count
// included, can change the result), and dst does not share memory with src. An empty shape (a 0 dim)
// reaches nothing and copies nothing. stridedCopyNaive runs the reference loop.
#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "../kernels/strided_copy.h"
#include "common.h"

namespace nf::napi {
namespace {

using cpu::kMaxCopyRank;
using cpu::StridedCopyArgs;

constexpr int64_t kMaxSafe = (int64_t(1) << 53) - 1;

std::string join(const int64_t* v, int n) {
  std::string s = "[";
  for (int k = 0; k < n; ++k) s += (k ? ", " : "") + std::to_string(v[k]);
  return s + "]";
}

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

// A plain array of at most kMaxCopyRank non-negative safe integers into out; returns its length.
int dims_arg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* out) {
  const Napi::Value v = info[i];
  if (!v.IsArray())
    throw Error(Code::InvalidArgument, std::string("Expected an array of non-negative integers for ") + name +
                                           " but received " + what(v));
  const Napi::Array arr = v.As<Napi::Array>();
  const uint32_t n = arr.Length();
  if (n > kMaxCopyRank)
    throw Error(Code::Shape, std::string("Expected at most ") + std::to_string(kMaxCopyRank) + " entries in " + name +
                                 " but received " + std::to_string(n));
  for (uint32_t k = 0; k < n; ++k) {
    const Napi::Value e = arr.Get(k);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0 && d <= double(kMaxSafe) && d == double(int64_t(d))))
      throw Error(Code::InvalidArgument, std::string("Expected a non-negative integer for ") + name + "[" +
                                             std::to_string(k) + "] but received " + what(e));
    out[k] = static_cast<int64_t>(d);
  }
  return static_cast<int>(n);
}

// Throws OutOfRange unless offset + Σ (shape_k − 1)·strides_k < length (shape without a 0).
void check_reach(const StridedCopyArgs& a, const int64_t* strides, int64_t offset, size_t length, const char* name) {
  __int128 last = offset;
  for (int k = 0; k < a.rank; ++k) last += static_cast<__int128>(a.shape[k] - 1) * strides[k];
  if (last >= static_cast<__int128>(length)) {
    const std::string reach = last > kMaxSafe ? "beyond 2^53" : std::to_string(static_cast<int64_t>(last));
    throw Error(Code::OutOfRange, std::string("Expected every element reached in ") + name + " to lie below its length " +
                                      std::to_string(length) + " but shape " + join(a.shape, a.rank) + " with " +
                                      name + "Strides " + join(strides, a.rank) + " from " + name + "Offset " +
                                      std::to_string(offset) + " reaches element " + reach);
  }
}

// Throws InvalidArgument unless dst's strides write each element once. Sufficient test: with the dims of
// size > 1 sorted by stride, each stride exceeds the largest offset the smaller-stride dims reach (two
// indices that differ first, from the top, in dim k then land ≥ stride_k − that reach > 0 apart).
void check_written_once(const StridedCopyArgs& a) {
  int order[kMaxCopyRank], n = 0;
  for (int k = 0; k < a.rank; ++k) {  // insertion by stride (at most 6 dims; std::sort trips -Warray-bounds)
    if (a.shape[k] <= 1) continue;
    int j = n++;
    for (; j > 0 && a.dst_strides[order[j - 1]] > a.dst_strides[k]; --j) order[j] = order[j - 1];
    order[j] = k;
  }
  __int128 reach = 0;
  for (int j = 0; j < n; ++j) {
    const int k = order[j];
    if (static_cast<__int128>(a.dst_strides[k]) <= reach)
      throw Error(Code::InvalidArgument,
                  "Expected dstStrides that write each element of dst once but received " + join(a.dst_strides, a.rank) +
                      " for shape " + join(a.shape, a.rank));
    reach += static_cast<__int128>(a.shape[k] - 1) * a.dst_strides[k];
  }
}

template <bool Naive>
Napi::Value strided_copy(const Napi::CallbackInfo& info) {
  // The arrays first: reading them can run JS (getters), which could detach a buffer already borrowed.
  StridedCopyArgs a{};
  a.rank = dims_arg(info, 2, "shape", a.shape);
  const int dst_rank = dims_arg(info, 3, "dstStrides", a.dst_strides);
  const int src_rank = dims_arg(info, 4, "srcStrides", a.src_strides);
  if (dst_rank != a.rank || src_rank != a.rank)
    throw Error(Code::Shape, "Expected dstStrides and srcStrides of the rank " + std::to_string(a.rank) +
                                 " of shape but received " + std::to_string(dst_rank) + " and " +
                                 std::to_string(src_rank) + " entries");
  const int64_t dst_offset = int_arg(info, 5, "dstOffset", 0, kMaxSafe);
  const int64_t src_offset = int_arg(info, 6, "srcOffset", 0, kMaxSafe);
  const F32 dst = f32_arg(info, 0, "dst"), src = f32_arg(info, 1, "src");
  // Two views share memory exactly when their byte ranges intersect (distinct ArrayBuffers never do).
  const auto begin = [](const F32& f) { return reinterpret_cast<uintptr_t>(f.data); };
  if (dst.length && src.length && begin(dst) < begin(src) + src.length * sizeof(float) &&
      begin(src) < begin(dst) + dst.length * sizeof(float))
    throw Error(Code::InvalidArgument, "Expected dst and src that do not share memory but received views whose "
                                       "byte ranges overlap in one ArrayBuffer");
  if (std::find(a.shape, a.shape + a.rank, 0) != a.shape + a.rank) return info.Env().Undefined();
  check_reach(a, a.dst_strides, dst_offset, dst.length, "dst");
  check_reach(a, a.src_strides, src_offset, src.length, "src");
  check_written_once(a);
  a.dst = dst.data + dst_offset;
  a.src = src.data + src_offset;
  (Naive ? cpu::ref::strided_copy : cpu::strided_copy)(a);
  return info.Env().Undefined();
}

}  // namespace

void register_strided_copy(Napi::Env env, Napi::Object exports) {
  export_fn<strided_copy<false>>(env, exports, "stridedCopy");
  export_fn<strided_copy<true>>(env, exports, "stridedCopyNaive");
}

}  // namespace nf::napi
