// GEMM on the GPU: C = op(A)·op(B), or C += op(A)·op(B) when accumulate, then + bias[j] on every row
// when bias is set (native/kernels/matmul.h; same order of operations as matmul_ref.cc). fp32 row-major,
// device pointers, any M, N, K ≥ 0, any lda/ldb/ldc ≥ the logical width, any element alignment.
//
//   op(A) M×K: A is M×K (lda ≥ K), or K×M when trans_a (lda ≥ M)
//   op(B) K×N: B is K×N (ldb ≥ N), or N×K when trans_b (ldb ≥ K)
//   C     M×N (ldc ≥ N): reads C only when accumulate, writes exactly the M×N elements (never the
//         padding between N and ldc); reads bias[0, N) when bias is set. Nothing else is written.
//
// Three kernels, one launch per call on stream(), no scratch memory, no atomics: every C element is
// summed in one fixed order, so results depend only on the shape, the flags and tf32_enabled().
//
// 1. tiled<Tf32Tile>: TF32 tensor cores (tf32_enabled(), the default). 128×128 C tile per block, 256
//    threads = 8 warps in 2 (M) × 4 (N), each warp 64×32 = 4×4 mma.sync.m16n8k8 tiles (64 fp32
//    accumulators per thread). Operands are rounded with cvt.rna.tf32.f32 as they leave shared memory.
// 2. tiled<SimtTile>: exact fp32 (tf32 off). Same block tile, staging and pipeline; the 256 threads are a
//    16×16 grid, each owning 8×8 outputs summed with FFMA in k order.
//    Both tiled kernels: grid (ceil(N/128), min(ceil(M/128), 65535), more M tiles folded into z), one
//    C tile per block (blockIdx.x the N tile, blockIdx.y + z·gridDim.y the M tile). BK = 16, 4 cp.async
//    stages of an A and a B tile: 4 × 2 × 12 KiB = 96 KiB of dynamic shared memory (within the 99 KiB
//    opt-in of sm_86/89). The TF32 kernel's launch bounds hold it to 128 registers, so two blocks share
//    an sm_90 SM (shared memory allows one on sm_80/86/89); the SIMT kernel runs one block per SM.
// 3. skinny: M ≤ 16 with trans_b (decoding through a Linear layer, B = weights stored N×K). Memory-bound
//    on B, which the tiled kernels would cover with only N/128 blocks. 256 threads = 8 warps, 4 columns
//    of C per warp (32 per block), grid ceil(N/32); lane l sums k = 128s + 4l + [0, 4) for all M rows in
//    fp32 FFMA, then a fixed butterfly over the warp. A is staged through 32 KiB of static
//    shared memory, 512 k at a time. Exact fp32 in both modes (it is bandwidth-bound, TF32 buys nothing).
//
// Shared tile layouts. cp.async copies 16 bytes along the operand's contiguous dimension, so a tile keeps
// the global orientation: "k-major" (A untransposed, B transposed: rows of 16 k, padded to 24 floats) or
// "mn-major" (A transposed, B untransposed: 16 rows of 128 m or n, padded to 132). Each padding makes the
// fragment reads below conflict-free, and keeps every row 16-byte aligned for cp.async.
// Global loads: a 16-byte cp.async with src-size zero fill when the operand's base is 16-byte aligned and
// its leading dimension a multiple of 4 (checked per call), else 4-byte cp.async per element; both zero
// fill out-of-range elements, so edge tiles, K tails and unaligned views all run the same main loop.
// Index products that can pass 2^31 (row × leading dimension, tile origins) are int64.
#include <cstdint>

#include "common.cuh"
#include "ptx.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 128;  // BM = BN: both operand tiles are 128 rows of M or N
constexpr int kBK = 16;
constexpr int kStages = 4;
constexpr int kLdK = kBK + 8;      // k-major row stride: ≡ 24 (mod 32) spreads 8 rows over all banks
constexpr int kLdMN = kTile + 4;   // mn-major row stride: ≡ 4 (mod 32) for the k = 2t, 2t + 1 reads
constexpr int kTileFloats = kTile * kLdK > kBK * kLdMN ? kTile * kLdK : kBK * kLdMN;
constexpr int kStageFloats = 2 * kTileFloats;  // A tile, then B tile
constexpr int kSmemBytes = kStages * kStageFloats * int(sizeof(float));
static_assert(kTileFloats % 4 == 0 && kLdK % 4 == 0 && kLdMN % 4 == 0, "cp.async needs 16-byte aligned rows");

