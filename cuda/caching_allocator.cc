// The caching allocator's bookkeeping (see caching_allocator.h): free lists by size, the blocks handed
// out, and the byte counts that memory_stats reports. Plain C++: the device calls come in as Raw.
#include "caching_allocator.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "../native/errors.h"

namespace nf::cuda {
namespace {

constexpr size_t kSmallStep = 512;                   // granularity up to kSmallLimit
constexpr size_t kSmallLimit = size_t(1) << 20;      // 1 MiB
constexpr size_t kLargeStep = size_t(2) << 20;       // granularity above it: 2 MiB

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / double(size_t(1) << 20));
  return buf;
}

}  // namespace

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes == 0) return kSmallStep;  // a real, distinct block, so every allocate() returns a unique pointer
  const size_t step = bytes <= kSmallLimit ? kSmallStep : kLargeStep;
  return (bytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t size = bytes <= kMaxRequest ? round_size(bytes) : 0;

  // Best fit: the smallest cached block ≥ size, unless it would waste more than it serves.
  auto it = size ? cached_blocks_.lower_bound(size) : cached_blocks_.end();
  if (it != cached_blocks_.end() && it->first - size <= size) {
    void* p = it->second;
    const size_t block = it->first;
    live_.emplace(p, block);  // before the erase: if this throws bad_alloc the block is still cached
    cached_blocks_.erase(it);
    cached_ -= block;
    allocated_ += block;
    peak_ = std::max(peak_, allocated_);
    return p;
  }

  void* p = size ? raw_.alloc(size) : nullptr;
  const size_t had_cached = cached_;
  if (!p && size && cached_ > 0) {  // the cache may be what fills the device: give it back, try once more
    release_cached_locked();
    p = raw_.alloc(size);
  }
  if (!p) {
    throw Error(Code::Native, "CUDA out of GPU memory: tried to allocate " + mib(bytes) + "; " + mib(allocated_) +
                                  " allocated by nodeformer, " + mib(had_cached) + " cached" +
                                  (had_cached ? " (freed, then the allocation retried)" : ""));
  }
  try {
    live_.emplace(p, size);
  } catch (...) {
    raw_.free(p);
    throw;
  }
  allocated_ += size;
  peak_ = std::max(peak_, allocated_);
  return p;
}

void CachingAllocator::deallocate(void* p) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(p);
  if (it == live_.end()) {
    throw Error(Code::Native, "CUDA free of a pointer that the caching allocator did not hand out, or that was freed already");
  }
  const size_t block = it->second;
  cached_blocks_.emplace(block, p);  // before the erase: if this throws bad_alloc the block stays live
  live_.erase(it);
  allocated_ -= block;
  cached_ += block;
}

void CachingAllocator::release_cached() {
  std::lock_guard<std::mutex> lock(mutex_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  if (cached_blocks_.empty()) return;  // nothing to free: no need to wait for the device
  raw_.release_hook();
  while (!cached_blocks_.empty()) {
    // Forget the block before freeing it, so a throwing free leaves the books consistent (the block leaks).
    auto it = cached_blocks_.begin();
    void* p = it->second;
    cached_ -= it->first;
    cached_blocks_.erase(it);
    raw_.free(p);
  }
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {allocated_, cached_, peak_};
}

}  // namespace nf::cuda
