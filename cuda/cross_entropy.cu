// Cross-entropy fused with log-softmax on the GPU, PyTorch's semantics (label smoothing ε, ignore_index,
// reduction 'mean'), float32 logits [N, V], int32 targets [N]. The maths is native/kernels/cross_entropy.h
// (reference: cross_entropy_ref.cc):
//
//   lse_i = log Σ_c exp(x_c) (max-subtracted),
//   loss_i = lse_i − (1 − ε)·x_t − (ε/V)·Σ_c x_c   (in double; the Σx term only when ε > 0)
//   cross_entropy_forward   lse [N] saved for backward (0 for ignored rows); returns Σ loss_i over kept rows
//                           and writes the kept count. Synchronises: the sum, the count and the target
//                           check come back to the host.
//   cross_entropy_backward  dlogits [N, V] = (softmax(x) − q)·scale for kept rows, 0 for ignored ones,
//                           scale = gradOutput / kept (0 when no row is kept), counted on the device.
//
// Targets are checked here, as the CPU binding checks them before its kernels: one that is neither
// ignore_index nor in [0, V) records its row in a device word (atomicMin keeps the lowest), its row is
// treated as ignored, and after the sync the forward throws Code::OutOfRange with the binding's message.
// The backward treats such a row as ignored (the forward has already refused it) and never syncs.
//
// Geometry: a row of V ≤ 1024 gets one warp (8 rows per 256-thread block, shuffle reductions); a longer
// row (a vocabulary) a 512-thread block with block_max / block_sum. Groups loop over rows (grid-stride).
// The forward's per-row losses (double) go to scratch, then one 1024-thread block sums them and counts
// the kept rows in a fixed order, so the total has the same bits on every run. The backward's count is
// the same single block, writing the scale that the row kernel reads.
#include <string>

#include "kernels.h"
#include "rows.cuh"

