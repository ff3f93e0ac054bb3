// Fused scaled dot-product attention on the GPU: the launchers attention_forward and attention_backward of
// kernels.h, with the semantics of native/kernels/attention.h (masks, empty rows, what is saved).
//
// Shapes (contiguous, device pointers): q, out, dout, dq [B, H, Lq, D]; k, v, dk, dv [B, H, Lk, D];
// lse [B, H, Lq]. kv_lengths is a HOST array [B] (or null); each launcher copies it to device scratch.
// Query row i of batch b sees keys j < limit = min(kv_lengths[b], causal ? i + (Lk − Lq) + 1 : Lk); a row
// with limit ≤ 0 gets out = 0 and lse = −inf.
//
// Forward saves lse (the natural-log logsumexp of each row's scaled, masked scores); the backward reads q,
// k, v, out, dout and lse, recomputes P = exp(S − lse) tile by tile and assigns dq, dk, dv.
//
// Math: with tf32_enabled(), Q·Kᵀ, P·V and the backward's five products run on TF32 tensor cores
// (mma.sync m16n8k8, operands rounded to nearest with cvt.rna). Otherwise the same kernels run the 3xTF32
// split (a = hi + lo, both TF32; acc += lo·hi + hi·lo + hi·hi): products good to about 2⁻²¹ relative, close
// to fp32 FMA, at 3× the tensor work (the scheme of CUTLASS's OpMultiplyAddFastF32, which PyTorch's
// memory-efficient attention uses for fp32). Softmax, masks and every accumulator are fp32; scores are pre-scaled by
// log2(e) so the online softmax uses exp2f.
//
// Kernels and launch geometry (128 threads = 4 warps everywhere; D is padded with zeros in shared memory to
// DP ∈ {32, 64, 128}, the template parameter, so one D-independent kernel serves each range):
//
// forward_kernel<DP, EXACT>: grid (ceil(Lq/64) query tiles, B·H folded into y and z ≤ 65535). A CTA owns 64
//   query rows of one (b, h), 16 per warp (the m16 of the MMA), and walks key tiles of BK = 64 keys (32
//   when DP = 128, to keep the CTA at 77 KB so two fit per SM on sm_80/sm_90) up to the largest limit of
//   its rows: masked tiles are never loaded. Shared memory: Q [64][DP+4], K [BK][DP+4], V [BK][DP+8] and
//   P [64][BK+4]: the pads make every fragment load bank-conflict free (row-g/col-t reads want a stride ≡ 4
//   mod 32, row-t/col-g reads ≡ 8). 46 / 71 / 77 KB for DP = 32 / 64 / 128. K(j+1) is fetched with
//   cp.async while the softmax and P·V(j) run, and V(j+1) while Q·Kᵀ(j+1) runs. S stays in registers
//   (accumulator layout); P goes through the warp's own rows of the P buffer because the accumulator layout
//   is not the A-operand layout. Causal grids run the heaviest (last) query tiles first.
//
// decode_kernel<NU> + combine_kernel (Lq ≤ 4, decoding with a KV cache): split-KV in fp32 SIMT, memory
//   bound. grid (splits, B·H folded); a CTA takes a chunk of keys of one (b, h); each warp walks keys 4 at a
//   time with lanes over D (coalesced rows of K and V), keeps (max, sum, acc) per query row, the 4 warps
//   merge in shared memory (≤ 8 KB), and the CTA writes out/lse directly (one split) or a partial (max,
//   sum, acc) that combine_kernel (one warp per row) merges. Splits: enough CTAs for 8 per SM, at least
//   256 keys each.
//
// backward: backward_prep_kernel (one warp per row) writes Δᵢ = Σ_d dout∘out and lse·log2(e) (+inf for
//   empty rows, so exp2 gives P = 0 without a NaN), dq is zeroed, then backward_kernel<DP, BQ, EXACT>,
//   FlashAttention-2 style: grid (ceil(Lk/64) key tiles, B·H folded). A CTA owns 64 keys, 16 per warp,
//   keeps dK and dV for them in registers and walks the query tiles of BQ rows that can see them (causal:
//   from row k0 − (Lk − Lq) on). Per query tile, each warp computes Sᵀ = K_w Qᵀ and dPᵀ = V_w dOᵀ
//   (16 × BQ, registers), P and dS = P∘(dP − Δ), stages Pᵀ then dSᵀ in its rows of a [64][BQ+4] buffer for
//   dV += Pᵀ dO and dK += dSᵀ Q, and after a barrier the CTA computes dQ = dS K for the tile and adds it
//   to dq with atomicAdd (fp32; the order of the adds varies, so dq is not bit-reproducible run to run;
//   dk and dv are). Shared memory: K [64][DP+8], V [64][DP+4], Q and dO [BQ][DP+4], dSᵀ [64][BQ+4], lse
//   and Δ [BQ] (K, Q, dO and dSᵀ are each read in both orientations, so one of the two sees 2-way bank
//   conflicts; K's stride favours its more frequent use, dQ's B operand): BQ = 64 for DP ≤ 64 (56 / 89 KB); DP = 128 uses BQ = 16 (91 KB: 32 rows would need 112 KB,
//   over the 99 KB a block may have on sm_86/89), its four warps splitting the dQ tile's columns. The next
//   Q/dO tile is fetched with cp.async while dQ is computed.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "common.cuh"
#include "ptx.cuh"
#include "kernels.h"