struct Params {
  const float* a;
  const float* b;
  float* c;
  const float* bias;
  int64_t m, n, k, lda, ldb, ldc;
  int64_t m_tiles;  // ceil(M / 128)
  int k_tiles;      // ceil(K / 16): K < 2^35, or op(A) and op(B) would fill 256 GiB
  bool accumulate;
  bool vec_a, vec_b;  // operand may be copied 16 bytes at a time (see can_vectorise)
};

// ---- shared pieces ----

// Element c of the C row that starts at crow: (accumulate ? old : 0) + v, then + bias[c], the reference's
// order. Columns past N are skipped (callers skip rows past M).
__device__ __forceinline__ void store(const Params& p, float* crow, int64_t c, float v) {
  if (c >= p.n) return;
  if (p.accumulate) v = crow[c] + v;
  if (p.bias) v += p.bias[c];
  crow[c] = v;
}

// One thread's share of copying an operand's k tiles into shared memory. A tile is rows [r0, r0 + 128)
// of the operand's M or N (`rows` in all) by k [16·kt, 16·kt + 16) (`depth` in all). KMajor: element
// (r, k) is x[r·ld + k] and lands at tile[r·kLdK + k]; else it is x[k·ld + r], landing at
// tile[k·kLdMN + r]. A tile is 512 runs of 4 elements along the contiguous dimension (k-major: 4 runs
// per row of 16 k; mn-major: 32 runs per row of 128); thread t takes run t and run t + 256, which is 64
// rows further (k-major) or 8 k further (mn-major). A run is one 16-byte copy when `vec`, else four
// 4-byte copies of the same addresses. Elements outside the matrix become 0 and so add nothing to
// in-range outputs. The constructor keeps only what does not change along k, to spare registers.
template <bool KMajor>
struct TileCopier {
  static constexpr int kRunRows = KMajor ? 64 : 0;  // run 1 minus run 0, in rows
  static constexpr int kRunK = KMajor ? 0 : 8;      // ... and in k
  int64_t base;  // offset in x of run 0 at k tile 0 (an integer: it may lie outside the matrix)
  int rows_left;  // rows from run 0's first element to the end of the matrix, clamped to [0, 2^30]
  int kk;         // run 0's k within a tile
  int dst;        // run 0's offset in the tile

  __device__ __forceinline__ TileCopier(int64_t ld, int64_t r0, int64_t rows) {
    const int v = threadIdx.x;
    const int r = KMajor ? v / (kBK / 4) : (v % (kTile / 4)) * 4;
    kk = KMajor ? (v % (kBK / 4)) * 4 : v / (kTile / 4);
    dst = KMajor ? r * kLdK + kk : kk * kLdMN + r;
    const int64_t left = rows - (r0 + r);
    rows_left = left <= 0 ? 0 : left >= (1 << 30) ? (1 << 30) : int(left);
    base = KMajor ? (r0 + r) * ld + kk : kk * ld + (r0 + r);
  }

  __device__ __forceinline__ void load(float* tile, const float* x, int64_t ld, int64_t depth, int kt,
                                       bool vec) const {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const int64_t k_left = depth - (int64_t(kt) * kBK + kk + i * kRunK);
      const int r_left = rows_left - i * kRunRows;
      int bytes = 0;
      const float* src = x;  // a valid address even when nothing is read
      if (r_left > 0 && k_left > 0) {
        // The run goes along k (k-major) or along the rows (mn-major); copy the part inside the matrix.
        const int64_t along = KMajor ? k_left : r_left;
        bytes = along >= 4 ? 16 : int(along) * 4;
        src = x + base + (KMajor ? int64_t(kt) * kBK + i * kRunRows * ld : (int64_t(kt) * kBK + i * kRunK) * ld);
      }
      float* d = tile + dst + i * (KMajor ? kRunRows * kLdK : kRunK * kLdMN);
      if (vec) {
        cp_async16(d, src, bytes);
      } else {
#pragma unroll
        for (int q = 0; q < 4; ++q) cp_async4(d + q, q * 4 < bytes ? src + q : x, q * 4 < bytes ? 4 : 0);
      }
    }
  }
};
static_assert(kTile * kBK / 4 == 2 * kThreads, "two runs per thread per tile");

