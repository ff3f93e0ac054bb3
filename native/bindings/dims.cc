// dims.h: the dimension checks, computed in 128 bits so that no sum or product can wrap.
#include "dims.h"

#include "../errors.h"

namespace nf::napi {

std::string join_dims(const int64_t* v, int n) {
  std::string s = "[";
  for (int k = 0; k < n; ++k) s += (k ? ", " : "") + std::to_string(v[k]);
  return s + "]";
}

void check_reach(const int64_t* shape, int rank, const int64_t* strides, int64_t offset, size_t length,
                 const char* name) {
  __int128 last = offset;
  for (int k = 0; k < rank; ++k) last += static_cast<__int128>(shape[k] - 1) * strides[k];
  if (last >= static_cast<__int128>(length)) {
    const std::string reach = last > kMaxSafeInteger ? "beyond 2^53" : std::to_string(static_cast<int64_t>(last));
    throw Error(Code::OutOfRange, std::string("Expected every element reached in ") + name +
                                      " to lie below its length " + std::to_string(length) + " but shape " +
                                      join_dims(shape, rank) + " with " + name + "Strides " +
                                      join_dims(strides, rank) + " from " + name + "Offset " +
                                      std::to_string(offset) + " reaches element " + reach);
  }
}

int64_t elements(const int64_t* dims, size_t n) {
  __int128 p = 1;
  for (size_t k = 0; k < n; ++k) p = p * dims[k] > INT64_MAX ? INT64_MAX : p * dims[k];
  return static_cast<int64_t>(p);
}

void check_length(size_t length, int64_t expected, const char* name) {
  if (static_cast<__int128>(length) != static_cast<__int128>(expected))
    throw Error(Code::Shape, std::string("Expected ") + std::to_string(expected) + " elements in " + name +
                                 " but received " + std::to_string(length));
}

// Sufficient test: with the dims of size > 1 sorted by stride, each stride exceeds the largest offset the
// smaller-stride dims reach (two indices that differ first, from the top, in dim k then land
// ≥ stride_k − that reach > 0 apart).
void check_written_once(const cpu::StridedCopyArgs& a) {
  int order[cpu::kMaxCopyRank], n = 0;
  for (int k = 0; k < a.rank; ++k) {  // insertion by stride (at most 6 dims; std::sort trips -Warray-bounds)
    if (a.shape[k] <= 1) continue;
    int j = n++;
    for (; j > 0 && a.dst_strides[order[j - 1]] > a.dst_strides[k]; --j) order[j] = order[j - 1];
    order[j] = k;
  }
  __int128 reach = 0;
  for (int j = 0; j < n; ++j) {
    const int k = order[j];
    if (static_cast<__int128>(a.dst_strides[k]) <= reach)
      throw Error(Code::InvalidArgument,
                  "Expected dstStrides that write each element of dst once but received " + join_dims(a.dst_strides, a.rank) +
                      " for shape " + join_dims(a.shape, a.rank));
    reach += static_cast<__int128>(a.shape[k] - 1) * a.dst_strides[k];
  }
}

}  // namespace nf::napi
