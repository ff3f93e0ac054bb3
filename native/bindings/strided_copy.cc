// N-API glue for the strided copy (kernels/strided_copy.h).
//
//   stridedCopy(dst, src, shape, dstStrides, srcStrides, dstOffset, srcOffset)
//     for every index i of shape: dst[dstOffset + Σ i_k·dstStrides_k] = src[srcOffset + Σ i_k·srcStrides_k]
// shape and the strides are plain arrays of one length (the rank, ≤ 6) of non-negative safe integers.
// What protects memory is checked here, with dims.h: every element reached lies inside its buffer
// (computed in 128 bits, so no sum can wrap), dst's strides write each element once (so no order of
// writes, thread count included, can change the result), and dst does not share memory with src. An
// empty shape (a 0 dim) reaches nothing and copies nothing. stridedCopyNaive runs the reference loop.
#include <napi.h>

#include <algorithm>
#include <cstdint>

#include "../kernels/strided_copy.h"
#include "common.h"

namespace nf::napi {
namespace {

using cpu::StridedCopyArgs;

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
  const int64_t dst_offset = int_arg(info, 5, "dstOffset", 0, kMaxSafeInteger);
  const int64_t src_offset = int_arg(info, 6, "srcOffset", 0, kMaxSafeInteger);
  const F32 dst = f32_arg(info, 0, "dst"), src = f32_arg(info, 1, "src");
  // Two views share memory exactly when their byte ranges intersect (distinct ArrayBuffers, or GPU blocks,
  // never do).
  const auto begin = [](const F32& f) { return reinterpret_cast<uintptr_t>(f.data); };
  if (dst.length && src.length && begin(dst) < begin(src) + src.length * sizeof(float) &&
      begin(src) < begin(dst) + dst.length * sizeof(float))
    throw Error(Code::InvalidArgument, "Expected dst and src that do not share memory but received views whose "
                                       "byte ranges overlap in one ArrayBuffer");
  if (std::find(a.shape, a.shape + a.rank, 0) != a.shape + a.rank) return info.Env().Undefined();
  check_reach(a.shape, a.rank, a.dst_strides, dst_offset, dst.length, "dst");
  check_reach(a.shape, a.rank, a.src_strides, src_offset, src.length, "src");
  check_written_once(a);
  a.dst = dst.data + dst_offset;
  a.src = src.data + src_offset;
  if (const cuda::Api* gpu = on_gpu({&dst, &src}, Naive)) gpu->strided_copy(a);
  else (Naive ? cpu::ref::strided_copy : cpu::strided_copy)(a);
  return info.Env().Undefined();
}

}  // namespace

void register_strided_copy(Napi::Env env, Napi::Object exports) {
  export_fn<strided_copy<false>>(env, exports, "stridedCopy");
  export_fn<strided_copy<true>>(env, exports, "stridedCopyNaive");
}

}  // namespace nf::napi
