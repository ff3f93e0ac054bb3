// LayerNorm over the last dimension on the GPU, float32, row-major, with the optional fused residual add.
// The maths, formula for formula, is native/kernels/layer_norm.h (reference: layer_norm_ref.cc):
//
//   layer_norm_forward   s = x + r (when a residual r is given; s is then written to `sum`), per row of C:
//                        mean = Σs/C, var = Σ(s − mean)²/C (two passes), rstd = 1/√(var + eps),
//                        y = (s − mean)·rstd·γ + β
//     y [N, C]; sum [N, C] (only with r); mean, rstd [N]: saved for backward with s (x, or sum);
//     x, r [N, C]; γ, β [C].
//   layer_norm_backward  x̂ = (s − mean)·rstd, g = dy·γ, dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) (assigned),
//                        dγ += Σ_rows dy·x̂, dβ += Σ_rows dy (accumulated, like every parameter gradient)
//     dx, dy, s [N, C]; γ, dγ, dβ [C]; mean, rstd [N].
//
// Geometry, rows: a row of C ≤ 1024 gets one warp (8 rows per 256-thread block), so its sums are warp
// shuffles with no shared memory or barrier; a longer row gets a 512-thread block and block_sum. The group
// walks its row three times (sum, squared deviations, output; two in the backward); the later walks hit
// L1/L2, so DRAM sees each row about once. Groups loop over rows (grid-stride, grid_for): any N fits.
// Geometry, dγ and dβ: a column-sum kernel over tiles of 32 columns × a chunk of rows (32×8 threads; the 8
// row-threads of a column are combined in shared memory in a fixed order) writes per-chunk partials to
// scratch, and a second kernel adds the chunks in order to dγ, dβ. The chunking depends on the shape only,
// so the result has the same bits on every run and every GPU, with no atomics. It reads dy and s a second
// time, which is cheaper than keeping C-wide partials per warp of the row kernel.
#include "kernels.h"
#include "rows.cuh"

namespace nf::cuda {
namespace {


// The column sums: 32 columns × 8 row-threads per block; a chunk is at least kMinChunkRows rows (each
// thread adds 8 or more), and at most kMaxChunks chunks bound the scratch to kMaxChunks·2C floats.
constexpr int kTileCols = 32, kTileRows = 8;
constexpr int64_t kMinChunkRows = 64, kMaxChunks = 256;

template <bool kWarp>
__global__ void forward_rows(const cpu::LayerNormArgs a) {
  __shared__ float shared[32];
  const RowGroup<kWarp> g;
  const int64_t c = a.c;
  for (int64_t i = g.first; i < a.n; i += g.stride) {
    const float* x = a.x + i * c;
    const float* s = x;
    float total = 0.0f;
    if (a.residual) {
      const float* r = a.residual + i * c;
      float* sum = a.sum + i * c;
      for (int64_t j = g.lane; j < c; j += g.width) {
        const float v = x[j] + r[j];
        sum[j] = v;
        total += v;
      }
      s = sum;  // read back below by the thread that wrote each element
    } else {
      for (int64_t j = g.lane; j < c; j += g.width) total += x[j];
    }
    const float mean = group_sum<kWarp>(total, shared) / float(c);
    float sq = 0.0f;
    for (int64_t j = g.lane; j < c; j += g.width) {
      const float d = s[j] - mean;
      sq = fmaf(d, d, sq);
    }
    const float rstd = 1.0f / sqrtf(group_sum<kWarp>(sq, shared) / float(c) + a.eps);
    float* y = a.y + i * c;
    for (int64_t j = g.lane; j < c; j += g.width) y[j] = fmaf((s[j] - mean) * rstd, a.gamma[j], a.beta[j]);
    if (g.lane == 0) {
      a.mean[i] = mean;
      a.rstd[i] = rstd;
    }
  }
}

template <bool kWarp>
__global__ void backward_rows(const cpu::LayerNormGradArgs a) {
  __shared__ float shared[32];
  const RowGroup<kWarp> g;
  const int64_t c = a.c;
  for (int64_t i = g.first; i < a.n; i += g.stride) {
    const float* dy = a.dy + i * c;
    const float* s = a.s + i * c;
    const float mean = a.mean[i], rstd = a.rstd[i];
    float g_sum = 0.0f, gx_sum = 0.0f;
    for (int64_t j = g.lane; j < c; j += g.width) {
      const float xhat = (s[j] - mean) * rstd;
      const float gj = dy[j] * a.gamma[j];
      g_sum += gj;
      gx_sum = fmaf(gj, xhat, gx_sum);
    }
    const float g_mean = group_sum<kWarp>(g_sum, shared) / float(c);
    const float gx_mean = group_sum<kWarp>(gx_sum, shared) / float(c);
    float* dx = a.dx + i * c;
    for (int64_t j = g.lane; j < c; j += g.width) {
      const float xhat = (s[j] - mean) * rstd;
      dx[j] = rstd * (dy[j] * a.gamma[j] - g_mean - xhat * gx_mean);
    }
  }
}

// partial[k] = [Σ dy·x̂ | Σ dy] over the rows of chunk k = blockIdx.y, for the 32 columns of blockIdx.x.
__global__ void param_partials(const cpu::LayerNormGradArgs a, int64_t chunk_rows, float* partial) {
  __shared__ float sg[kTileRows][kTileCols], sb[kTileRows][kTileCols];
  const int64_t c = a.c, j = int64_t(blockIdx.x) * kTileCols + threadIdx.x;
  const int64_t r0 = int64_t(blockIdx.y) * chunk_rows, r1 = r0 + chunk_rows < a.n ? r0 + chunk_rows : a.n;
  float pg = 0.0f, pb = 0.0f;
  if (j < c) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kTileRows) {
      const float d = a.dy[r * c + j];
      pg = fmaf(d, (a.s[r * c + j] - a.mean[r]) * a.rstd[r], pg);
      pb += d;
    }
  }
  sg[threadIdx.y][threadIdx.x] = pg;
  sb[threadIdx.y][threadIdx.x] = pb;
  __syncthreads();
  if (threadIdx.y == 0 && j < c) {
    for (int k = 1; k < kTileRows; ++k) {
      pg += sg[k][threadIdx.x];
      pb += sb[k][threadIdx.x];
    }
    float* p = partial + int64_t(blockIdx.y) * 2 * c;
    p[j] = pg;
    p[c + j] = pb;
  }
}

