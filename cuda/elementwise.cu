// The glue of lib/ops/arith.ts and the optimiser on the GPU (the CPU runs these as plain loops in
// TypeScript), float32; native/cuda.h defines each:
//
//   binary       out[i] = a[Σ i_k·a_strides[k]] op b[Σ i_k·b_strides[k]] over every index i of shape
//                (rank ≤ 6, op Add / Sub / Mul, out contiguous, a stride 0 broadcasts)
//   reduce_sum   out[j] = scale · Σ x[i] over the indices i of shape that map to j (out_strides[k] = 0
//                for a reduced dim); x contiguous; summed in double, scaled in double, rounded once
//   scale        y = x·s;  fill  y = value                                          x, y [n]
//   sum_squares  Σ x² in double; synchronises to return it
// Nothing here saves anything for a backward: lib/ builds those from these same calls.
//
// binary: the layout is simplified on the host (size-1 dims dropped; a dim merged into its inner
// neighbour when both a's and b's strides allow it; out is contiguous, so its always do). The elements
// are then rows of the inner dim: with an inner dim ≥ 32 one warp takes a 256-element segment of a row
// (grid-stride over segments), finds a's and b's row offsets with one 64-bit index decomposition, and
// moves 8 elements per lane on adjacent elements (coalesced; same-shape and bias-like operands always
// take this path); a shorter inner dim gets one element per thread, each offset decomposed. Every
// element is read and written by one thread, so out may be a or b.
//
// reduce_sum: simplified the same way (size-1 dims dropped, neighbouring dims that are both kept or both
// reduced merged), so the dims alternate kept / reduced. Two kernels, chosen by which dim is innermost:
//   - "columns" (the innermost dim is kept, or at most 64 elements reduce into each output): one thread
//     per output, looping over its reduced indices in order (adjacent threads read adjacent floats);
//   - "rows" (the innermost dim is reduced): one 256-thread block per output, threads striding over its
//     reduced indices (coalesced), combined with block_sum.
// When that gives too few blocks to fill a GPU, the reduced indices are also split into S chunks
// (grid.y): partial sums (double) go to scratch and a third kernel adds them in chunk order and scales.
// The split depends on the shape only (a fixed target of kTargetBlocks blocks), so results are the same
// bits on every run and GPU.
//
// sum_squares: up to 1024 blocks of 256 threads (fixed by n) write block partials (double), one block
// adds them in a fixed order; the total is copied back after a stream sync.
#include "common.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

using cpu::kMaxCopyRank;

constexpr int kThreads = 256, kWarps = kThreads / 32;
constexpr int kPerLane = 8;
constexpr int64_t kSegment = 32 * kPerLane;  // elements of a row per warp in binary
constexpr int64_t kTargetBlocks = 1024;      // enough blocks to fill any current GPU with 256-thread blocks
constexpr int64_t kSmallReduce = 64;         // outputs summing this few elements take the columns kernel
constexpr int64_t kMinColumnChunk = 32, kMinRowChunk = 8 * kThreads;  // the least work per split
constexpr int64_t kMaxSplits = 65535;        // grid.y

// ---- binary ----

template <BinaryOp Op>
__device__ __forceinline__ float apply(float x, float y) {
  if constexpr (Op == BinaryOp::Add) return x + y;
  else if constexpr (Op == BinaryOp::Sub) return x - y;
  else return x * y;
}