// ---- per-thread math of the tiled kernels ----

// TF32 tensor cores: warp w covers rows 64·(w / 4) + [0, 64) and columns 32·(w % 4) + [0, 32) of the
// block tile. Inside each 8-deep k step, fragment k index t is read from tile column 2t and t + 4 from
// 2t + 1 (for A and B alike, so every product still pairs equal k): the two values a thread needs per
// row are then adjacent, one 64-bit load in the k-major layout.
template <bool TA, bool TB>
struct Tf32Tile {
  static constexpr bool kTransA = TA, kTransB = TB;
  static constexpr int kMinBlocks = 2;
  float acc[4][4][4];  // [m16 tile][n8 tile][fragment]

  __device__ __forceinline__ Tf32Tile() {
#pragma unroll
    for (int i = 0; i < 4; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.0f;
  }

  __device__ __forceinline__ void compute(const float* as, const float* bs) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int wm = (warp >> 2) * 64, wn = (warp & 3) * 32;
#pragma unroll
    for (int ks = 0; ks < kBK; ks += 8) {
      uint32_t a[4][4], b[4][2];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int row = wm + i * 16 + g;
        if (!TA) {
          // Bank of (row, 2t) is 24·g + 2t (mod 32): each half-warp (g < 4 or g ≥ 4) covers 32 banks.
          const float2 lo = *reinterpret_cast<const float2*>(as + row * kLdK + ks + 2 * t);
          const float2 hi = *reinterpret_cast<const float2*>(as + (row + 8) * kLdK + ks + 2 * t);
          a[i][0] = to_tf32(lo.x);
          a[i][1] = to_tf32(hi.x);
          a[i][2] = to_tf32(lo.y);
          a[i][3] = to_tf32(hi.y);
        } else {
          // Bank 8t + g (+ 8 for row + 8, + 4 for k + 1): distinct over the warp.
          const float* s = as + (ks + 2 * t) * kLdMN + row;
          a[i][0] = to_tf32(s[0]);
          a[i][1] = to_tf32(s[8]);
          a[i][2] = to_tf32(s[kLdMN]);
          a[i][3] = to_tf32(s[kLdMN + 8]);
        }
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const int col = wn + j * 8 + g;
        if (TB) {
          const float2 v = *reinterpret_cast<const float2*>(bs + col * kLdK + ks + 2 * t);
          b[j][0] = to_tf32(v.x);
          b[j][1] = to_tf32(v.y);
        } else {
          const float* s = bs + (ks + 2 * t) * kLdMN + col;
          b[j][0] = to_tf32(s[0]);
          b[j][1] = to_tf32(s[kLdMN]);
        }
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) mma_tf32(acc[i][j], a[i], b[j]);
    }
  }

  __device__ __forceinline__ void finish(const Params& p, int64_t row0, int64_t col0) const {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int g = lane >> 2, t = lane & 3;
    const int64_t c = col0 + (warp & 3) * 32 + 2 * t;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {  // fragments 0, 1 are row g; 2, 3 are row g + 8
        const int64_t r = row0 + (warp >> 2) * 64 + i * 16 + h * 8 + g;
        if (r >= p.m) continue;
        float* crow = p.c + r * p.ldc;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          store(p, crow, c + j * 8, acc[i][j][2 * h]);
          store(p, crow, c + j * 8 + 1, acc[i][j][2 * h + 1]);
        }
      }
    }
  }
};

// Exact fp32: thread (ty, tx) of a 16×16 grid (a warp is 4 ty × 8 tx) owns rows row(0..7) and columns
// col(0..7). Which rows depends on the layout so that the shared reads stay 16 bytes wide and
// conflict-free: mn-major tiles give each thread two runs of 4 (ty·4 + [0, 4) and 64 + ty·4 + [0, 4),
// adjacent across the warp); k-major tiles give rows ty + 16i, read 4 k at a time (rows ty·24 (mod 32)
// apart land in different banks for the warp's 4 ty; B's 8 tx collide pairwise, a 2-way conflict).
template <bool TA, bool TB>
struct SimtTile {
  static constexpr bool kTransA = TA, kTransB = TB;
  static constexpr int kMinBlocks = 1;
  float acc[8][8];

