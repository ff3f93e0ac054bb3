// The additions of a Transformer on the GPU, float32, row-major. The maths is native/kernels/add.h
// (reference: add_ref.cc):
//
//   add_bias_forward    y[r, j] = x[r, j] + b[j]      x, y [rows, cols]; b [cols]
//   add_bias_backward   db[j]  += Σ_r dy[r, j]        dy [rows, cols]; db [cols] (accumulated; dx = dy)
//   add_forward         y[i] = a[i] + b[i]            a, b, y [n] (the residual connection)
//
// Nothing is saved for backward. activation.cu's backward reuses add_bias_backward for its bias gradient.
//
// Geometry: the forwards are grid-stride loops (grid_for, 256 threads); the bias's column is tracked along
// the loop (one division per thread, not per element). y may be x (or a, or b): each element is read
// and written by one thread. add_bias_backward: tiles of 32 columns × a chunk of rows per 32×8-thread
// block (a warp reads 32 adjacent floats of a row: coalesced), the 8 row-threads of a column combined in
// shared memory in a fixed order, per-chunk partials in scratch, then one thread per column adds the
// chunks in order to db. The chunking depends on the shape only: same bits on every run and GPU, no
// atomics.
#include "common.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

constexpr int kThreads = 256;
// The column sums: 32 columns × 8 row-threads per block; a chunk is at least kMinChunkRows rows (each
// thread adds 8 or more), and at most kMaxChunks chunks bound the scratch to kMaxChunks·cols floats.
constexpr int kTileCols = 32, kTileRows = 8;
constexpr int64_t kMinChunkRows = 64, kMaxChunks = 256;

__global__ void bias_forward(const float* x, const float* b, float* y, int64_t total, int64_t cols) {
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x, step = stride % cols;
  int64_t j = i % cols;  // the column of i, advanced with the loop: j + step < 2·cols
  for (; i < total; i += stride) {
    y[i] = x[i] + b[j];
    j += step;
    if (j >= cols) j -= cols;
  }
}

// partial[k][j] = Σ dy[r, j] over the rows of chunk k = blockIdx.y, for the 32 columns of blockIdx.x.
__global__ void column_partials(const float* dy, int64_t rows, int64_t cols, int64_t chunk_rows, float* partial) {
  __shared__ float tile[kTileRows][kTileCols];
  const int64_t j = int64_t(blockIdx.x) * kTileCols + threadIdx.x;
  const int64_t r0 = int64_t(blockIdx.y) * chunk_rows, r1 = r0 + chunk_rows < rows ? r0 + chunk_rows : rows;
  float sum = 0.0f;
  if (j < cols)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kTileRows) sum += dy[r * cols + j];
  tile[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && j < cols) {
    for (int k = 1; k < kTileRows; ++k) sum += tile[k][threadIdx.x];
    partial[int64_t(blockIdx.y) * cols + j] = sum;
  }
}

// db[j] += Σ_k partial[k][j], chunks in order.
__global__ void column_finish(const float* partial, int64_t chunks, int64_t cols, float* db) {
  for (int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; j < cols; j += int64_t(gridDim.x) * blockDim.x) {
    float sum = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) sum += partial[k * cols + j];
    db[j] += sum;
  }
}

__global__ void add_kernel(const float* a, const float* b, float* y, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = a[i] + b[i];
}

}  // namespace

void add_bias_forward(const float* x, const float* b, float* y, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  const int64_t total = rows * cols;
  bias_forward<<<grid_for(total, kThreads), kThreads, 0, stream()>>>(x, b, y, total, cols);
  check_launch("add_bias_forward");
}

void add_bias_backward(const float* dy, float* db, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  int64_t chunks = ceil_div(rows, kMinChunkRows);
  if (chunks > kMaxChunks) chunks = kMaxChunks;
  const int64_t chunk_rows = ceil_div(rows, chunks);
  chunks = ceil_div(rows, chunk_rows);  // no empty chunk
  Scratch partial(size_t(chunks) * size_t(cols) * sizeof(float));
  const dim3 grid{unsigned(ceil_div(cols, kTileCols)), unsigned(chunks)}, block{kTileCols, kTileRows};
  column_partials<<<grid, block, 0, stream()>>>(dy, rows, cols, chunk_rows, partial.as<float>());
  check_launch("add_bias_backward (partials)");
  column_finish<<<grid_for(cols, kThreads), kThreads, 0, stream()>>>(partial.as<float>(), chunks, cols, db);
  check_launch("add_bias_backward (sums)");
}

void add_forward(const float* a, const float* b, float* y, int64_t n) {
  if (n <= 0) return;
  add_kernel<<<grid_for(n, kThreads), kThreads, 0, stream()>>>(a, b, y, n);
  check_launch("add_forward");
}

}  // namespace nf::cuda