// One warp per kSegment elements of a row of the inner dim (≥ 32); kContig: both inner strides are 1.
template <BinaryOp Op, bool kContig>
__global__ void binary_segments(const cpu::MergedDims l, const float* a, const float* b, float* out,
                                int64_t segments_per_row, int64_t segments) {
  const int inner = l.rank - 1, lane = threadIdx.x & 31;
  const int64_t n_in = l.shape[inner], as = l.strides[0][inner], bs = l.strides[1][inner];
  const int64_t stride = int64_t(gridDim.x) * kWarps;
  for (int64_t w = int64_t(blockIdx.x) * kWarps + (threadIdx.x >> 5); w < segments; w += stride) {
    const int64_t row = w / segments_per_row, begin = (w - row * segments_per_row) * kSegment;
    const int64_t end = begin + kSegment < n_in ? begin + kSegment : n_in;
    int64_t oa, ob;
    offsets(l, inner, row, oa, ob);
    float* o = out + row * n_in;
    float v[kPerLane];
#pragma unroll
    for (int u = 0; u < kPerLane; ++u) {  // all loads first, so each lane has 8 pairs in flight
      const int64_t j = begin + lane + 32 * u;
      v[u] = j < end ? apply<Op>(a[oa + (kContig ? j : j * as)], b[ob + (kContig ? j : j * bs)]) : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < kPerLane; ++u) {
      const int64_t j = begin + lane + 32 * u;
      if (j < end) o[j] = v[u];
    }
  }
}

template <BinaryOp Op>
__global__ void binary_elements(const cpu::MergedDims l, const float* a, const float* b, float* out, int64_t total) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    int64_t oa, ob;
    offsets(l, l.rank, e, oa, ob);
    out[e] = apply<Op>(a[oa], b[ob]);
  }
}

template <BinaryOp Op>
void launch_binary(const cpu::MergedDims& l, const BinaryArgs& args, int64_t total) {
  const int inner = l.rank - 1;
  if (l.rank >= 1 && l.shape[inner] >= 32) {
    const int64_t n_in = l.shape[inner], per_row = ceil_div(n_in, kSegment), segments = total / n_in * per_row;
    const unsigned grid = grid_for(segments, kWarps);
    if (l.strides[0][inner] == 1 && l.strides[1][inner] == 1)
      binary_segments<Op, true><<<grid, kThreads, 0, stream()>>>(l, args.a, args.b, args.out, per_row, segments);
    else
      binary_segments<Op, false><<<grid, kThreads, 0, stream()>>>(l, args.a, args.b, args.out, per_row, segments);
  } else {
    binary_elements<Op><<<grid_for(total, kThreads), kThreads, 0, stream()>>>(l, args.a, args.b, args.out, total);
  }
}

// ---- reduce_sum ----

// Dims of x (sizes and x strides), outermost first.
struct Dims {
  int rank = 0;
  int64_t shape[kMaxCopyRank];
  int64_t stride[kMaxCopyRank];
};

// The kept dims (out index j is row-major over them) and the reduced dims, split into the innermost
// reduced dim (n0 elements, x stride s0; 1 and 0 when nothing is reduced) and the ones outside it.
struct ReducePlan {
  Dims kept, outer;
  int64_t n0, s0;
  int64_t count;  // elements reduced into each output: n0 · Π outer
};

// x's offset of index `flat` (row-major) over d.
__device__ __forceinline__ int64_t offset_of(const Dims& d, int64_t flat) {
  int64_t o = 0;
  for (int k = d.rank - 1; k >= 0; --k) {
    const int64_t q = flat / d.shape[k];
    o += (flat - q * d.shape[k]) * d.stride[k];
    flat = q;
  }
  return o;
}

// Thread per output j, its reduced indices [r0, r1) of split blockIdx.y walked in order: the inner
// reduced index steps by s0 and carries into the outer ones once per n0 elements.
__global__ void reduce_columns(const ReducePlan p, const float* x, int64_t out_size, int64_t chunk, double scale,
                               float* out, double* partial) {
  const int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= out_size) return;  // no barrier in this kernel
  const int64_t base = offset_of(p.kept, j);
  const int64_t r0 = int64_t(blockIdx.y) * chunk, r1 = r0 + chunk < p.count ? r0 + chunk : p.count;
  int64_t q = r0 / p.n0, u = r0 - q * p.n0, outer = offset_of(p.outer, q);
  double acc = 0.0;
  for (int64_t r = r0; r < r1; ++r) {
    acc += x[base + outer + u * p.s0];
    if (++u == p.n0) {
      u = 0;
      outer = offset_of(p.outer, ++q);
    }
  }
  if (partial) partial[int64_t(blockIdx.y) * out_size + j] = acc;
  else out[j] = float(acc * scale);
}

