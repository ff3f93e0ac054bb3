// N-API glue for what only the benches use.
//   fmaPeak(simd, seconds, threads) → GFLOP/s of fp32 FMA on `threads` threads with that ISA's kernel
#include <chrono>

#include "../dispatch.h"
#include "../threadpool.h"
#include "common.h"

namespace nf::napi {
namespace {

Napi::Value fma_peak_js(const Napi::CallbackInfo& info) {
  const cpu::FmaPeakFn fn = kernels_for(string_arg(info, 0, "simd")).fma_peak;
  if (!info[1].IsNumber() || !(info[1].As<Napi::Number>().DoubleValue() > 0))
    throw Error(Code::InvalidArgument, "Expected a positive number of seconds for seconds");
  const double seconds = info[1].As<Napi::Number>().DoubleValue();
  const int threads = static_cast<int>(int_arg(info, 2, "threads", 1, num_threads()));
  using clock = std::chrono::steady_clock;
  auto elapsed = [](clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };
  // Calibrate on one thread, then run every thread for about `seconds`.
  int64_t iters = 1 << 16;
  for (;;) {
    const auto t0 = clock::now();
    fn(iters);
    const double dt = elapsed(t0);
    if (dt > 0.02) {
      iters = static_cast<int64_t>(double(iters) * seconds / dt) + 1;
      break;
    }
    iters *= 4;
  }
  double flops[1024] = {};
  const auto t0 = clock::now();
  parallel_for(threads, [&](int64_t t) { flops[t] = fn(iters); });
  const double dt = elapsed(t0);
  double total = 0;
  for (int t = 0; t < threads; ++t) total += flops[t];
  return Napi::Number::New(info.Env(), total / dt / 1e9);
}

}  // namespace

void register_bench(Napi::Env env, Napi::Object exports) { export_fn<fma_peak_js>(env, exports, "fmaPeak"); }

}  // namespace nf::napi