  __device__ __forceinline__ SimtTile() {
#pragma unroll
    for (int i = 0; i < 8; ++i)
#pragma unroll
      for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;
  }

  __device__ __forceinline__ static int ty() { return ((threadIdx.x >> 5) >> 1) * 4 + ((threadIdx.x & 31) >> 3); }
  __device__ __forceinline__ static int tx() { return ((threadIdx.x >> 5) & 1) * 8 + (threadIdx.x & 7); }
  __device__ __forceinline__ static int row(int i) { return TA ? ty() * 4 + (i & 3) + 64 * (i >> 2) : ty() + 16 * i; }
  __device__ __forceinline__ static int col(int j) { return TB ? tx() + 16 * j : tx() * 4 + (j & 3) + 64 * (j >> 2); }

  __device__ __forceinline__ void compute(const float* as, const float* bs) {
#pragma unroll
    for (int k4 = 0; k4 < kBK; k4 += 4) {
      float a[4][8], b[4][8];  // [k - k4][row or column]
      if (!TA) {
#pragma unroll
        for (int i = 0; i < 8; ++i) {
          const float4 v = *reinterpret_cast<const float4*>(as + row(i) * kLdK + k4);
          a[0][i] = v.x, a[1][i] = v.y, a[2][i] = v.z, a[3][i] = v.w;
        }
      } else {
#pragma unroll
        for (int q = 0; q < 4; ++q) {  // rows row(0..3) and row(4..7): two 16-byte reads per k
          const float* s = as + (k4 + q) * kLdMN + ty() * 4;
          const float4 lo = *reinterpret_cast<const float4*>(s), hi = *reinterpret_cast<const float4*>(s + 64);
          a[q][0] = lo.x, a[q][1] = lo.y, a[q][2] = lo.z, a[q][3] = lo.w;
          a[q][4] = hi.x, a[q][5] = hi.y, a[q][6] = hi.z, a[q][7] = hi.w;
        }
      }
      if (TB) {
#pragma unroll
        for (int j = 0; j < 8; ++j) {
          const float4 v = *reinterpret_cast<const float4*>(bs + col(j) * kLdK + k4);
          b[0][j] = v.x, b[1][j] = v.y, b[2][j] = v.z, b[3][j] = v.w;
        }
      } else {
#pragma unroll
        for (int q = 0; q < 4; ++q) {
          const float* s = bs + (k4 + q) * kLdMN + tx() * 4;
          const float4 lo = *reinterpret_cast<const float4*>(s), hi = *reinterpret_cast<const float4*>(s + 64);
          b[q][0] = lo.x, b[q][1] = lo.y, b[q][2] = lo.z, b[q][3] = lo.w;
          b[q][4] = hi.x, b[q][5] = hi.y, b[q][6] = hi.z, b[q][7] = hi.w;
        }
      }
#pragma unroll
      for (int q = 0; q < 4; ++q)
#pragma unroll
        for (int i = 0; i < 8; ++i)
#pragma unroll
          for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[q][i], b[q][j], acc[i][j]);
    }
  }

  __device__ __forceinline__ void finish(const Params& p, int64_t row0, int64_t col0) const {
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int64_t r = row0 + row(i);
      if (r >= p.m) continue;
      float* crow = p.c + r * p.ldc;
#pragma unroll
      for (int j = 0; j < 8; ++j) store(p, crow, col0 + col(j), acc[i][j]);
    }
  }
};

// ---- the tiled kernel: a kStages-deep cp.async pipeline over k, shared by both Tile kinds ----

