// See threadpool.h. Workers spin briefly after each job (a decode step issues many small GEMMs back to
// back, and waking a sleeping thread costs tens of microseconds), then sleep on a condition variable.
#include "threadpool.h"

#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include "errors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
static inline void cpu_relax() { _mm_pause(); }
#elif defined(__aarch64__)
static inline void cpu_relax() { asm volatile("yield"); }
#else
static inline void cpu_relax() {}
#endif

namespace nf {
namespace {

constexpr auto kSpin = std::chrono::microseconds(200);

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stop_.store(true);
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Returns false (having done nothing) when another caller holds the pool.
  bool try_run(int64_t n, TaskFn fn, void* ctx) {
    std::unique_lock<std::mutex> busy(busy_mutex_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    fn_ = fn;
    ctx_ = ctx;
    n_ = n;
    next_.store(0);
    error_ = nullptr;
    active_.store(static_cast<int>(workers_.size()));
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    drain();
    while (active_.load(std::memory_order_acquire) != 0) cpu_relax();
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  void drain() {
    for (;;) {
      const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
      if (i >= n_) return;
      try {
        fn_(ctx_, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex_);
        if (!error_) error_ = std::current_exception();
      }
    }
  }

  void work() {
    uint64_t seen = 0;  // the generation at construction: a job posted before this thread starts is not missed
    for (;;) {
      auto spin_until = std::chrono::steady_clock::now() + kSpin;
      while (generation_.load(std::memory_order_acquire) == seen) {
        if (std::chrono::steady_clock::now() > spin_until) {
          std::unique_lock<std::mutex> lock(sleep_mutex_);
          wake_.wait(lock, [&] { return generation_.load() != seen; });
          break;
        }
        for (int k = 0; k < 64; ++k) cpu_relax();
      }
      seen = generation_.load(std::memory_order_acquire);
      if (stop_.load()) return;
      drain();
      active_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  std::vector<std::thread> workers_;
  std::mutex busy_mutex_, sleep_mutex_, error_mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int64_t> next_{0};
  std::atomic<int> active_{0};
  std::atomic<bool> stop_{false};
  TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;
  std::exception_ptr error_;
};

std::mutex g_pool_mutex;         // guards g_pool replacement
std::shared_ptr<Pool> g_pool;    // replaced by set_num_threads; a running call keeps its own reference

std::shared_ptr<Pool> current_pool() {
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (!g_pool) g_pool = std::make_shared<Pool>(hardware_threads());
  return g_pool;
}

}  // namespace

int hardware_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
}

int num_threads() { return current_pool()->size(); }

int set_num_threads(int n) {
  if (n < 1) n = hardware_threads();
  auto pool = std::make_shared<Pool>(n);
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  g_pool = std::move(pool);
  return n;
}

void run_parallel(int64_t n, TaskFn fn, void* ctx) {
  if (n <= 0) return;
  if (n > 1) {
    auto pool = current_pool();
    if (pool->size() > 1 && pool->try_run(n, fn, ctx)) return;
  }
  for (int64_t i = 0; i < n; ++i) fn(ctx, i);
}

namespace {
struct Scratch {
  float* data = nullptr;
  size_t floats = 0;
  ~Scratch() { std::free(data); }
};
thread_local Scratch t_scratch[4];
}  // namespace

float* scratch(int slot, size_t floats) {
  Scratch& s = t_scratch[slot];
  if (s.floats < floats) {
    std::free(s.data);
    s.data = nullptr;
    s.floats = 0;
    const size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw Error(Code::Native, "out of memory allocating " + std::to_string(bytes) + " bytes of scratch");
    s.data = static_cast<float*>(p);
    s.floats = floats;
  }
  return s.data;
}

}  // namespace nf