namespace nf::cuda {
namespace {

constexpr int kTotalBlock = 1024;    // the one block that sums losses and counts kept rows
constexpr unsigned long long kNoRow = ~0ull;

// What the forward brings back to the host in one copy. bad_row starts at kNoRow (memset 0xFF).
struct ForwardResult {
  double total;                  // Σ loss over kept rows
  double kept;                   // the number of kept rows (exact in a double)
  unsigned long long bad_row;    // the lowest row with an invalid target, or kNoRow
  int32_t bad_target;            // its target, when there is one
};

__device__ __forceinline__ bool kept_target(const cpu::CrossEntropyArgs& a, int32_t t) {
  return t != a.ignore_index && t >= 0 && t < a.v;
}

// lse[i] and loss[i] for every row (0 for ignored and invalid rows; invalid rows also go to bad_row).
template <bool kWarp>
__global__ void forward_rows(const cpu::CrossEntropyArgs a, float* lse, double* loss, unsigned long long* bad_row) {
  __shared__ float shared[32];
  const RowGroup<kWarp> g;
  const float eps = a.label_smoothing;
  for (int64_t i = g.first; i < a.n; i += g.stride) {
    const int32_t t = a.targets[i];
    if (!kept_target(a, t)) {  // the same for the whole group: no reduction is skipped by part of it
      if (g.lane == 0) {
        lse[i] = 0.0f;
        loss[i] = 0.0;
        if (t != a.ignore_index) atomicMin(bad_row, static_cast<unsigned long long>(i));
      }
      continue;
    }
    const float* x = a.logits + i * a.v;
    float max = -INFINITY;
    for (int64_t j = g.lane; j < a.v; j += g.width) max = fmaxf(max, x[j]);
    max = group_max<kWarp>(max, shared);
    float sum = 0.0f, sum_x = 0.0f;
    for (int64_t j = g.lane; j < a.v; j += g.width) {
      sum += expf(x[j] - max);
      if (eps > 0.0f) sum_x += x[j];
    }
    sum = group_sum<kWarp>(sum, shared);
    if (eps > 0.0f) sum_x = group_sum<kWarp>(sum_x, shared);
    if (g.lane == 0) {
      // An all −inf row gives max − max = NaN, hence lse and the loss NaN, as on the CPU and in PyTorch.
      const float l = max + logf(sum);
      lse[i] = l;
      double li = double(l) - (1.0 - double(eps)) * double(x[t]);
      if (eps > 0.0f) li -= double(eps) / double(a.v) * double(sum_x);
      loss[i] = li;
    }
  }
}

// One block: Σ loss and the kept count in a fixed order, and the bad row's target for the message.
__global__ void forward_total(const cpu::CrossEntropyArgs a, const double* loss, ForwardResult* out) {
  __shared__ double shared[32];
  double total = 0.0, kept = 0.0;
  for (int64_t i = threadIdx.x; i < a.n; i += blockDim.x) {
    total += loss[i];
    if (kept_target(a, a.targets[i])) kept += 1.0;
  }
  total = block_sum(total, shared);
  kept = block_sum(kept, shared);
  if (threadIdx.x == 0) {
    out->total = total;
    out->kept = kept;
    if (out->bad_row != kNoRow) out->bad_target = a.targets[out->bad_row];
  }
}

// One block: scale = gradOutput / kept, or 0 when no row is kept (as the CPU binding forms it).
__global__ void backward_scale(const cpu::CrossEntropyArgs a, float grad_output, float* scale) {
  __shared__ double shared[32];
  double kept = 0.0;
  for (int64_t i = threadIdx.x; i < a.n; i += blockDim.x)
    if (kept_target(a, a.targets[i])) kept += 1.0;
  kept = block_sum(kept, shared);
  if (threadIdx.x == 0) *scale = kept > 0.0 ? float(double(grad_output) / kept) : 0.0f;
}

// dlogits for every row: (exp(x − lse) − q)·scale, q = hit at the target and smooth elsewhere; 0 for
// ignored and invalid rows. No reductions, so the group shape only sets which thread writes what.
template <bool kWarp>
__global__ void backward_rows(const cpu::CrossEntropyArgs a, const float* lse, const float* scale_at, float smooth,
                              float hit, float* dlogits) {
  const RowGroup<kWarp> g;
  const float scale = *scale_at;
  for (int64_t i = g.first; i < a.n; i += g.stride) {
    const int32_t t = a.targets[i];
    float* d = dlogits + i * a.v;
    if (!kept_target(a, t)) {
      for (int64_t j = g.lane; j < a.v; j += g.width) d[j] = 0.0f;
      continue;
    }
    const float* x = a.logits + i * a.v;
    const float l = lse[i];
    for (int64_t j = g.lane; j < a.v; j += g.width) d[j] = (expf(x[j] - l) - (j == t ? hit : smooth)) * scale;
  }
}

}  // namespace

double cross_entropy_forward(const cpu::CrossEntropyArgs& a, float* lse, int64_t* kept) {
  *kept = 0;
  if (a.n <= 0) return 0.0;
  Scratch loss(size_t(a.n) * sizeof(double)), result(sizeof(ForwardResult));
  ForwardResult* r = result.as<ForwardResult>();
  check(cudaMemsetAsync(r, 0xFF, sizeof(ForwardResult), stream()), "cross_entropy_forward (clear)");
  if (a.v <= kWarpCols)
    forward_rows<true><<<grid_for(a.n, kWarpBlock / 32), kWarpBlock, 0, stream()>>>(a, lse, loss.as<double>(), &r->bad_row);
  else
    forward_rows<false><<<grid_for(a.n, 1), kRowBlock, 0, stream()>>>(a, lse, loss.as<double>(), &r->bad_row);
  check_launch("cross_entropy_forward");
  forward_total<<<1, kTotalBlock, 0, stream()>>>(a, loss.as<double>(), r);
  check_launch("cross_entropy_forward (total)");
  ForwardResult host;
  check(cudaMemcpyAsync(&host, r, sizeof host, cudaMemcpyDeviceToHost, stream()), "cross_entropy_forward (copy)");
  check(cudaStreamSynchronize(stream()), "cross_entropy_forward (synchronize)");
  if (host.bad_row != kNoRow)
    throw Error(Code::OutOfRange, "Expected a class in [0, " + std::to_string(a.v) + ") or the ignoreIndex " +
                                      std::to_string(a.ignore_index) + " for targets[" + std::to_string(host.bad_row) +
                                      "] but received " + std::to_string(host.bad_target));
  *kept = int64_t(host.kept);
  return host.total;
}

void cross_entropy_backward(const cpu::CrossEntropyArgs& a, const float* lse, float grad_output, float* dlogits) {
  if (a.n <= 0 || a.v <= 0) return;
  Scratch scale(sizeof(float));
  backward_scale<<<1, kTotalBlock, 0, stream()>>>(a, grad_output, scale.as<float>());
  check_launch("cross_entropy_backward (scale)");
  // q as the CPU forms it, in float: ε/V off the target, 1 − ε + ε/V on it.
  const float smooth = a.label_smoothing / float(a.v), hit = 1.0f - a.label_smoothing + smooth;
  if (a.v <= kWarpCols)
    backward_rows<true><<<grid_for(a.n, kWarpBlock / 32), kWarpBlock, 0, stream()>>>(a, lse, scale.as<float>(), smooth,
                                                                                      hit, dlogits);
  else
    backward_rows<false><<<grid_for(a.n, 1), kRowBlock, 0, stream()>>>(a, lse, scale.as<float>(), smooth, hit, dlogits);
  check_launch("cross_entropy_backward");
}

}  // namespace nf::cuda