template <class Tile>
__global__ void __launch_bounds__(kThreads, Tile::kMinBlocks) tiled(const Params p) {
  extern __shared__ __align__(16) float smem[];
  // M tiles past grid.y's 65535 continue in z (a loop here instead costs the TF32 kernel its registers).
  const int64_t mt = blockIdx.y + int64_t(blockIdx.z) * gridDim.y;
  if (mt >= p.m_tiles) return;  // the last z slice may be partial; the whole block leaves together
  const int64_t row0 = mt * kTile, col0 = int64_t(blockIdx.x) * kTile;
  const int k_tiles = p.k_tiles;
  const TileCopier<!Tile::kTransA> copy_a(p.lda, row0, p.m);
  const TileCopier<Tile::kTransB> copy_b(p.ldb, col0, p.n);
  const auto load = [&](int kt, int stage) {
    float* s = smem + stage * kStageFloats;
    copy_a.load(s, p.a, p.lda, p.k, kt, p.vec_a);
    copy_b.load(s + kTileFloats, p.b, p.ldb, p.k, kt, p.vec_b);
  };
  // Group g holds k tile g, in stage g % kStages. A group is committed every step, empty or not, so that
  // wait_group's count always means "tile kt has landed".
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < k_tiles) load(s, s);
    cp_async_commit();
  }
  Tile tile;
  int read = 0, write = kStages - 1;  // stages of tile kt and of tile kt + kStages - 1
  for (int kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait<kStages - 2>();  // this thread's copies of tile kt are done...
    __syncthreads();  // ...and everyone's; also everyone has finished reading tile kt - 1, whose stage
                      // is `write`, the one the next load overwrites.
    if (kt + kStages - 1 < k_tiles) load(kt + kStages - 1, write);
    cp_async_commit();
    const float* s = smem + read * kStageFloats;
    tile.compute(s, s + kTileFloats);
    read = read == kStages - 1 ? 0 : read + 1;
    write = write == kStages - 1 ? 0 : write + 1;
  }
  tile.finish(p, row0, col0);
}

// ---- the skinny kernel (M ≤ 16, B stored N×K) ----

constexpr int kSkinnyRows = 16;
constexpr int kSkinnyColsPerWarp = 4;
constexpr int kSkinnyCols = kSkinnyColsPerWarp * kThreads / 32;
constexpr int kSkinnyChunk = 512;  // k per staged slice of A: 16 × 512 floats = 32 KiB
static_assert(kSkinnyChunk % 128 == 0, "a warp reads 128 consecutive k per step");

// B(j, k .. k + 3) of the N×K B, zero outside the matrix.
__device__ __forceinline__ float4 load_b_row4(const Params& p, int64_t j, int64_t k) {
  float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  if (j >= p.n || k >= p.k) return v;
  const float* s = p.b + j * p.ldb + k;
  if (p.vec_b && k + 4 <= p.k) return __ldg(reinterpret_cast<const float4*>(s));
  v.x = __ldg(s);
  if (k + 1 < p.k) v.y = __ldg(s + 1);
  if (k + 2 < p.k) v.z = __ldg(s + 2);
  if (k + 3 < p.k) v.w = __ldg(s + 3);
  return v;
}

template <bool TA>
__global__ void __launch_bounds__(kThreads) skinny(const Params p) {
  __shared__ __align__(16) float a_s[kSkinnyRows * kSkinnyChunk];  // a_s[i·chunk + kk] = A(i, k0 + kk)
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int m = int(p.m);
  const int64_t j0 = int64_t(blockIdx.x) * kSkinnyCols + warp * kSkinnyColsPerWarp;
  float acc[kSkinnyRows][kSkinnyColsPerWarp];
#pragma unroll
  for (int i = 0; i < kSkinnyRows; ++i)
#pragma unroll
    for (int c = 0; c < kSkinnyColsPerWarp; ++c) acc[i][c] = 0.0f;

  for (int64_t k0 = 0; k0 < p.k; k0 += kSkinnyChunk) {
    __syncthreads();  // every warp is done with the previous slice
    // Consecutive threads along A's contiguous dimension: k untransposed, i transposed.
    for (int e = threadIdx.x; e < m * kSkinnyChunk; e += kThreads) {
      const int i = TA ? e % m : e / kSkinnyChunk, kk = TA ? e / m : e % kSkinnyChunk;
      const int64_t k = k0 + kk;
      a_s[i * kSkinnyChunk + kk] = k < p.k ? (TA ? p.a[k * p.lda + i] : p.a[i * p.lda + k]) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int s = 0; s < kSkinnyChunk; s += 128) {
      const int kk = s + lane * 4;
      float4 bv[kSkinnyColsPerWarp];
#pragma unroll
      for (int c = 0; c < kSkinnyColsPerWarp; ++c) bv[c] = load_b_row4(p, j0 + c, k0 + kk);
#pragma unroll
      for (int i = 0; i < kSkinnyRows; ++i) {
        if (i >= m) break;
        const float4 av = *reinterpret_cast<const float4*>(a_s + i * kSkinnyChunk + kk);
#pragma unroll
        for (int c = 0; c < kSkinnyColsPerWarp; ++c) {
          float x = acc[i][c];
          x = fmaf(av.x, bv[c].x, x);
          x = fmaf(av.y, bv[c].y, x);
          x = fmaf(av.z, bv[c].z, x);
          acc[i][c] = fmaf(av.w, bv[c].w, x);
        }
      }
    }
  }
#pragma unroll
  for (int i = 0; i < kSkinnyRows; ++i) {
    if (i >= m) break;  // m is block-uniform: every lane takes part in each warp_sum
#pragma unroll
    for (int c = 0; c < kSkinnyColsPerWarp; ++c) {
      const float v = warp_sum(acc[i][c]);
      if (lane == ((i * kSkinnyColsPerWarp + c) & 31)) store(p, p.c + i * p.ldc, j0 + c, v);
    }
  }
}

