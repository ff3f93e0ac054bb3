// The runtime half of the CUDA backend (host code only): finding and preparing the GPU (status), the one
// stream every kernel and copy goes to, host↔device copies, the CUDA side of the caching allocator, the
// TF32 switch, and check(), which turns CUDA errors into nf::Error. native/cuda.h documents the contract.
//
// The GPU is prepared once per process, by whichever thread first needs it: Node worker threads share the
// process and so this state. The device is always device 0, which is also the current device of every
// host thread that never calls cudaSetDevice, so launches from any thread (main, workers, libuv's pool)
// reach the same context without per-thread setup. Without a usable GPU every function that needs one
// throws nf::Error(Code::Device) with the reason status() reports; memory_stats and empty_cache still
// work (there is nothing to count or free).
//
// @example
//   const Status s = status();        // {available, reason, devices}
//   void* d = device_alloc(n * 4);    // throws Code::Device when !s.available
//   to_device(d, host, n * 4);        // host may be reused as soon as this returns
//   to_host(host, d, n * 4);          // waits for every queued kernel
//   device_free(d);
#include <atomic>
#include <cstdio>
#include <string>
#include <utility>

#include "caching_allocator.h"
#include "common.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

// The kernels are built for sm_80 and newer (CMAKE_CUDA_ARCHITECTURES), so older GPUs are refused.
constexpr int kMinComputeMajor = 8;

struct Device {
  Status status{false, "", {}};
  cudaStream_t stream = nullptr;
  int sm_count = 0;
};

std::string error_text(cudaError_t e) { return std::string(cudaGetErrorString(e)) + " (" + cudaGetErrorName(e) + ")"; }

std::string sm_name(const cudaDeviceProp& p) { return "sm_" + std::to_string(p.major) + std::to_string(p.minor); }

// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)"
std::string describe(const cudaDeviceProp& p) {
  char gib[32];
  std::snprintf(gib, sizeof gib, "%.1f GiB", double(p.totalGlobalMem) / double(size_t(1) << 30));
  return std::string(p.name) + " (" + sm_name(p) + ", " + gib + ")";
}

Device unavailable(Device d, std::string reason) {
  cudaGetLastError();  // a failed query leaves its error behind; the next unrelated check must not see it
  d.status.available = false;
  d.status.reason = std::move(reason);
  return d;
}

// Lists the devices and prepares device 0. Never throws for a CUDA failure: it becomes the reason.
Device init() {
  Device d;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  // No driver, a driver older than the runtime, no device node...: any error means no usable GPU.
  if (e != cudaSuccess) return unavailable(std::move(d), error_text(e));
  if (count == 0) return unavailable(std::move(d), "no CUDA device found");

  cudaDeviceProp first{};
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    e = cudaGetDeviceProperties(&p, i);
    if (e != cudaSuccess) {
      return unavailable(std::move(d), "cannot query device " + std::to_string(i) + ": " + error_text(e));
    }
    if (i == 0) first = p;
    d.status.devices.push_back(describe(p));
  }
  if (first.major < kMinComputeMajor) {
    return unavailable(std::move(d), "CUDA device 0, " + std::string(first.name) + ", is " + sm_name(first) +
                                         ", but nodeformer's CUDA kernels need sm_80 or newer"
                                         " (CUDA_VISIBLE_DEVICES can select another GPU)");
  }

  e = cudaSetDevice(0);
  // Non-blocking: never serialised with the legacy default stream, which other libraries may use.
  if (e == cudaSuccess) e = cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking);
  if (e != cudaSuccess) return unavailable(std::move(d), "cannot initialise device 0: " + error_text(e));
  d.sm_count = first.multiProcessorCount;
  d.status.available = true;
  cudaGetLastError();
  return d;
}

// Thread-safe once-only initialisation (a function-local static).
const Device& device() {
  static const Device d = init();
  return d;
}

const Device& ensure_available() {
  const Device& d = device();
  if (!d.status.available) throw Error(Code::Device, "CUDA is not available: " + d.status.reason);
  return d;
}

std::atomic<bool> g_tf32{true};

// The caching allocator's raw functions.
void* raw_alloc(size_t bytes) {
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    return nullptr;  // the allocator frees its cache and retries, then reports the sizes
  }
  check(e, "cudaMalloc");
  return p;
}

void raw_free(void* p) { check(cudaFree(p), "cudaFree"); }

// Cached blocks may still be read by queued kernels; cudaFree would wait anyway, this makes it explicit.
void wait_for_stream() { check(cudaStreamSynchronize(device().stream), "cudaStreamSynchronize"); }

CachingAllocator& allocator() {
  // Never destroyed: another thread may still free a block while static destructors run at exit, and the
  // driver reclaims the device memory then.
  static CachingAllocator& a = *new CachingAllocator({raw_alloc, raw_free, wait_for_stream});
  return a;
}

}  // namespace

// ---- common.cuh ----

cudaStream_t stream() { return ensure_available().stream; }

bool tf32_enabled() { return g_tf32.load(std::memory_order_relaxed); }

int sm_count() { return ensure_available().sm_count; }

void* device_alloc(size_t bytes) {
  ensure_available();
  return allocator().allocate(bytes);
}

void device_free(void* p) {
  if (p) allocator().deallocate(p);  // no CUDA call: safe in destructors (Scratch), throws only for foreign pointers
}

void check(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  cudaGetLastError();  // clear the last-error state so the next check does not report this again
  const std::string where = std::string("CUDA error in ") + what + ": ";
  if (status == cudaErrorMemoryAllocation) throw Error(Code::Native, where + "cudaErrorMemoryAllocation: out of GPU memory");
  throw Error(Code::Native, where + cudaGetErrorName(status) + ": " + cudaGetErrorString(status));
}

// ---- kernels.h (the runtime entries of the Api table) ----

Status status() { return device().status; }

void to_device(void* dst, const void* host_src, size_t bytes) {
  const cudaStream_t s = stream();
  if (bytes == 0) return;
  // host_src is pageable (a JS typed array). For pageable memory the runtime copies the source into a
  // staging buffer before cudaMemcpyAsync returns ("API synchronization behavior" in the CUDA runtime
  // docs), so the caller may free or overwrite it at once; only the DMA to dst is still queued.
  check(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, s), "to_device");
}

void to_host(void* host_dst, const void* src, size_t bytes) {
  const cudaStream_t s = stream();
  if (bytes == 0) return;
  check(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, s), "to_host");
  check(cudaStreamSynchronize(s), "to_host");  // host_dst is complete only now
}

void copy(void* dst, const void* src, size_t bytes) {
  const cudaStream_t s = stream();
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s), "copy");
}

void zero(void* dst, size_t bytes) {
  const cudaStream_t s = stream();
  if (bytes == 0) return;
  check(cudaMemsetAsync(dst, 0, bytes, s), "zero");
}

void synchronize() { check(cudaStreamSynchronize(stream()), "synchronize"); }

void empty_cache() { allocator().release_cached(); }

MemoryStats memory_stats() {
  const CachingAllocator::Stats s = allocator().stats();
  return {s.allocated, s.cached, s.peak};
}

void set_tf32(bool enabled) { g_tf32.store(enabled, std::memory_order_relaxed); }

}  // namespace nf::cuda