namespace nf::cuda {
namespace {

constexpr int kThreads = 128;  // 4 warps per CTA in every kernel here
constexpr int kWarps = kThreads / 32;
constexpr int kMaxDecodeRows = 4;  // Lq at or below this takes the split-KV decode path
constexpr int kMaxD = 128;
constexpr int64_t kMaxLength = int64_t(1) << 30;  // keeps i + (Lk − Lq) + 1 + a tile inside int
constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

// ---------------------------------------------------------------------------------------------------------
// Operand fragments. In TF32 mode shared memory already holds TF32-rounded values (round_tile, or rounded
// when staged), so a fragment is the raw bits. In exact mode it is split into hi = tf32(x) and
// lo = tf32(x − hi) (x − hi is exact in fp32), and mma() issues the three products that matter.

template <bool EXACT, int N>
struct Frag {
  uint32_t hi[N];
  uint32_t lo[N];  // exact mode only
};

template <bool EXACT, int N>
__device__ __forceinline__ Frag<EXACT, N> make_frag(const float (&x)[N]) {
  Frag<EXACT, N> f;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    if constexpr (EXACT) {
      f.hi[i] = to_tf32(x[i]);
      f.lo[i] = to_tf32(x[i] - __uint_as_float(f.hi[i]));
    } else {
      f.hi[i] = __float_as_uint(x[i]);
    }
  }
  return f;
}

template <bool EXACT>
__device__ __forceinline__ void mma(float (&c)[4], const Frag<EXACT, 4>& a, const Frag<EXACT, 2>& b) {
  if constexpr (EXACT) {  // small terms first; lo·lo (≈ 2⁻²² relative) is dropped
    mma_tf32(c, a.lo, b.hi);
    mma_tf32(c, a.hi, b.lo);
  }
  mma_tf32(c, a.hi, b.hi);
}

// g = lane >> 2, t = lane & 3 below. "mk": element (m, k) of the 16×8 A tile at s[(m0 + m)·ld + k0 + k]
// (row-major); "km": at s[(k0 + k)·ld + m0 + m] (stored transposed). Same for B (k × n): "nk" stores
// element (k, n) at s[(n0 + n)·ld + k0 + k], "kn" at s[(k0 + k)·ld + n0 + n].
template <bool EXACT>
__device__ __forceinline__ Frag<EXACT, 4> frag_a_mk(const float* s, int ld, int m0, int k0, int g, int t) {
  const float* p = s + (m0 + g) * ld + k0 + t;
  const float x[4] = {p[0], p[8 * ld], p[4], p[8 * ld + 4]};  // (g, t), (g+8, t), (g, t+4), (g+8, t+4)
  return make_frag<EXACT>(x);
}

template <bool EXACT>
__device__ __forceinline__ Frag<EXACT, 4> frag_a_km(const float* s, int ld, int m0, int k0, int g, int t) {
  const float* p = s + (k0 + t) * ld + m0 + g;
  const float x[4] = {p[0], p[8], p[4 * ld], p[4 * ld + 8]};  // (g, t), (g+8, t), (g, t+4), (g+8, t+4)
  return make_frag<EXACT>(x);
}

template <bool EXACT>
__device__ __forceinline__ Frag<EXACT, 2> frag_b_nk(const float* s, int ld, int n0, int k0, int g, int t) {
  const float* p = s + (n0 + g) * ld + k0 + t;
  const float x[2] = {p[0], p[4]};  // (k = t, n = g), (k = t+4, n = g)
  return make_frag<EXACT>(x);
}

template <bool EXACT>
__device__ __forceinline__ Frag<EXACT, 2> frag_b_kn(const float* s, int ld, int n0, int k0, int g, int t) {
  const float* p = s + (k0 + t) * ld + n0 + g;
  const float x[2] = {p[0], p[4 * ld]};
  return make_frag<EXACT>(x);
}

// ---------------------------------------------------------------------------------------------------------
// Tiles: global rows → shared memory, zero-filled past `valid` rows and past column d up to DP (so padded
// products add zeros and no stale NaN can reach a sum). vec: 16-byte copies (d % 4 == 0 and the tensor
// 16-byte aligned), else 4-byte copies. src is the tile's first row and valid ≥ 1, so it is a valid address
// for the zero-fill copies too.
template <int ROWS, int DP, int LD>
__device__ __forceinline__ void load_tile(float* s, const float* src, int valid, int d, bool vec) {
  if (vec) {
    constexpr int kChunks = DP / 4;
    for (int c = threadIdx.x; c < ROWS * kChunks; c += kThreads) {
      const int r = c / kChunks, col = c % kChunks * 4;
      const bool ok = r < valid && col < d;
      cp_async16(s + r * LD + col, ok ? src + int64_t(r) * d + col : src, ok ? 16 : 0);
    }
  } else {
    for (int e = threadIdx.x; e < ROWS * DP; e += kThreads) {
      const int r = e / DP, col = e % DP;
      const bool ok = r < valid && col < d;
      cp_async4(s + r * LD + col, ok ? src + int64_t(r) * d + col : src, ok ? 4 : 0);
    }
  }
}

// Rounds to TF32, in place, the elements this thread copied in load_tile (same iteration), which its own
// cp.async.wait_group has made visible to it: no barrier is needed before, one is after.
template <int ROWS, int DP, int LD>
__device__ __forceinline__ void round_tile(float* s, bool vec) {
  if (vec) {
    constexpr int kChunks = DP / 4;
    for (int c = threadIdx.x; c < ROWS * kChunks; c += kThreads) {
      float4* p = reinterpret_cast<float4*>(s + c / kChunks * LD + c % kChunks * 4);
      float4 x = *p;
      x.x = round_tf32(x.x), x.y = round_tf32(x.y), x.z = round_tf32(x.z), x.w = round_tf32(x.w);
      *p = x;
    }
  } else {
    for (int e = threadIdx.x; e < ROWS * DP; e += kThreads) {
      float* p = s + e / DP * LD + e % DP;
      *p = round_tf32(*p);
    }
  }
}

// The keys [0, limit(i)) that query row i of one batch entry sees (attention_limit of attention.h, with
// kv_lengths already on the device and clamped to [0, Lk]).
struct Limits {
  int kv_len, offset;
  bool causal;
  __device__ Limits(const int32_t* kv, int64_t b, int lq, int lk, bool causal_)
      : kv_len(kv ? min(max(kv[b], 0), lk) : lk), offset(lk - lq), causal(causal_) {}
  __device__ int operator()(int i) const { return causal ? min(kv_len, i + offset + 1) : kv_len; }
};

// (b, h) of this CTA from grid y and z (B·H may exceed 65535, the limit of each).
__device__ __forceinline__ int64_t block_head() { return blockIdx.y + int64_t(blockIdx.z) * gridDim.y; }

// ---------------------------------------------------------------------------------------------------------
// Forward (tensor cores)

struct FwdParams {
  const float *q, *k, *v;
  float *out, *lse;
  const int32_t* kv;  // device copy of kv_lengths, or null
  int64_t bh;
  int heads, lq, lk, d;
  bool causal, vec;
  float sc2;  // scale · log2(e)
};

template <int DP>
struct FwdTile {
  static constexpr int kBq = 64, kBk = DP == 128 ? 32 : 64;
  static constexpr int kQld = DP + 4, kKld = DP + 4, kVld = DP + 8, kPld = kBk + 4;
  static constexpr size_t kBytes = sizeof(float) * (kBq * kQld + kBk * kKld + kBk * kVld + kBq * kPld);
};

template <int DP, bool EXACT>
__global__ void __launch_bounds__(kThreads) forward_kernel(const FwdParams p) {
  using T = FwdTile<DP>;
  constexpr int BQ = T::kBq, BK = T::kBk, QLD = T::kQld, KLD = T::kKld, VLD = T::kVld, PLD = T::kPld;
  constexpr int ND8 = DP / 8, NK8 = BK / 8;
  static_assert(BQ == 16 * kWarps, "one 16-row MMA slice per warp");
  extern __shared__ float4 smem4[];
  float* const qs = reinterpret_cast<float*>(smem4);
  float* const ks = qs + BQ * QLD;
  float* const vs = ks + BK * KLD;
  float* const ps = vs + BK * VLD;

  const int64_t bh = block_head();
  if (bh >= p.bh) return;
  const int tile = p.causal ? int(gridDim.x - 1 - blockIdx.x) : int(blockIdx.x);
  const int d = p.d, i0 = tile * BQ, rows = min(BQ, p.lq - i0);
  const Limits limit(p.kv, bh / p.heads, p.lq, p.lk, p.causal);
  const int kv_end = limit(i0 + rows - 1);  // the tile's last row sees the most keys
  const int kv_min = limit(i0);             // and its first the fewest: tiles past it need the mask
  const int ntiles = kv_end > 0 ? (kv_end + BK - 1) / BK : 0;
  const float* const q = p.q + (bh * p.lq + i0) * d;
  const float* const k = p.k + bh * p.lk * d;
  const float* const v = p.v + bh * p.lk * d;

  // Groups in commit order: {Q, K0}, {V0}, then per tile j: {K(j+1)}, {V(j+1)} (empty at the end), so
  // "wait until one group is left" always means the group needed next has landed.
  load_tile<BQ, DP, QLD>(qs, q, rows, d, p.vec);
  if (ntiles > 0) load_tile<BK, DP, KLD>(ks, k, min(BK, kv_end), d, p.vec);
  cp_async_commit();
  if (ntiles > 0) load_tile<BK, DP, VLD>(vs, v, min(BK, kv_end), d, p.vec);
  cp_async_commit();

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int wrow = warp * 16;  // the warp's rows in the tile; this thread's are wrow + g and wrow + g + 8
  const int row0 = i0 + wrow + g;
  // Keys any row of this warp sees (0 for a warp wholly past Lq): the warp skips the rest of the work.
  const int warp_end = i0 + wrow < p.lq ? limit(min(i0 + wrow + 15, p.lq - 1)) : 0;
  const int lim[2] = {limit(row0), limit(row0 + 8)};

  float o[ND8][4] = {};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // running max (log2 units), partial sums

  for (int j = 0; j < ntiles; ++j) {
    const int j0 = j * BK;
    const int wkeys = warp_end - j0;  // keys of this tile the warp's rows can see
    const bool live = wkeys > 0;
    cp_async_wait<1>();
    if constexpr (!EXACT) {
      if (j == 0) round_tile<BQ, DP, QLD>(qs, p.vec);
      round_tile<BK, DP, KLD>(ks, p.vec);
    }
    __syncthreads();  // Q and K(j) visible to all

    float s[NK8][4] = {};
    if (live) {
#pragma unroll
      for (int kk = 0; kk < ND8; ++kk) {
        if (kk * 8 >= d) break;  // all-zero padding
        const Frag<EXACT, 4> a = frag_a_mk<EXACT>(qs, QLD, wrow, kk * 8, g, t);
#pragma unroll
        for (int n = 0; n < NK8; ++n)
          if (n * 8 < wkeys) mma<EXACT>(s[n], a, frag_b_nk<EXACT>(ks, KLD, n * 8, kk * 8, g, t));
      }
    }
    __syncthreads();  // every warp is done with K(j)
    if (j + 1 < ntiles) load_tile<BK, DP, KLD>(ks, k + int64_t(j0 + BK) * d, min(BK, kv_end - j0 - BK), d, p.vec);
    cp_async_commit();

    if (live) {
      // Online softmax on the accumulator layout: s[n][e] is row wrow + g + 8·(e >> 1), key
      // j0 + 8n + 2t + (e & 1). A row's 16·NK8/8 values are spread over the 4 lanes with the same g.
      const bool need_mask = j0 + BK > kv_min;
      float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int n = 0; n < NK8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          float x = s[n][e] * p.sc2;
          if (need_mask && j0 + n * 8 + 2 * t + (e & 1) >= lim[e >> 1]) x = -INFINITY;
          s[n][e] = x;
          mx[e >> 1] = fmaxf(mx[e >> 1], x);
        }
      float alpha[2], base[2];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 1));
        mx[h] = fmaxf(mx[h], __shfl_xor_sync(0xffffffffu, mx[h], 2));
        const float m_new = fmaxf(m[h], mx[h]);
        // While a row has seen no key, m_new is −inf: subtracting 0 instead keeps exp2(−inf − ·) = 0
        // rather than NaN; alpha is then 0 and the row's o and l stay 0.
        base[h] = m_new == -INFINITY ? 0.0f : m_new;
        alpha[h] = exp2f(m[h] - base[h]);
        m[h] = m_new;
      }
      float sum[2] = {0.0f, 0.0f};
