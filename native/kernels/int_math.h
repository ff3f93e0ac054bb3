// Integer helpers for splitting work into blocks, shared by the per-ISA kernel headers. They sit in an
// anonymous namespace like everything a per-ISA translation unit compiles, so no copy built with one
// ISA's flags can be merged by the linker into another translation unit.
#pragma once

#include <cstdint>

namespace nf::cpu {
namespace {

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace
}  // namespace nf::cpu
