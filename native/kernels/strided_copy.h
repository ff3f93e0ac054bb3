// Strided copy, float32: the memory movement behind permute / transpose and the split and merge of
// attention heads.
//
//   strided_copy   for every index i = (i_0 .. i_{rank-1}) of shape:
//                    dst[Σ_k i_k·dst_strides[k]] = src[Σ_k i_k·src_strides[k]]
//
// dst and src point at the element of index (0, …, 0); strides are in elements and ≥ 0. src strides may
// repeat elements (a broadcast read); dst strides must write each element once and dst must not overlap
// src. The bindings check all of that and the bounds before a kernel runs (kernels do not re-check), so
// a copy has one result whatever the order of its element writes: the fast version, the reference and
// any thread count give the same bits.
//
// Not ISA-specific: the fast version moves memory (std::memcpy for runs contiguous on both sides), so it
// is written once in portable C++ and needs no dispatch-table entry.
#pragma once

#include <cstdint>

namespace nf::cpu {

constexpr int kMaxCopyRank = 6;

struct StridedCopyArgs {
  int rank;                                // 0 .. kMaxCopyRank; rank 0 copies one element
  int64_t shape[kMaxCopyRank];             // [rank], outermost first; a 0 anywhere copies nothing
  int64_t dst_strides[kMaxCopyRank];       // [rank], elements
  int64_t src_strides[kMaxCopyRank];       // [rank], elements
  float* dst;                              // the element of index (0, …, 0)
  const float* src;
};

// An index space over two strided operands (a copy's dst and src, or a binary op's a and b: strides[0] and
// strides[1]) with the dims of size 1 dropped and neighbours contiguous in both operands merged into one
// (rank 0: a single element). The CPU copy and the CUDA copy and element-wise kernels walk this form.
struct MergedDims {
  int rank = 0;
  int64_t shape[kMaxCopyRank];
  int64_t strides[2][kMaxCopyRank];
};
MergedDims merge_dims(int rank, const int64_t* shape, const int64_t* strides0, const int64_t* strides1);

// Size-1 dims dropped, dims contiguous on both sides merged, the innermost run copied by memcpy when
// both inner strides are 1; large copies split into fixed chunks of elements over the thread pool.
void strided_copy(const StridedCopyArgs& a);

// The naive variant: one element at a time, in index order, one thread.
namespace ref {
void strided_copy(const StridedCopyArgs& a);
}  // namespace ref

}  // namespace nf::cpu
