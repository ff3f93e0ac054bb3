// The fast strided copy (strided_copy.h). The layout is simplified first: size-1 dims carry no index and
// are dropped, and a dim whose strides are its inner neighbour's times that neighbour's size on both sides
// is merged into it, so a permute of [B, L, H, D] into [B, H, L, D] becomes copies of D-long runs and a
// contiguous copy one run. The innermost run goes through std::memcpy when it is contiguous on both
// sides, else a plain strided loop. The elements, in index order, are cut into fixed chunks that the
// pool runs in any order: each element is written once with a value that depends on nothing else, so
// the result is the same with any thread count.
#include <cstring>

#include "../threadpool.h"
#include "int_math.h"
#include "strided_copy.h"

namespace nf::cpu {
namespace {

// 32 Ki floats (128 KiB read + 128 KiB written) per task: the hand-off is negligible next to it, and a
// Transformer layer's activations still make tens of tasks.
constexpr int64_t kChunk = int64_t(1) << 15;
// Below two chunks a second thread costs more than it saves.
constexpr int64_t kMinParallel = 2 * kChunk;

void copy_run(float* dst, const float* src, int64_t n, int64_t ds, int64_t ss) {
  if (ds == 1 && ss == 1) {
    std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i * ds] = src[i * ss];
  }
}

// Copies the elements [begin, end) in index order of a layout of rank ≥ 1: the innermost dim in runs,
// the outer dims by an odometer that keeps both offsets up to date.
void copy_range(const MergedDims& l, float* dst, const float* src, int64_t begin, int64_t end) {
  const int outer = l.rank - 1;
  const int64_t n_in = l.shape[outer], ds_in = l.strides[0][outer], ss_in = l.strides[1][outer];
  int64_t index[kMaxCopyRank] = {};
  int64_t d = 0, s = 0;
  int64_t rest = begin / n_in;
  for (int k = outer - 1; k >= 0; --k) {
    index[k] = rest % l.shape[k];
    rest /= l.shape[k];
    d += index[k] * l.strides[0][k];
    s += index[k] * l.strides[1][k];
  }
  int64_t j = begin % n_in;  // position inside the first run
  for (int64_t left = end - begin; left > 0;) {
    const int64_t run = min64(n_in - j, left);
    copy_run(dst + d + j * ds_in, src + s + j * ss_in, run, ds_in, ss_in);
    left -= run;
    j = 0;
    for (int k = outer - 1; k >= 0; --k) {  // next outer index (past the last one only when left == 0)
      d += l.strides[0][k];
      s += l.strides[1][k];
      if (++index[k] < l.shape[k]) break;
      d -= l.shape[k] * l.strides[0][k];
      s -= l.shape[k] * l.strides[1][k];
      index[k] = 0;
    }
  }
}

}  // namespace

MergedDims merge_dims(int rank, const int64_t* shape, const int64_t* strides0, const int64_t* strides1) {
  MergedDims l;
  for (int k = 0; k < rank; ++k) {
    const int64_t n = shape[k], s0 = strides0[k], s1 = strides1[k];
    if (n == 1) continue;
    const int r = l.rank - 1;  // the kept dim just outside this one
    if (r >= 0 && l.strides[0][r] == n * s0 && l.strides[1][r] == n * s1) {
      l.shape[r] *= n;
      l.strides[0][r] = s0;
      l.strides[1][r] = s1;
    } else {
      l.shape[l.rank] = n;
      l.strides[0][l.rank] = s0;
      l.strides[1][l.rank] = s1;
      ++l.rank;
    }
  }
  return l;
}

void strided_copy(const StridedCopyArgs& a) {
  for (int k = 0; k < a.rank; ++k)
    if (a.shape[k] == 0) return;
  const MergedDims l = merge_dims(a.rank, a.shape, a.dst_strides, a.src_strides);
  if (l.rank == 0) {
    *a.dst = *a.src;
    return;
  }
  int64_t total = 1;  // ≤ the length of dst: the bindings check that dst is written once, in bounds
  for (int k = 0; k < l.rank; ++k) total *= l.shape[k];
  parallel_for_if(total >= kMinParallel, ceil_div(total, kChunk), [&](int64_t c) {
    copy_range(l, a.dst, a.src, c * kChunk, min64(total, (c + 1) * kChunk));
  });
}

}  // namespace nf::cpu
