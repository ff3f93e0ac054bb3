// The bookkeeping of the GPU's caching allocator, in plain C++ with no CUDA dependency: runtime.cu gives
// it cudaMalloc / cudaFree / a stream synchronisation as three raw functions. cudaMalloc and cudaFree are
// slow (cudaFree synchronises the whole device), and a training step frees and allocates the same sizes
// over and over, so freed blocks are kept, keyed by size, and handed out again.
//
// Sizes are rounded up (512 B steps up to 1 MiB, 2 MiB steps above) so that slightly different requests
// share blocks. A request takes the smallest cached block that fits, if that block is at most twice the
// rounded request; otherwise it gets a new block. Blocks are never split or merged. When the raw
// allocation fails, every cached block is released and the allocation tried once more.
//
// Reuse is safe without events because the caller runs all device work on one stream, in order (see
// native/cuda.h): work queued after a block is handed out again runs after the work that used it before.
//
// Thread-safe (one mutex); the raw functions run under it and must not call back into the allocator.
//
// @example
//   CachingAllocator a({my_alloc, my_free, my_sync});
//   void* p = a.allocate(1000);  // a 1024-byte block
//   a.deallocate(p);             // cached
//   void* q = a.allocate(900);   // the same block again: q == p
//   a.deallocate(q);
//   a.release_cached();          // my_sync(), then my_free(q): only cached blocks are freed
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>

namespace nf::cuda {

class CachingAllocator {
 public:
  struct Raw {
    void* (*alloc)(size_t bytes);  // null when out of memory; throws on any other failure
    void (*free)(void* p);         // may throw; the block is forgotten either way
    void (*release_hook)();        // runs before cached blocks are freed (waits for queued work)
  };
  struct Stats {
    size_t allocated;  // bytes in blocks handed out (rounded sizes)
    size_t cached;     // bytes in blocks kept for reuse
    size_t peak;       // the most `allocated` has been
  };

  explicit CachingAllocator(Raw raw) : raw_(raw) {}
  // Holds blocks until release_cached(): the process-wide instance is never destroyed (the driver
  // reclaims device memory at exit), so there is no destructor that frees.
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // A block of at least `bytes` (a distinct one for 0). Never null: throws nf::Error(Code::Native)
  // naming the sizes when the memory cannot be had even after releasing the cache.
  void* allocate(size_t bytes);
  // Back to the cache. Null is a no-op; a pointer that allocate() did not return, or one already freed,
  // throws nf::Error(Code::Native) and changes nothing.
  void deallocate(void* p);
  // Frees every cached block (not the ones handed out), after calling release_hook once.
  void release_cached();
  Stats stats() const;

  // The block size a request of `bytes` gets (bytes ≤ kMaxRequest).
  static size_t round_size(size_t bytes);
  static constexpr size_t kMaxRequest = size_t(1) << 48;  // 256 TiB: far beyond any GPU, so rounding cannot overflow

 private:
  void release_cached_locked();

  const Raw raw_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> cached_blocks_;   // size → block, for best fit by lower_bound
  std::unordered_map<void*, size_t> live_;       // block → size, for every block handed out
  size_t allocated_ = 0, cached_ = 0, peak_ = 0;
};

}  // namespace nf::cuda
