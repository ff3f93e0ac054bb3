// What every kernel file in cuda/ shares: the process's stream, error checks that throw nf::Error (never
// abort), scratch memory from the caching allocator, and warp/block reductions.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "../native/errors.h"
#include "../native/kernels/strided_copy.h"

namespace nf::cuda {

// The one stream every kernel and copy goes to (created on first use by runtime.cu).
cudaStream_t stream();

// Whether GEMM and attention may use TF32 tensor cores (Api::set_tf32; default true).
bool tf32_enabled();

// Streaming multiprocessors of the current device (for grids sized to fill the GPU).
int sm_count();

// Caching allocator (runtime.cu): the same functions as Api::alloc / Api::free.
void* device_alloc(size_t bytes);
void device_free(void* p);

// Throws nf::Error(Code::Native, "CUDA error in <what>: <name>: <text>") for anything but cudaSuccess,
// after clearing the sticky last-error state.
void check(cudaError_t status, const char* what);

// After a kernel launch: reports a bad launch configuration (or an earlier asynchronous error).
inline void check_launch(const char* kernel) { check(cudaGetLastError(), kernel); }

// Temporary device memory for one launcher call, returned to the cache at scope exit. Safe to reuse
// right away because every kernel runs on stream() in order.
class Scratch {
 public:
  explicit Scratch(size_t bytes) : p_(bytes ? device_alloc(bytes) : nullptr) {}
  ~Scratch() {
    try {
      device_free(p_);
    } catch (...) {  // a destructor must not throw; the block is lost to the cache, not corrupted
    }
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T>
  T* as() const { return static_cast<T*>(p_); }

 private:
  void* p_;
};

__host__ __device__ constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Grid size for a grid-stride loop over n elements: enough blocks to fill the GPU a few times over.
inline unsigned grid_for(int64_t n, int threads) {
  const int64_t want = ceil_div(n, threads), cap = int64_t(sm_count()) * 8;
  return unsigned(want < 1 ? 1 : want < cap ? want : cap);
}

// The offsets in both operands of index `flat` (row-major) over dims [0, dims) of l.
__device__ __forceinline__ void offsets(const cpu::MergedDims& l, int dims, int64_t flat, int64_t& o0, int64_t& o1) {
  o0 = 0;
  o1 = 0;
  for (int k = dims - 1; k >= 0; --k) {
    const int64_t q = flat / l.shape[k], i = flat - q * l.shape[k];
    o0 += i * l.strides[0][k];
    o1 += i * l.strides[1][k];
    flat = q;
  }
}

// The sum over a full warp (float or double), returned to every lane.
template <typename T>
__device__ __forceinline__ T warp_sum(T x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
  return x;
}

__device__ __forceinline__ float warp_max(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
  return x;
}

// The sum over a block of blockDim.x threads (a multiple of 32, ≤ 1024), returned to every thread.
// `shared` holds 32 values; the call begins with __syncthreads, so calls may follow one another.
template <typename T>
__device__ __forceinline__ T block_sum(T x, T* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  x = warp_sum(x);
  __syncthreads();
  if (lane == 0) shared[warp] = x;
  __syncthreads();
  T total = lane < warps ? shared[lane] : T(0);
  return warp_sum(total);
}

__device__ __forceinline__ float block_max(float x, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  x = warp_max(x);
  __syncthreads();
  if (lane == 0) shared[warp] = x;
  __syncthreads();
  float m = lane < warps ? shared[lane] : -INFINITY;
  return warp_max(m);
}

}  // namespace nf::cuda
