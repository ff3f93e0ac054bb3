// Strided copy on the GPU, float32: the memory movement behind permute / transpose, expand and the split
// and merge of attention heads. The maths is native/kernels/strided_copy.h (reference: strided_copy_ref.cc):
//
//   for every index i = (i_0 .. i_{rank-1}) of shape (rank ≤ 6):
//     dst[Σ_k i_k·dst_strides[k]] = src[Σ_k i_k·src_strides[k]]
//
// Strides are in elements and ≥ 0 (a src stride of 0 repeats an element); dst is written once per element
// and does not overlap src (the bindings check both), so any order of writes gives the same result.
// Nothing is saved for backward.
//
// The layout is first simplified on the host as the CPU's fast version does: size-1 dims dropped, and a
// dim merged into its inner neighbour when its strides are that neighbour's times its size on both sides
// (a permute of [B, L, H, D] into [B, H, L, D] becomes D-long runs; a contiguous copy one run). Then:
//   - one run contiguous on both sides (or a single element): cudaMemcpyAsync;
//   - inner dim ≥ 32: the elements are rows of the inner dim, cut into segments of 256; one warp per
//     segment (8 per 256-thread block, grid-stride over segments) finds the row's two offsets with one
//     index decomposition (64-bit) and then moves 8 elements per lane, lanes on adjacent elements, so
//     contiguous inner dims are coalesced on both sides (a separate instantiation drops the inner
//     multiplies);
//   - inner dim < 32: one element per thread, each offset decomposed from its flat index (64-bit).
// No shared-memory tiling: a transpose whose inner strides differ on the two sides reads or writes
// uncoalesced (correct, but at a fraction of the bandwidth).
#include "common.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

using cpu::kMaxCopyRank;

constexpr int kThreads = 256, kWarps = kThreads / 32;
constexpr int kPerLane = 8;
constexpr int64_t kSegment = 32 * kPerLane;  // elements of a row per warp

// One warp per segment of kSegment elements of a row of the inner dim; kContig: inner strides both 1.
template <bool kContig>
__global__ void copy_segments(const cpu::MergedDims l, float* dst, const float* src, int64_t segments_per_row,
                              int64_t segments) {
  const int inner = l.rank - 1, lane = threadIdx.x & 31;
  const int64_t n_in = l.shape[inner], ds = l.strides[0][inner], ss = l.strides[1][inner];
  const int64_t stride = int64_t(gridDim.x) * kWarps;
  for (int64_t w = int64_t(blockIdx.x) * kWarps + (threadIdx.x >> 5); w < segments; w += stride) {
    const int64_t row = w / segments_per_row, begin = (w - row * segments_per_row) * kSegment;
    const int64_t end = begin + kSegment < n_in ? begin + kSegment : n_in;
    int64_t d, s;
    offsets(l, inner, row, d, s);
    float v[kPerLane];
#pragma unroll
    for (int u = 0; u < kPerLane; ++u) {  // all loads first, so each lane has 8 in flight
      const int64_t j = begin + lane + 32 * u;
      v[u] = j < end ? src[s + (kContig ? j : j * ss)] : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < kPerLane; ++u) {
      const int64_t j = begin + lane + 32 * u;
      if (j < end) dst[d + (kContig ? j : j * ds)] = v[u];
    }
  }
}

__global__ void copy_elements(const cpu::MergedDims l, float* dst, const float* src, int64_t total) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t d, s;
    offsets(l, l.rank, e, d, s);
    dst[d] = src[s];
  }
}

}  // namespace

void strided_copy(const cpu::StridedCopyArgs& a) {
  for (int k = 0; k < a.rank; ++k)
    if (a.shape[k] == 0) return;  // before multiplying: the other dims of an empty copy may be huge
  const cpu::MergedDims l = cpu::merge_dims(a.rank, a.shape, a.dst_strides, a.src_strides);
  if (l.rank == 0) {
    check(cudaMemcpyAsync(a.dst, a.src, sizeof(float), cudaMemcpyDeviceToDevice, stream()), "strided_copy");
    return;
  }
  int64_t total = 1;
  for (int k = 0; k < l.rank; ++k) total *= l.shape[k];
  const int inner = l.rank - 1;
  const int64_t n_in = l.shape[inner];
  const bool contig = l.strides[0][inner] == 1 && l.strides[1][inner] == 1;
  if (l.rank == 1 && contig) {
    check(cudaMemcpyAsync(a.dst, a.src, size_t(total) * sizeof(float), cudaMemcpyDeviceToDevice, stream()),
          "strided_copy");
    return;
  }
  if (n_in >= 32) {
    const int64_t per_row = ceil_div(n_in, kSegment), segments = total / n_in * per_row;
    const unsigned grid = grid_for(segments, kWarps);
    if (contig) copy_segments<true><<<grid, kThreads, 0, stream()>>>(l, a.dst, a.src, per_row, segments);
    else copy_segments<false><<<grid, kThreads, 0, stream()>>>(l, a.dst, a.src, per_row, segments);
  } else {
    copy_elements<<<grid_for(total, kThreads), kThreads, 0, stream()>>>(l, a.dst, a.src, total);
  }
  check_launch("strided_copy");
}

}  // namespace nf::cuda