// dγ[j] += Σ_k partial[k][j], dβ[j] += Σ_k partial[k][C + j], chunks in order.
__global__ void param_finish(const float* partial, int64_t chunks, int64_t c, float* dgamma, float* dbeta) {
  for (int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < c; j += int64_t(gridDim.x) * blockDim.x) {
    float tg = 0.0f, tb = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) {
      tg += partial[k * 2 * c + j];
      tb += partial[k * 2 * c + c + j];
    }
    dgamma[j] += tg;
    dbeta[j] += tb;
  }
}

}  // namespace

void layer_norm_forward(const cpu::LayerNormArgs& a) {
  if (a.n <= 0) return;
  if (a.c <= kWarpCols) forward_rows<true><<<grid_for(a.n, kWarpBlock / 32), kWarpBlock, 0, stream()>>>(a);
  else forward_rows<false><<<grid_for(a.n, 1), kRowBlock, 0, stream()>>>(a);
  check_launch("layer_norm_forward");
}

void layer_norm_backward(const cpu::LayerNormGradArgs& a) {
  if (a.n <= 0 || a.c <= 0) return;
  if (a.c <= kWarpCols) backward_rows<true><<<grid_for(a.n, kWarpBlock / 32), kWarpBlock, 0, stream()>>>(a);
  else backward_rows<false><<<grid_for(a.n, 1), kRowBlock, 0, stream()>>>(a);
  check_launch("layer_norm_backward");

  int64_t chunks = ceil_div(a.n, kMinChunkRows);
  if (chunks > kMaxChunks) chunks = kMaxChunks;
  const int64_t chunk_rows = ceil_div(a.n, chunks);
  chunks = ceil_div(a.n, chunk_rows);  // no empty chunk
  Scratch partial(size_t(chunks) * 2 * size_t(a.c) * sizeof(float));
  const dim3 grid{unsigned(ceil_div(a.c, kTileCols)), unsigned(chunks)}, block{kTileCols, kTileRows};
  param_partials<<<grid, block, 0, stream()>>>(a, chunk_rows, partial.as<float>());
  check_launch("layer_norm_backward (parameter partials)");
  param_finish<<<grid_for(a.c, 256), 256, 0, stream()>>>(partial.as<float>(), chunks, a.c, a.dgamma, a.dbeta);
  check_launch("layer_norm_backward (parameter sums)");
}

}  // namespace nf::cuda