// ---- host side ----

// 16-byte copies need a 16-byte aligned base and rows that stay aligned (or a single row).
bool can_vectorise(const float* x, int64_t ld, int64_t stored_rows) {
  return reinterpret_cast<uintptr_t>(x) % 16 == 0 && (ld % 4 == 0 || stored_rows <= 1);
}

template <class Tile>
void launch_tiled(const Params& p) {
  // Above 48 KiB of dynamic shared memory a kernel must opt in, once per process.
  static const bool opted_in = [] {
    check(cudaFuncSetAttribute(tiled<Tile>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes),
          "cudaFuncSetAttribute(matmul_forward)");
    return true;
  }();
  (void)opted_in;
  const int64_t y = p.m_tiles < 65535 ? p.m_tiles : 65535;
  const dim3 grid(unsigned(ceil_div(p.n, kTile)), unsigned(y), unsigned(ceil_div(p.m_tiles, y)));
  tiled<Tile><<<grid, kThreads, kSmemBytes, stream()>>>(p);
  check_launch("matmul_forward");
}

template <template <bool, bool> class Tile>
void dispatch_tiled(const Params& p, bool ta, bool tb) {
  if (ta) {
    tb ? launch_tiled<Tile<true, true>>(p) : launch_tiled<Tile<true, false>>(p);
  } else {
    tb ? launch_tiled<Tile<false, true>>(p) : launch_tiled<Tile<false, false>>(p);
  }
}

}  // namespace

void matmul_forward(const cpu::GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0) return;
  Params p{};
  p.a = g.a, p.b = g.b, p.c = g.c, p.bias = g.bias;
  p.m = g.m, p.n = g.n, p.k = g.k < 0 ? 0 : g.k;
  p.lda = g.lda, p.ldb = g.ldb, p.ldc = g.ldc;
  p.m_tiles = ceil_div(g.m, kTile);
  p.k_tiles = int(ceil_div(p.k, kBK));
  p.accumulate = g.accumulate;
  // Rows as stored: A is M×K or K×M, B is K×N or N×K.
  p.vec_a = can_vectorise(g.a, g.lda, g.trans_a ? p.k : g.m);
  p.vec_b = can_vectorise(g.b, g.ldb, g.trans_b ? g.n : p.k);

  if (g.trans_b && g.m <= kSkinnyRows) {
    const unsigned blocks = unsigned(ceil_div(g.n, kSkinnyCols));
    if (g.trans_a) {
      skinny<true><<<blocks, kThreads, 0, stream()>>>(p);
    } else {
      skinny<false><<<blocks, kThreads, 0, stream()>>>(p);
    }
    check_launch("matmul_forward");
    return;
  }
  if (tf32_enabled()) {
    dispatch_tiled<Tf32Tile>(p, g.trans_a, g.trans_b);
  } else {
    dispatch_tiled<SimtTile>(p, g.trans_a, g.trans_b);
  }
}

}  // namespace nf::cuda
