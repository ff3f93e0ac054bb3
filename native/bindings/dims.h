// Checks on dimension lists that protect memory, with no N-API in them: the bindings call them on the
// arguments they read (common.h includes this file), and the libFuzzer harnesses of test/fuzz/native/
// call them directly. Each throws nf::Error with a message naming the argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "../kernels/strided_copy.h"

namespace nf::napi {

// The largest dimension a binding accepts: products of two stay far inside int64_t.
constexpr int64_t kMaxDim = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxSafeInteger = (int64_t(1) << 53) - 1;

// "[2, 3, 4]".
std::string join_dims(const int64_t* v, int n);

// Throws OutOfRange unless offset + Σ (shape_k − 1)·strides_k < length, i.e. every element that the
// index space of `shape` (no 0 in it) reaches through `strides` lies inside a buffer of `length`.
void check_reach(const int64_t* shape, int rank, const int64_t* strides, int64_t offset, size_t length,
                 const char* name);

// Elements of a [dims…] tensor of non-negative dims, saturated at INT64_MAX (a product past int64 cannot
// match any buffer's length, so a length check against it fails instead of wrapping).
int64_t elements(const int64_t* dims, size_t n);
inline int64_t elements(std::initializer_list<int64_t> dims) { return elements(dims.begin(), dims.size()); }

// Throws Code::Shape unless a buffer named `name` has `expected` elements.
void check_length(size_t length, int64_t expected, const char* name);

// Throws InvalidArgument unless dst's strides write each element once (so no order of writes, thread count
// included, can change a strided copy's result).
void check_written_once(const cpu::StridedCopyArgs& a);

}  // namespace nf::napi