#pragma unroll
      for (int n = 0; n < NK8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const float pe = exp2f(s[n][e] - base[e >> 1]);
          sum[e >> 1] += pe;
          s[n][e] = EXACT ? pe : round_tf32(pe);
        }
      l[0] = l[0] * alpha[0] + sum[0];
      l[1] = l[1] * alpha[1] + sum[1];
#pragma unroll
      for (int n = 0; n < ND8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) o[n][e] *= alpha[e >> 1];
      // P to the warp's own rows of the P buffer (only this warp reads them).
#pragma unroll
      for (int n = 0; n < NK8; ++n) {
        *reinterpret_cast<float2*>(ps + (wrow + g) * PLD + n * 8 + 2 * t) = make_float2(s[n][0], s[n][1]);
        *reinterpret_cast<float2*>(ps + (wrow + g + 8) * PLD + n * 8 + 2 * t) = make_float2(s[n][2], s[n][3]);
      }
    }

    cp_async_wait<1>();
    if constexpr (!EXACT) round_tile<BK, DP, VLD>(vs, p.vec);
    __syncthreads();  // V(j) visible to all; P written
    if (live) {
#pragma unroll
      for (int kk = 0; kk < NK8; ++kk) {
        if (kk * 8 >= wkeys) break;  // P is 0 past the warp's keys
        const Frag<EXACT, 4> a = frag_a_mk<EXACT>(ps, PLD, wrow, kk * 8, g, t);
#pragma unroll
        for (int n = 0; n < ND8; ++n) {
          if (n * 8 >= d) break;
          mma<EXACT>(o[n], a, frag_b_kn<EXACT>(vs, VLD, n * 8, kk * 8, g, t));
        }
      }
    }
    __syncthreads();  // every warp is done with V(j) and its P rows
    if (j + 1 < ntiles) load_tile<BK, DP, VLD>(vs, v + int64_t(j0 + BK) * d, min(BK, kv_end - j0 - BK), d, p.vec);
    cp_async_commit();
  }
  cp_async_wait<0>();

