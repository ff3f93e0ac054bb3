// libFuzzer harness (scripts/fuzz-native.sh): the strided copy's memory checks (native/bindings/dims.h)
// and its kernel. From the fuzzer's bytes: a rank ≤ 6, dims (0, 1, small, or up to 2^31), strides and
// offsets (small or up to 2^53), and buffer lengths. The binding's checks run in its order; when they
// accept, the copy runs on buffers of exactly those lengths (ASan stops any access outside them), and an
// independent walk of every index checks that each reached element is inside its buffer and written once,
// that dst holds src's bits there and its old bits everywhere else, and that the naive loop agrees.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "../../../native/bindings/dims.h"
#include "../../../native/errors.h"
#include "../../../native/kernels/strided_copy.h"
#include "../../../native/threadpool.h"

namespace {

using nf::napi::kMaxDim;
using nf::napi::kMaxSafeInteger;

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int threads = nf::set_num_threads(3);  // uneven chunks across the pool
  (void)threads;
  FuzzedDataProvider in(data, size);
  // One input in 16 may be large enough (2^18 elements) for the copy to be split across threads.
  const bool big = in.ConsumeIntegralInRange(0, 15) == 0;
  const size_t cap = big ? size_t(1) << 18 : size_t(1) << 12;
  auto dim = [&]() -> int64_t {
    switch (in.ConsumeIntegralInRange(0, 7)) {
      case 0: return 0;
      case 1: return 1;
      case 7: return in.ConsumeIntegralInRange<int64_t>(0, kMaxDim);
      default: return in.ConsumeIntegralInRange<int64_t>(2, big ? 64 : 9);
    }
  };
  auto index = [&](int64_t small) -> int64_t {
    switch (in.ConsumeIntegralInRange(0, 7)) {
      case 0: return 0;
      case 1: return 1;
      case 7: return in.ConsumeIntegralInRange<int64_t>(0, kMaxSafeInteger);
      default: return in.ConsumeIntegralInRange<int64_t>(0, small);
    }
  };
  nf::cpu::StridedCopyArgs a{};
  a.rank = in.ConsumeIntegralInRange(0, nf::cpu::kMaxCopyRank);
  for (int k = 0; k < a.rank; ++k) {
    a.shape[k] = dim();
    a.dst_strides[k] = index(big ? 4096 : 64);
    a.src_strides[k] = index(big ? 4096 : 64);
  }
  const int64_t dst_offset = index(64), src_offset = index(64);
  const size_t dst_length = in.ConsumeIntegralInRange<size_t>(0, cap), src_length = in.ConsumeIntegralInRange<size_t>(0, cap);

  // The binding's checks, in its order (bindings/strided_copy.cc); a 0 dim copies nothing.
  for (int k = 0; k < a.rank; ++k)
    if (a.shape[k] == 0) return 0;
  try {
    nf::napi::check_reach(a.shape, a.rank, a.dst_strides, dst_offset, dst_length, "dst");
    nf::napi::check_reach(a.shape, a.rank, a.src_strides, src_offset, src_length, "src");
    nf::napi::check_written_once(a);
  } catch (const nf::Error&) {
    return 0;
  }

  std::vector<float> src(src_length), got(dst_length), want(dst_length);
  for (size_t i = 0; i < src_length; ++i) src[i] = static_cast<float>(i + 1);
  const float old = std::numeric_limits<float>::quiet_NaN();
  std::fill(got.begin(), got.end(), old);
  std::fill(want.begin(), want.end(), old);
  a.src = src.data() + src_offset;
  a.dst = got.data() + dst_offset;
  nf::cpu::strided_copy(a);
  a.dst = want.data() + dst_offset;
  nf::cpu::ref::strided_copy(a);
  if (std::memcmp(got.data(), want.data(), dst_length * sizeof(float)) != 0) __builtin_trap();

  // The independent walk: an odometer over the shape (the checks bound its length by dst_length).
  std::vector<char> seen(dst_length);
  int64_t i[nf::cpu::kMaxCopyRank] = {};
  for (;;) {
    __int128 d = dst_offset, s = src_offset;
    for (int k = 0; k < a.rank; ++k) {
      d += static_cast<__int128>(i[k]) * a.dst_strides[k];
      s += static_cast<__int128>(i[k]) * a.src_strides[k];
    }
    if (d < 0 || d >= static_cast<__int128>(dst_length) || s < 0 || s >= static_cast<__int128>(src_length)) __builtin_trap();
    if (seen[static_cast<size_t>(d)]++) __builtin_trap();
    if (bits(got[static_cast<size_t>(d)]) != bits(src[static_cast<size_t>(s)])) __builtin_trap();
    int k = a.rank - 1;
    for (; k >= 0 && ++i[k] == a.shape[k]; --k) i[k] = 0;
    if (k < 0) break;
  }
  for (size_t j = 0; j < dst_length; ++j)
    if (!seen[j] && bits(got[j]) != bits(old)) __builtin_trap();
  return 0;
}
