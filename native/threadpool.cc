// See threadpool.h. Workers spin briefly after each job (a decode step issues many small GEMMs back to
// back, and waking a sleeping thread costs tens of microseconds), then sleep on a condition variable.
#include "threadpool.h"

#if defined(__linux__)
#include <sched.h>
#endif

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

// One parallel_for call. Workers hold it by shared_ptr, so one that wakes after the call has returned
// still reads valid memory; it only calls fn after claiming an index < n, which cannot happen once the
// caller has seen all n tasks done and returned.
struct Job {
  TaskFn fn;
  void* ctx;
  int64_t n;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
  std::mutex error_mutex;
  std::exception_ptr error;

  void drain() {
    for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) {
      try {
        fn(ctx, i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
      }
      done.fetch_add(1, std::memory_order_acq_rel);
    }
  }
};

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Returns false (having done nothing) when another caller holds the pool. The caller works too, and
  // waits only until every task is done, not for late workers to check in: a worker descheduled by a
  // busy machine delays the call by at most the task it holds.
  bool try_run(int64_t n, TaskFn fn, void* ctx) {
    std::unique_lock<std::mutex> busy(busy_mutex_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    auto job = std::make_shared<Job>();
    job->fn = fn;
    job->ctx = ctx;
    job->n = n;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    job->drain();
    while (job->done.load(std::memory_order_acquire) != n) cpu_relax();
    if (job->error) std::rethrow_exception(job->error);
    return true;
  }

 private:
  void work() {
    uint64_t seen = 0;  // the generation at construction: a job posted before this thread starts is not missed
    for (;;) {
      const auto spin_until = std::chrono::steady_clock::now() + kSpin;
      while (generation_.load(std::memory_order_acquire) == seen) {
        if (std::chrono::steady_clock::now() > spin_until) {
          std::unique_lock<std::mutex> lock(mutex_);
          wake_.wait(lock, [&] { return generation_.load() != seen; });
          break;
        }
        for (int k = 0; k < 64; ++k) cpu_relax();
      }
      std::shared_ptr<Job> job;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return;
        seen = generation_.load();
        job = job_;
      }
      if (job) job->drain();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex busy_mutex_;  // one parallel_for at a time
  std::mutex mutex_;       // guards job_, stop_ and sleeping
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::shared_ptr<Job> job_;
  bool stop_ = false;
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
#if defined(__linux__)
  // Containers and taskset limit the CPUs a process may use; hardware_concurrency() ignores that.
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
#endif
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