#pragma unroll
  for (int h = 0; h < 2; ++h) {
    l[h] += __shfl_xor_sync(0xffffffffu, l[h], 1);
    l[h] += __shfl_xor_sync(0xffffffffu, l[h], 2);
  }
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int i = row0 + 8 * h;
    if (i >= p.lq) continue;
    const bool seen = l[h] > 0.0f;  // false exactly for rows with no visible key
    const float inv = seen ? 1.0f / l[h] : 0.0f;
    float* const orow = p.out + (bh * p.lq + i) * d;
#pragma unroll
    for (int n = 0; n < ND8; ++n) {
      const int c = n * 8 + 2 * t;
      if (c < d) orow[c] = o[n][2 * h] * inv;
      if (c + 1 < d) orow[c + 1] = o[n][2 * h + 1] * inv;
    }
    if (t == 0) p.lse[bh * p.lq + i] = seen ? m[h] * kLn2 + logf(l[h]) : -INFINITY;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Decode (Lq ≤ 4): split-KV, fp32 SIMT

struct DecodeParams {
  const float *q, *k, *v;
  float *out, *lse;        // written when splits == 1
  float *pm, *pl, *pacc;   // partials [B·H][splits][Lq] (max, sum) and [..][D] (acc), when splits > 1
  const int32_t* kv;
  int64_t bh;
  int heads, lq, lk, d, splits, chunk;
  bool causal;
  float sc2;
};

template <int NU>  // each lane holds dims lane + 32u, u < NU (D ≤ 32·NU)
__global__ void __launch_bounds__(kThreads) decode_kernel(const DecodeParams p) {
  constexpr int R = kMaxDecodeRows, KU = 4;  // KU keys per warp step: independent loads in flight
  static_assert(kWarps == R, "the merge gives one warp to each query row");
  __shared__ float sm_m[kWarps][R], sm_l[kWarps][R];
  __shared__ float sm_o[kWarps][R][32 * NU];

  const int64_t bh = block_head();
  if (bh >= p.bh) return;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, d = p.d;
  const Limits limit(p.kv, bh / p.heads, p.lq, p.lk, p.causal);
  const int ks = blockIdx.x * p.chunk, ke = min(p.lk, ks + p.chunk);
  int lim[R], kend = ks;
#pragma unroll
  for (int r = 0; r < R; ++r) {
    lim[r] = r < p.lq ? min(limit(r), ke) : 0;
    kend = max(kend, lim[r]);
  }
  float qv[R][NU], acc[R][NU], m[R], l[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    m[r] = -INFINITY, l[r] = 0.0f;
#pragma unroll
    for (int u = 0; u < NU; ++u) {
      const int di = lane + 32 * u;
      qv[r][u] = r < p.lq && di < d ? p.q[(bh * p.lq + r) * d + di] * p.sc2 : 0.0f;
      acc[r][u] = 0.0f;
    }
  }
  const float* const k = p.k + bh * p.lk * d;
  const float* const v = p.v + bh * p.lk * d;

  for (int key0 = ks + warp * KU; key0 < kend; key0 += kWarps * KU) {
    float kr[KU][NU], vr[KU][NU];
#pragma unroll
    for (int x = 0; x < KU; ++x)
#pragma unroll
      for (int u = 0; u < NU; ++u) {
        const int key = key0 + x, di = lane + 32 * u;
        const bool ok = key < kend && di < d;
        kr[x][u] = ok ? k[int64_t(key) * d + di] : 0.0f;
        vr[x][u] = ok ? v[int64_t(key) * d + di] : 0.0f;
      }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (r >= p.lq) break;
      float sc[KU], mx = -INFINITY;
#pragma unroll
      for (int x = 0; x < KU; ++x) {
        float part = 0.0f;
#pragma unroll
        for (int u = 0; u < NU; ++u) part = fmaf(qv[r][u], kr[x][u], part);
        part = warp_sum(part);
        sc[x] = key0 + x < lim[r] ? part : -INFINITY;
        mx = fmaxf(mx, sc[x]);
      }
      const float m_new = fmaxf(m[r], mx);
      const float base = m_new == -INFINITY ? 0.0f : m_new;  // no −inf − −inf (see forward_kernel)
      const float alpha = exp2f(m[r] - base);
      float psum = 0.0f;
#pragma unroll
      for (int u = 0; u < NU; ++u) acc[r][u] *= alpha;
#pragma unroll
      for (int x = 0; x < KU; ++x) {
        const float pe = exp2f(sc[x] - base);
        psum += pe;
#pragma unroll
        for (int u = 0; u < NU; ++u) acc[r][u] = fmaf(pe, vr[x][u], acc[r][u]);
      }
      l[r] = l[r] * alpha + psum;
      m[r] = m_new;
    }
  }

  // Merge the warps' states: warp r takes query row r.
