// The geometry of the row kernels (softmax, LayerNorm, cross-entropy): a row of C ≤ kWarpCols gets one
// warp (kWarpBlock threads: 8 rows per block), so its reductions are warp shuffles with no barrier; a
// longer row gets a kRowBlock-thread block and block_sum / block_max. Groups loop over rows (grid-stride).
#pragma once

#include "common.cuh"

namespace nf::cuda {

constexpr int64_t kWarpCols = 1024;  // rows up to this long get one warp each
constexpr int kWarpBlock = 256;      // 8 warps: 8 rows per block
constexpr int kRowBlock = 512;       // threads on one longer row

// Which rows a group (one warp, or the whole block) owns, and which elements of a row its thread takes.
template <bool kWarp>
struct RowGroup {
  int lane, width;
  int64_t first, stride;
  __device__ RowGroup()
      : lane(kWarp ? int(threadIdx.x & 31) : int(threadIdx.x)),
        width(kWarp ? 32 : int(blockDim.x)),
        first(kWarp ? int64_t(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5) : int64_t(blockIdx.x)),
        stride(kWarp ? int64_t(gridDim.x) * (blockDim.x >> 5) : int64_t(gridDim.x)) {}
};

template <bool kWarp>
__device__ __forceinline__ float group_sum(float v, float* shared) {
  if constexpr (kWarp) return warp_sum(v);
  else return block_sum(v, shared);
}

template <bool kWarp>
__device__ __forceinline__ float group_max(float v, float* shared) {
  if constexpr (kWarp) return warp_max(v);
  else return block_max(v, shared);
}

}  // namespace nf::cuda
