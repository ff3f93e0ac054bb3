// The naive strided copy: one element at a time in index order (the last index fastest), each offset
// computed afresh from the full index, one thread.
#include "strided_copy.h"

namespace nf::cpu::ref {

void strided_copy(const StridedCopyArgs& a) {
  int64_t total = 1;
  for (int k = 0; k < a.rank; ++k) {
    if (a.shape[k] == 0) return;  // before multiplying: the other dims of an empty copy may be huge
    total *= a.shape[k];
  }
  int64_t index[kMaxCopyRank] = {};
  for (int64_t n = 0; n < total; ++n) {
    int64_t d = 0, s = 0;
    for (int k = 0; k < a.rank; ++k) d += index[k] * a.dst_strides[k], s += index[k] * a.src_strides[k];
    a.dst[d] = a.src[s];
    for (int k = a.rank - 1; k >= 0 && ++index[k] == a.shape[k]; --k) index[k] = 0;
  }
}

}  // namespace nf::cpu::ref
