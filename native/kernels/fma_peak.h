// The machine's fp32 FMA peak, for bench/peak: independent chains of vector FMAs (enough to cover
// latency × issue width) with no memory traffic. Returns the floating-point operations performed.
#pragma once

#include <cstdint>

namespace nf::cpu {

using FmaPeakFn = double (*)(int64_t iterations);

namespace scalar { double fma_peak(int64_t iterations); }
namespace avx2 { double fma_peak(int64_t iterations); }
namespace avx512 { double fma_peak(int64_t iterations); }
namespace neon { double fma_peak(int64_t iterations); }

}  // namespace nf::cpu