#pragma unroll
  for (int r = 0; r < R; ++r) {
    if (lane == 0) sm_m[warp][r] = m[r], sm_l[warp][r] = l[r];
#pragma unroll
    for (int u = 0; u < NU; ++u) sm_o[warp][r][lane + 32 * u] = acc[r][u];
  }
  __syncthreads();
  const int r = warp;
  if (r >= p.lq) return;
  float mm = -INFINITY;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) mm = fmaxf(mm, sm_m[w][r]);
  float wt[kWarps], ll = 0.0f;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) {
    wt[w] = sm_m[w][r] == -INFINITY ? 0.0f : exp2f(sm_m[w][r] - mm);
    ll += sm_l[w][r] * wt[w];
  }
  const int64_t row = bh * p.lq + r;
  const int64_t part = (bh * p.splits + blockIdx.x) * p.lq + r;
  const float inv = ll > 0.0f ? 1.0f / ll : 0.0f;
#pragma unroll
  for (int u = 0; u < NU; ++u) {
    const int di = lane + 32 * u;
    if (di >= d) break;
    float o = 0.0f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) o = fmaf(wt[w], sm_o[w][r][di], o);
    if (p.splits == 1)
      p.out[row * d + di] = o * inv;
    else
      p.pacc[part * d + di] = o;
  }
  if (lane == 0) {
    if (p.splits == 1) {
      p.lse[row] = ll > 0.0f ? mm * kLn2 + logf(ll) : -INFINITY;
    } else {
      p.pm[part] = mm;
      p.pl[part] = ll;
    }
  }
}