// Block per output j = blockIdx.x, threads striding over the reduced indices of split blockIdx.y.
__global__ void reduce_rows(const ReducePlan p, const float* x, int64_t out_size, int64_t chunk, double scale,
                            float* out, double* partial) {
  __shared__ double shared[32];
  const int64_t j = blockIdx.x;
  const int64_t base = offset_of(p.kept, j);
  const int64_t r0 = int64_t(blockIdx.y) * chunk, r1 = r0 + chunk < p.count ? r0 + chunk : p.count;
  double acc = 0.0;
  if (p.outer.rank == 0) {
    for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) acc += x[base + r * p.s0];
  } else {
    for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) {
      const int64_t q = r / p.n0;
      acc += x[base + offset_of(p.outer, q) + (r - q * p.n0) * p.s0];
    }
  }
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) {
    if (partial) partial[int64_t(blockIdx.y) * out_size + j] = acc;
    else out[j] = float(acc * scale);
  }
}

// out[j] = scale · Σ_s partial[s][j], splits in order.
__global__ void reduce_finish(const double* partial, int64_t splits, int64_t out_size, double scale, float* out) {
  for (int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < out_size; j += int64_t(gridDim.x) * blockDim.x) {
    double acc = 0.0;
    for (int64_t s = 0; s < splits; ++s) acc += partial[s * out_size + j];
    out[j] = float(acc * scale);
  }
}

// The number of splits of `count` reduced elements when `blocks` blocks already cover the outputs: enough
// to reach kTargetBlocks, each split at least `min_chunk` elements. Returns the chunk length.
int64_t split_chunk(int64_t count, int64_t blocks, int64_t min_chunk) {
  int64_t splits = ceil_div(kTargetBlocks, blocks);
  const int64_t most = ceil_div(count, min_chunk);
  if (splits > most) splits = most;
  if (splits > kMaxSplits) splits = kMaxSplits;
  if (splits < 1) splits = 1;
  return ceil_div(count, splits);
}

// ---- element-wise and sum_squares ----

__global__ void scale_kernel(float* y, const float* x, float s, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = x[i] * s;
}

__global__ void fill_kernel(float* y, float value, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = value;
}

constexpr int64_t kMaxSquareBlocks = 1024;

__global__ void squares_partials(const float* x, int64_t n, double* partial) {
  __shared__ double shared[32];
  double acc = 0.0;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const double v = x[i];
    acc += v * v;
  }
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

__global__ void squares_total(const double* partial, int64_t count, double* total) {
  __shared__ double shared[32];
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) *total = acc;
}

}  // namespace

void binary(const BinaryArgs& args) {
  int64_t total = 1;
  for (int k = 0; k < args.rank; ++k) {
    if (args.shape[k] == 0) return;  // before multiplying: the other dims of an empty result may be huge
    total *= args.shape[k];
  }
  const cpu::MergedDims l = cpu::merge_dims(args.rank, args.shape, args.a_strides, args.b_strides);
  switch (args.op) {
    case BinaryOp::Add: launch_binary<BinaryOp::Add>(l, args, total); break;
    case BinaryOp::Sub: launch_binary<BinaryOp::Sub>(l, args, total); break;
    case BinaryOp::Mul: launch_binary<BinaryOp::Mul>(l, args, total); break;
  }
  check_launch("binary");
}