// Merges the splits' partials of each row (one warp per row): out = Σ w_s acc_s / Σ w_s l_s with
// w_s = 2^(m_s − max m); a row no split saw gets 0 and −inf.
__global__ void __launch_bounds__(kThreads) combine_kernel(const DecodeParams p) {
  const int lane = threadIdx.x & 31, d = p.d, splits = p.splits;
  const int64_t rows = p.bh * p.lq, stride = int64_t(gridDim.x) * kWarps;
  for (int64_t row = int64_t(blockIdx.x) * kWarps + (threadIdx.x >> 5); row < rows; row += stride) {
    const int64_t bh = row / p.lq;
    const int r = int(row % p.lq);
    const int64_t first = bh * splits * p.lq + r;  // split s at first + s·Lq
    float mm = -INFINITY;
    for (int s = lane; s < splits; s += 32) mm = fmaxf(mm, p.pm[first + int64_t(s) * p.lq]);
    mm = warp_max(mm);
    float ll = 0.0f;
    for (int s = lane; s < splits; s += 32) {
      const float ms = p.pm[first + int64_t(s) * p.lq];
      if (ms != -INFINITY) ll += p.pl[first + int64_t(s) * p.lq] * exp2f(ms - mm);
    }
    ll = warp_sum(ll);
    const float inv = ll > 0.0f ? 1.0f / ll : 0.0f;
    for (int di = lane; di < d; di += 32) {
      float o = 0.0f;
      for (int s = 0; s < splits; ++s) {
        const int64_t part = first + int64_t(s) * p.lq;
        const float ms = p.pm[part];
        if (ms != -INFINITY) o = fmaf(exp2f(ms - mm), p.pacc[part * d + di], o);
      }
      p.out[row * d + di] = o * inv;
    }
    if (lane == 0) p.lse[row] = ll > 0.0f ? mm * kLn2 + logf(ll) : -INFINITY;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Backward

// Δ = Σ_d dout∘out per row, and lse in log2 units with +inf for empty rows (so that exp2(s − lse2) = 0).
__global__ void __launch_bounds__(kThreads) backward_prep_kernel(const float* out, const float* dout,
                                                                 const float* lse, float* delta, float* lse2,
                                                                 int64_t rows, int d) {
  const int lane = threadIdx.x & 31;
  const int64_t stride = int64_t(gridDim.x) * kWarps;
  for (int64_t row = int64_t(blockIdx.x) * kWarps + (threadIdx.x >> 5); row < rows; row += stride) {
    float s = 0.0f;
    for (int c = lane; c < d; c += 32) s = fmaf(out[row * d + c], dout[row * d + c], s);
    s = warp_sum(s);
    if (lane == 0) {
      delta[row] = s;
      lse2[row] = lse[row] == -INFINITY ? INFINITY : lse[row] * kLog2e;
    }
  }
}

struct BwdParams {
  const float *q, *k, *v, *dout, *delta, *lse2;
  float *dq, *dk, *dv;  // dq zeroed beforehand, accumulated with atomicAdd
  const int32_t* kv;
  int64_t bh;
  int heads, lq, lk, d;
  bool causal, vec;
  float scale, sc2;
};

template <int DP, int BQ>
struct BwdTile {
  static constexpr int kBk = 64;
  static constexpr int kKld = DP + 8, kVld = DP + 4, kQld = DP + 4, kOld = DP + 4, kTld = BQ + 4;
  static constexpr size_t kBytes =
      sizeof(float) * (kBk * kKld + kBk * kVld + BQ * kQld + BQ * kOld + kBk * kTld + 2 * BQ);
};

template <int DP, int BQ, bool EXACT>
__global__ void __launch_bounds__(kThreads) backward_kernel(const BwdParams p) {
  using T = BwdTile<DP, BQ>;
  constexpr int BK = T::kBk, KLD = T::kKld, VLD = T::kVld, QLD = T::kQld, OLD = T::kOld, TLD = T::kTld;
  constexpr int ND8 = DP / 8, NQ8 = BQ / 8, NK8 = BK / 8;
  // dQ tile [BQ × DP]: BQ/16 row slices, each shared by kWarps/(BQ/16) warps that split its n-tiles.
  constexpr int kSlices = BQ / 16, kSplit = kWarps / kSlices, NQN = ND8 / kSplit;
  static_assert(BK == 16 * kWarps && kWarps % kSlices == 0 && ND8 % kSplit == 0, "tile shape");
  extern __shared__ float4 smem4[];
  float* const ks = reinterpret_cast<float*>(smem4);
  float* const vs = ks + BK * KLD;
  float* const qs = vs + BK * VLD;
  float* const os = qs + BQ * QLD;
  float* const ts = os + BQ * OLD;  // Pᵀ, then dSᵀ: [key][query]
  float* const lse_s = ts + BK * TLD;
  float* const delta_s = lse_s + BQ;

  const int64_t bh = block_head();
  if (bh >= p.bh) return;
  const int d = p.d, k0 = blockIdx.x * BK;
  const Limits limit(p.kv, bh / p.heads, p.lq, p.lk, p.causal);
  const int kvis = min(BK, limit.kv_len - k0);  // keys of this tile any row may see
  // Causal: row i sees key k0 only if i ≥ k0 − (Lk − Lq); earlier query tiles are skipped.
  const int first_row = p.causal ? max(0, k0 - limit.offset) : 0;
  const int qt_begin = first_row / BQ, qt_end = (p.lq + BQ - 1) / BQ;
  const float* const q = p.q + bh * p.lq * d;
  const float* const go = p.dout + bh * p.lq * d;

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
  const int wkey = warp * 16;  // the warp's keys in the tile; this thread's are wkey + g and wkey + g + 8
  const int key[2] = {k0 + wkey + g, k0 + wkey + g + 8};
  float dk[ND8][4] = {}, dv[ND8][4] = {};

  const auto load_query_tile = [&](int qt) {
    const int i0 = qt * BQ, n = min(BQ, p.lq - i0);
    load_tile<BQ, DP, QLD>(qs, q + int64_t(i0) * d, n, d, p.vec);
    load_tile<BQ, DP, OLD>(os, go + int64_t(i0) * d, n, d, p.vec);
    if (threadIdx.x < BQ) {
      const int i = i0 + threadIdx.x;
      lse_s[threadIdx.x] = i < p.lq ? p.lse2[bh * p.lq + i] : INFINITY;
      delta_s[threadIdx.x] = i < p.lq ? p.delta[bh * p.lq + i] : 0.0f;
    }
  };

  if (kvis > 0 && qt_begin < qt_end) {
    load_tile<BK, DP, KLD>(ks, p.k + (bh * p.lk + k0) * d, kvis, d, p.vec);
    load_tile<BK, DP, VLD>(vs, p.v + (bh * p.lk + k0) * d, kvis, d, p.vec);
    load_query_tile(qt_begin);
    cp_async_commit();

    for (int qt = qt_begin; qt < qt_end; ++qt) {
      const int i0 = qt * BQ;
      cp_async_wait<0>();
      if constexpr (!EXACT) {
        if (qt == qt_begin) {
          round_tile<BK, DP, KLD>(ks, p.vec);
          round_tile<BK, DP, VLD>(vs, p.vec);
        }
        round_tile<BQ, DP, QLD>(qs, p.vec);
        round_tile<BQ, DP, OLD>(os, p.vec);
      }
      __syncthreads();  // Q, dO, lse, Δ (and K, V) visible; every warp is done with the last tile's dSᵀ

      // Sᵀ = K_w Qᵀ and dPᵀ = V_w dOᵀ: element e of n-tile n is key wkey + g + 8·(e >> 1), query
      // i0 + 8n + 2t + (e & 1).
      float st[NQ8][4] = {}, dpt[NQ8][4] = {};
#pragma unroll
      for (int kk = 0; kk < ND8; ++kk) {
        if (kk * 8 >= d) break;
        const Frag<EXACT, 4> ak = frag_a_mk<EXACT>(ks, KLD, wkey, kk * 8, g, t);
        const Frag<EXACT, 4> av = frag_a_mk<EXACT>(vs, VLD, wkey, kk * 8, g, t);
#pragma unroll
        for (int n = 0; n < NQ8; ++n) {
          mma<EXACT>(st[n], ak, frag_b_nk<EXACT>(qs, QLD, n * 8, kk * 8, g, t));
          mma<EXACT>(dpt[n], av, frag_b_nk<EXACT>(os, OLD, n * 8, kk * 8, g, t));
        }
      }
      // P = exp2(S·scale·log2e − lse2) where visible, else 0; dS = P ∘ (dP − Δ) (scale applied at the end).
      // Rows past Lq count as seeing nothing.
      const int min_limit = i0 + BQ > p.lq ? 0 : limit(i0);
      const bool need_mask = k0 + BK > min_limit;
#pragma unroll
      for (int n = 0; n < NQ8; ++n)
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int c = n * 8 + 2 * t + (e & 1);
          const bool visible = !need_mask || (i0 + c < p.lq && key[e >> 1] < limit(i0 + c));
          const float pe = visible ? exp2f(st[n][e] * p.sc2 - lse_s[c]) : 0.0f;
          const float ds = pe * (dpt[n][e] - delta_s[c]);
          st[n][e] = EXACT ? pe : round_tf32(pe);
          dpt[n][e] = EXACT ? ds : round_tf32(ds);
        }

      // dV += Pᵀ dO, through the warp's own rows of ts.
#pragma unroll
      for (int n = 0; n < NQ8; ++n) {
        *reinterpret_cast<float2*>(ts + (wkey + g) * TLD + n * 8 + 2 * t) = make_float2(st[n][0], st[n][1]);
        *reinterpret_cast<float2*>(ts + (wkey + g + 8) * TLD + n * 8 + 2 * t) = make_float2(st[n][2], st[n][3]);
      }
      __syncwarp();
#pragma unroll
      for (int kk = 0; kk < NQ8; ++kk) {
        const Frag<EXACT, 4> a = frag_a_mk<EXACT>(ts, TLD, wkey, kk * 8, g, t);
#pragma unroll
        for (int n = 0; n < ND8; ++n) {
          if (n * 8 >= d) break;
          mma<EXACT>(dv[n], a, frag_b_kn<EXACT>(os, OLD, n * 8, kk * 8, g, t));
        }
      }
      __syncwarp();  // the warp is done reading its Pᵀ rows
      // dK += dSᵀ Q, the same way.
#pragma unroll
      for (int n = 0; n < NQ8; ++n) {
        *reinterpret_cast<float2*>(ts + (wkey + g) * TLD + n * 8 + 2 * t) = make_float2(dpt[n][0], dpt[n][1]);
        *reinterpret_cast<float2*>(ts + (wkey + g + 8) * TLD + n * 8 + 2 * t) = make_float2(dpt[n][2], dpt[n][3]);
      }
      __syncwarp();
#pragma unroll
      for (int kk = 0; kk < NQ8; ++kk) {
        const Frag<EXACT, 4> a = frag_a_mk<EXACT>(ts, TLD, wkey, kk * 8, g, t);
#pragma unroll
        for (int n = 0; n < ND8; ++n) {
          if (n * 8 >= d) break;
          mma<EXACT>(dk[n], a, frag_b_kn<EXACT>(qs, QLD, n * 8, kk * 8, g, t));
        }
      }
      __syncthreads();  // all of dSᵀ written; every warp is done with Q, dO, lse and Δ

      if (qt + 1 < qt_end) load_query_tile(qt + 1);  // lands while dQ is computed
      cp_async_commit();

      // dQ(tile) = dS K, added to dq: this warp takes row slice `slice` and n-tiles [part·NQN, +NQN).
      const int slice = warp % kSlices, part = warp / kSlices;
      float acc[NQN][4] = {};
#pragma unroll
      for (int kk = 0; kk < NK8; ++kk) {
        if (kk * 8 >= kvis) break;  // dS is 0 for keys no row sees
        const Frag<EXACT, 4> a = frag_a_km<EXACT>(ts, TLD, slice * 16, kk * 8, g, t);
#pragma unroll
        for (int nn = 0; nn < NQN; ++nn) {
          const int n = part * NQN + nn;
          if (n * 8 < d) mma<EXACT>(acc[nn], a, frag_b_kn<EXACT>(ks, KLD, n * 8, kk * 8, g, t));
        }
      }
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int i = i0 + slice * 16 + g + 8 * h;
        if (i >= p.lq) continue;
        float* const row = p.dq + (bh * p.lq + i) * d;
#pragma unroll
        for (int nn = 0; nn < NQN; ++nn) {
          const int c = (part * NQN + nn) * 8 + 2 * t;
          if (c < d) atomicAdd(row + c, acc[nn][2 * h] * p.scale);
          if (c + 1 < d) atomicAdd(row + c + 1, acc[nn][2 * h + 1] * p.scale);
        }
      }
    }
  }
  cp_async_wait<0>();

  // dK = scale · Σ dSᵀ Q and dV for this warp's keys (zeros for keys no row sees).
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    if (key[h] >= p.lk) continue;
    float* const rk = p.dk + (bh * p.lk + key[h]) * d;
    float* const rv = p.dv + (bh * p.lk + key[h]) * d;
#pragma unroll
    for (int n = 0; n < ND8; ++n) {
      const int c = n * 8 + 2 * t;
      if (c < d) rk[c] = dk[n][2 * h] * p.scale, rv[c] = dv[n][2 * h];
      if (c + 1 < d) rk[c + 1] = dk[n][2 * h + 1] * p.scale, rv[c + 1] = dv[n][2 * h + 1];
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Host side

void check_args(const cpu::AttentionArgs& a) {
  if (a.d < 1 || a.d > kMaxD)
    throw Error(Code::InvalidArgument,
                "Expected d in [1, " + std::to_string(kMaxD) + "] for attention on CUDA but received " +
                    std::to_string(a.d));
  if (a.lq > kMaxLength || a.lk > kMaxLength)
    throw Error(Code::InvalidArgument, "Expected lq and lk ≤ " + std::to_string(kMaxLength) +
                                           " for attention on CUDA but received lq = " + std::to_string(a.lq) +
                                           ", lk = " + std::to_string(a.lk));
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Grid x by B·H heads folded into y and z (each ≤ 65535).
dim3 head_grid(int64_t x, int64_t heads) {
  const int64_t y = std::min<int64_t>(heads, 65535), z = ceil_div(heads, y);
  if (x > 0x7fffffff || z > 65535)
    throw Error(Code::InvalidArgument, "Expected a grid within CUDA's limits for attention but received " +
                                           std::to_string(x) + " tiles × " + std::to_string(heads) + " heads");
  return dim3(unsigned(x), unsigned(y), unsigned(z));
}

// The device copy of kv_lengths (a host array), or null; queued on stream() like the kernels that read it.
const int32_t* device_kv_lengths(const cpu::AttentionArgs& a, const Scratch& s) {
  if (!a.kv_lengths) return nullptr;
  check(cudaMemcpyAsync(s.as<int32_t>(), a.kv_lengths, size_t(a.batch) * sizeof(int32_t), cudaMemcpyHostToDevice,
                        stream()),
        "attention kv_lengths copy");
  return s.as<int32_t>();
}

// Lets `kernel` use `bytes` of dynamic shared memory (above the default 48 KB). Each launcher calls it once,
// from a static of its own instantiation (a throw leaves the static unset, so the next call retries).
template <typename Kernel>
bool allow_shared(Kernel kernel, size_t bytes) {
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)),
        "attention shared memory attribute");
  return true;
}

template <int DP, bool EXACT>
void launch_forward(const FwdParams& p) {
  using T = FwdTile<DP>;
  static const bool ready = allow_shared(forward_kernel<DP, EXACT>, T::kBytes);
  (void)ready;
  forward_kernel<DP, EXACT><<<head_grid(ceil_div(p.lq, T::kBq), p.bh), kThreads, T::kBytes, stream()>>>(p);
  check_launch("attention forward_kernel");
}

template <int DP, int BQ, bool EXACT>
void launch_backward(const BwdParams& p) {
  using T = BwdTile<DP, BQ>;
  static const bool ready = allow_shared(backward_kernel<DP, BQ, EXACT>, T::kBytes);
  (void)ready;
  backward_kernel<DP, BQ, EXACT><<<head_grid(ceil_div(p.lk, T::kBk), p.bh), kThreads, T::kBytes, stream()>>>(p);
  check_launch("attention backward_kernel");
}

// DP = 128 takes 16-row query tiles: 91 KB, under the 99 KB a block may have on sm_86/89 (32 rows would
// need 112 KB, and a second variant for the larger GPUs costs 10 s of compile time per architecture).
template <bool EXACT>
void backward_for_d(const BwdParams& p) {
  if (p.d <= 32) return launch_backward<32, 64, EXACT>(p);
  if (p.d <= 64) return launch_backward<64, 64, EXACT>(p);
  launch_backward<128, 16, EXACT>(p);
}