void reduce_sum(const ReduceArgs& args) {
  if (args.out_size <= 0) return;
  int64_t total = 1;
  for (int k = 0; k < args.rank; ++k) {
    if (args.shape[k] == 0) {  // a reduced dim of 0 (a kept one makes out_size 0): every sum is empty
      fill(args.out, 0.0f, args.out_size);
      return;
    }
    total *= args.shape[k];
  }
  // Simplify (x is contiguous, so neighbouring dims of the same kind always merge), then split the dims.
  int rank = 0;
  int64_t shape[kMaxCopyRank], stride[kMaxCopyRank];
  bool reduced[kMaxCopyRank];
  int64_t x_stride = total;
  for (int k = 0; k < args.rank; ++k) {
    const int64_t n = args.shape[k];
    x_stride /= n;  // the contiguous stride of dim k
    if (n == 1) continue;
    const bool r = args.out_strides[k] == 0;
    if (rank > 0 && reduced[rank - 1] == r) {
      shape[rank - 1] *= n;
      stride[rank - 1] = x_stride;
    } else {
      shape[rank] = n;
      stride[rank] = x_stride;
      reduced[rank] = r;
      ++rank;
    }
  }
  ReducePlan p;
  p.n0 = 1;
  p.s0 = 0;
  int last_reduced = -1;
  for (int k = 0; k < rank; ++k)
    if (reduced[k]) last_reduced = k;
  for (int k = 0; k < rank; ++k) {
    Dims& d = !reduced[k] ? p.kept : p.outer;
    if (k == last_reduced) {
      p.n0 = shape[k];
      p.s0 = stride[k];
      continue;
    }
    d.shape[d.rank] = shape[k];
    d.stride[d.rank] = stride[k];
    ++d.rank;
  }
  p.count = total / args.out_size;

  const double factor = args.scale;
  const bool columns = rank == 0 || !reduced[rank - 1] || p.count <= kSmallReduce || args.out_size > INT32_MAX;
  const int64_t blocks = columns ? ceil_div(args.out_size, kThreads) : args.out_size;
  const int64_t chunk = split_chunk(p.count, blocks, columns ? kMinColumnChunk : kMinRowChunk);
  const int64_t splits = ceil_div(p.count, chunk);
  Scratch partial(splits > 1 ? size_t(splits) * size_t(args.out_size) * sizeof(double) : 0);
  const dim3 grid{unsigned(blocks), unsigned(splits)};
  if (columns)
    reduce_columns<<<grid, kThreads, 0, stream()>>>(p, args.x, args.out_size, chunk, factor, args.out, partial.as<double>());
  else
    reduce_rows<<<grid, kThreads, 0, stream()>>>(p, args.x, args.out_size, chunk, factor, args.out, partial.as<double>());
  check_launch("reduce_sum");
  if (splits > 1) {
    reduce_finish<<<grid_for(args.out_size, kThreads), kThreads, 0, stream()>>>(partial.as<double>(), splits,
                                                                                args.out_size, factor, args.out);
    check_launch("reduce_sum (splits)");
  }
}

void scale(float* y, const float* x, float s, int64_t n) {
  if (n <= 0) return;
  scale_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(y, x, s, n);
  check_launch("scale");
}

void fill(float* y, float value, int64_t n) {
  if (n <= 0) return;
  fill_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(y, value, n);
  check_launch("fill");
}

double sum_squares(const float* x, int64_t n) {
  if (n <= 0) return 0.0;
  int64_t blocks = ceil_div(n, 8 * kThreads);
  if (blocks > kMaxSquareBlocks) blocks = kMaxSquareBlocks;
  Scratch partial(size_t(blocks + 1) * sizeof(double));
  double* p = partial.as<double>();
  squares_partials<<<unsigned(blocks), kThreads, 0, stream()>>>(x, n, p);
  check_launch("sum_squares");
  squares_total<<<1, kThreads, 0, stream()>>>(p, blocks, p + blocks);
  check_launch("sum_squares (total)");
  double total = 0.0;
  check(cudaMemcpyAsync(&total, p + blocks, sizeof total, cudaMemcpyDeviceToHost, stream()), "sum_squares (copy)");
  check(cudaStreamSynchronize(stream()), "sum_squares (synchronize)");
  return total;
}

}  // namespace nf::cuda