void decode(const cpu::AttentionArgs& a, const int32_t* kv, float* out, float* lse) {
  const int64_t heads = a.batch * a.heads;
  // Enough CTAs for 8 per SM, but no chunk under 256 keys (below that the merge costs more than it gains).
  const int64_t target = int64_t(8) * sm_count();
  int64_t splits = heads >= target ? 1 : std::max<int64_t>(1, std::min(ceil_div(target, heads), a.lk / 256));
  const int64_t step = kWarps * 4;  // a chunk is whole warp steps
  const int64_t chunk = std::max<int64_t>(step, ceil_div(ceil_div(a.lk, splits), step) * step);
  splits = std::max<int64_t>(1, ceil_div(a.lk, chunk));

  DecodeParams p{};
  p.q = a.q, p.k = a.k, p.v = a.v, p.out = out, p.lse = lse, p.kv = kv;
  p.bh = heads, p.heads = int(a.heads), p.lq = int(a.lq), p.lk = int(a.lk), p.d = int(a.d);
  p.splits = int(splits), p.chunk = int(chunk), p.causal = a.causal, p.sc2 = a.scale * kLog2e;
  Scratch parts(splits > 1 ? size_t(heads * splits * a.lq * (a.d + 2)) * sizeof(float) : 0);
  if (splits > 1) {
    p.pm = parts.as<float>();
    p.pl = p.pm + heads * splits * a.lq;
    p.pacc = p.pl + heads * splits * a.lq;
  }
  const dim3 grid = head_grid(splits, heads);
  if (a.d <= 32)
    decode_kernel<1><<<grid, kThreads, 0, stream()>>>(p);
  else if (a.d <= 64)
    decode_kernel<2><<<grid, kThreads, 0, stream()>>>(p);
  else
    decode_kernel<4><<<grid, kThreads, 0, stream()>>>(p);
  check_launch("attention decode_kernel");
  if (splits > 1) {
    combine_kernel<<<grid_for(heads * a.lq * 32, kThreads), kThreads, 0, stream()>>>(p);
    check_launch("attention combine_kernel");
  }
}

}  // namespace

void attention_forward(const cpu::AttentionArgs& a, float* out, float* lse) {
  const int64_t heads = a.batch * a.heads;
  if (heads == 0 || a.lq == 0) return;
  check_args(a);
  Scratch kv_scratch(a.kv_lengths ? size_t(a.batch) * sizeof(int32_t) : 0);
  const int32_t* kv = device_kv_lengths(a, kv_scratch);
  if (a.lq <= kMaxDecodeRows) return decode(a, kv, out, lse);

  FwdParams p{};
  p.q = a.q, p.k = a.k, p.v = a.v, p.out = out, p.lse = lse, p.kv = kv;
  p.bh = heads, p.heads = int(a.heads), p.lq = int(a.lq), p.lk = int(a.lk), p.d = int(a.d);
  p.causal = a.causal, p.sc2 = a.scale * kLog2e;
  p.vec = a.d % 4 == 0 && aligned16(a.q) && aligned16(a.k) && aligned16(a.v);
  const bool exact = !tf32_enabled();
  if (a.d <= 32)
    exact ? launch_forward<32, true>(p) : launch_forward<32, false>(p);
  else if (a.d <= 64)
    exact ? launch_forward<64, true>(p) : launch_forward<64, false>(p);
  else
    exact ? launch_forward<128, true>(p) : launch_forward<128, false>(p);
}

void attention_backward(const cpu::AttentionArgs& a, const float* out, const float* dout, const float* lse, float* dq,
                        float* dk, float* dv) {
  const int64_t heads = a.batch * a.heads;
  if (heads == 0) return;
  check_args(a);
  if (a.lq > 0) check(cudaMemsetAsync(dq, 0, size_t(heads * a.lq * a.d) * sizeof(float), stream()), "attention dq zero");
  if (a.lk == 0) return;  // dk and dv are empty; dq stays 0

  Scratch kv_scratch(a.kv_lengths ? size_t(a.batch) * sizeof(int32_t) : 0);
  const int32_t* kv = device_kv_lengths(a, kv_scratch);
  const int64_t rows = heads * a.lq;
  Scratch row_stats(size_t(2 * rows) * sizeof(float));
  float* const delta = row_stats.as<float>();
  float* const lse2 = delta + rows;
  if (rows > 0) {
    backward_prep_kernel<<<grid_for(rows * 32, kThreads), kThreads, 0, stream()>>>(out, dout, lse, delta, lse2, rows,
                                                                                   int(a.d));
    check_launch("attention backward_prep_kernel");
  }

  BwdParams p{};
  p.q = a.q, p.k = a.k, p.v = a.v, p.dout = dout, p.delta = delta, p.lse2 = lse2;
  p.dq = dq, p.dk = dk, p.dv = dv, p.kv = kv;
  p.bh = heads, p.heads = int(a.heads), p.lq = int(a.lq), p.lk = int(a.lk), p.d = int(a.d);
  p.causal = a.causal, p.scale = a.scale, p.sc2 = a.scale * kLog2e;
  p.vec = a.d % 4 == 0 && aligned16(a.q) && aligned16(a.k) && aligned16(a.v) && aligned16(dout);
  tf32_enabled() ? backward_for_d<false>(p) : backward_for_d<true>(p);
}

}  // namespace nf::cuda
