// The bf16 GEMM on AMX tiles (TDPBF16PS: Sapphire Rapids and later Intel CPUs), for the avx512bf16
// translation unit only, after matmul_simd.h, whose packing it reuses. dispatch.cc picks it where cpuid
// reports AMX-TILE and AMX-BF16 and Linux has granted the process the tile data state.
//
// Why a second bf16 kernel: on Sapphire Rapids VDPBF16PS issues on one port where the float32 FMA has two,
// so the vector kernel is *slower* than float32 there (0.55-0.76× measured), while one TDPBF16PS does
// 16×16×32 multiply-adds. What it computes: the same bf16-rounded inputs, float32 sums, but Intel does not
// define the order or rounding of the sums inside a tile (no chain of fmas matches it bit for bit: checked
// on this CPU), so this kernel is held to float32's error bound of the exact product of the rounded
// inputs, not to the reference's bits. Its own result is still fixed by the shape: each C element is
// summed in KC blocks (kc zero-padded to whole tiles) in one order whatever the thread count.
//
// Blocking: as the vector kernel's, with a 32×32 C tile held in four tile registers (tmm0-3) over a
// whole KC block: per 32 elements of K, two A tiles (16 rows × 32 bf16, row-major) and two B tiles
// (16 rows of 16 bf16 pairs: the Bf16Pairs panels of matmul_simd.h read with their 32-pair row stride).
#pragma once

#include "matmul_simd.h"

#if !defined(NF_BF16_NATIVE) || !defined(NF_SIMD_AVX512)
#error "matmul_amx.h belongs to the avx512bf16 translation unit"
#endif

namespace nf::cpu::NF_ISA_NS {
namespace {

constexpr int64_t kAmxTile = 32;   // C tile: 32 × 32 floats (2 × 2 tile registers)
constexpr int64_t kAmxKStep = 32;  // K per tile multiply: 16 bf16 pairs
constexpr int64_t kAmxKC = 512;    // A panel 32 KiB and B micro-panel 32 KiB of bf16
constexpr int64_t kAmxMC = 128;
constexpr int64_t kAmxNC = 1024;
static_assert(kNR == kAmxTile, "B is packed in the vector kernel's 32-column pair panels");

inline int64_t round_up(int64_t x, int64_t m) { return ceil_div(x, m) * m; }

// Palette 1 with all eight tiles 16 rows × 64 bytes (C: 16 floats, A: 32 bf16, B: 16 pairs). The
// configuration is per thread: each task loads it and releases the tiles when done, so that a thread
// holding no AMX state pays nothing for it on a context switch.
class AmxTiles {
 public:
  AmxTiles() {
    struct alignas(64) {
      uint8_t palette = 1, start_row = 0, reserved[14] = {};
      uint16_t colsb[16] = {};
      uint8_t rows[16] = {};
    } cfg;
    for (int t = 0; t < 8; ++t) cfg.colsb[t] = 64, cfg.rows[t] = 16;
    _tile_loadconfig(&cfg);
  }
  ~AmxTiles() { _tile_release(); }
  AmxTiles(const AmxTiles&) = delete;
  AmxTiles& operator=(const AmxTiles&) = delete;
};

// 32 floats as 32 bf16 in order, rounded as bf16_bits (VCVTNE2PS2BF16; see bf16_pairs).
inline void store_bf16x32(uint16_t* dst, V lo, V hi) {
  _mm512_storeu_si512(dst, (__m512i)_mm512_cvtne2ps_pbh(hi, lo));
}

// A[i0:i0+mc, p0:p0+kc] → panels of 32 rows × kcp bf16 (row-major, zeros past kc and past mc). Rows of
// A stored K×M (transA) are first gathered into float32 rows in `stage` (32 × kcp floats).
void pack_a_amx(const GemmArgs& g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int64_t kcp, uint16_t* dst,
                float* stage) {
  for (int64_t ir = 0; ir < mc; ir += kAmxTile, dst += kAmxTile * kcp) {
    const int64_t mr = min64(kAmxTile, mc - ir);
    const float* rows = g.a + (i0 + ir) * g.lda + p0;
    int64_t ld = g.lda;
    if (g.trans_a) {
      pack_transposed(g.a + p0 * g.lda + i0 + ir, g.lda, kc, mr, stage, kcp);
      rows = stage;
      ld = kcp;
    }
    for (int64_t r = 0; r < kAmxTile; ++r)
      for (int64_t p = 0; p < kcp; p += 2 * kLanes) {
        const int lo = r < mr ? int(max64(0, min64(kLanes, kc - p))) : 0;
        const int hi = r < mr ? int(max64(0, min64(kLanes, kc - p - kLanes))) : 0;
        store_bf16x32(dst + r * kcp + p, vload_n(rows + r * ld + p, lo), vload_n(rows + r * ld + p + kLanes, hi));
      }
  }
}

// B[p0:p0+kc, j0:j0+nc] → 32-column panels of kcp / 2 rows of pairs (zero rows past kc).
void pack_b_amx(const GemmArgs& g, int64_t p0, int64_t kc, int64_t kcp, int64_t j0, int64_t nc, float* dst,
                float* stage) {
  const int64_t kq = packed_k<Mode::Bf16Pairs>(kc), rows = kcp / 2, panels = ceil_div(nc, kNR);
  if (!g.trans_b) {
    pack_b_pairs(g, p0, kc, j0, nc, dst, rows);
  } else {
    for (int64_t q = 0; q < panels; ++q) {
      pack_b(g, p0, kc, j0 + q * kNR, min64(kNR, nc - q * kNR), stage);
      bf16_panel(stage, dst + q * kNR * rows, kc, kNR);
    }
  }
  for (int64_t q = 0; q < panels; ++q)
    for (int64_t r = kq; r < rows; ++r)
      for (int v = 0; v < kNV; ++v) vstore(dst + q * kNR * rows + r * kNR + v * kLanes, vzero());
}

// out[32 × 32] = pa (32 × kcp bf16) · pb (kcp / 2 rows of 32 pairs).
inline void amx_tile(int64_t kcp, const uint16_t* pa, const float* pb, float* out) {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  const int64_t a_stride = kcp * int64_t(sizeof(uint16_t)), b_stride = kNR * int64_t(sizeof(float));
  const uint16_t* pa1 = pa + 16 * kcp;
  for (int64_t p = 0; p < kcp; p += kAmxKStep) {
    const float* b = pb + (p / 2) * kNR;
    _tile_loadd(4, pa + p, a_stride);
    _tile_loadd(5, pa1 + p, a_stride);
    _tile_loadd(6, b, b_stride);
    _tile_loadd(7, b + 16, b_stride);
    _tile_dpbf16ps(0, 4, 6);
    _tile_dpbf16ps(1, 4, 7);
    _tile_dpbf16ps(2, 5, 6);
    _tile_dpbf16ps(3, 5, 7);
  }
  constexpr int64_t ld = kAmxTile * int64_t(sizeof(float));
  _tile_stored(0, out, ld);
  _tile_stored(1, out + 16, ld);
  _tile_stored(2, out + 16 * kAmxTile, ld);
  _tile_stored(3, out + 16 * kAmxTile + 16, ld);
}

// C[m0:m1, n0:n1] on the calling thread.
void amx_block(const GemmArgs& g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  AmxTiles tiles;
  const int64_t kcp_max = round_up(min64(kAmxKC, g.k), kAmxKStep);
  float* pb = scratch(0, static_cast<size_t>(round_up(min64(kAmxNC, n1 - n0), kNR) * kcp_max / 2));
  auto* pa = reinterpret_cast<uint16_t*>(
      scratch(1, static_cast<size_t>(round_up(min64(kAmxMC, m1 - m0), kAmxTile) * kcp_max / 2)));
  float* stage = scratch(3, static_cast<size_t>(max64(kAmxTile, kNR) * kcp_max));
  alignas(64) float out[kAmxTile * kAmxTile];
  for (int64_t jc = n0; jc < n1; jc += kAmxNC) {
    const int64_t nc = min64(kAmxNC, n1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += kAmxKC) {
      const int64_t kc = min64(kAmxKC, g.k - pc), kcp = round_up(kc, kAmxKStep);
      const bool accumulate = g.accumulate || pc > 0;
      const float* bias = pc == 0 ? g.bias : nullptr;  // added once, with the first K block
      pack_b_amx(g, pc, kc, kcp, jc, nc, pb, stage);
      for (int64_t ic = m0; ic < m1; ic += kAmxMC) {
        const int64_t mc = min64(kAmxMC, m1 - ic);
        pack_a_amx(g, ic, mc, pc, kc, kcp, pa, stage);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int nr = int(min64(kNR, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += kAmxTile) {
            amx_tile(kcp, pa + ir * kcp, pb + jr * (kcp / 2), out);
            const int64_t mr = min64(kAmxTile, mc - ir);
            float* c = g.c + (ic + ir) * g.ldc + jc + jr;
            for (int64_t r = 0; r < mr; ++r)
              for (int v = 0; v < kNV; ++v) {
                const int n = int(max64(0, min64(kLanes, nr - v * kLanes)));
                if (n == 0) break;
                float* dst = c + r * g.ldc + v * kLanes;
                V x = vload(out + r * kAmxTile + v * kLanes);
                if (accumulate) x = vadd(vload_n(dst, n), x);
                if (bias) x = vadd(x, vload_n(bias + jc + jr + v * kLanes, n));
                vstore_n(dst, x, n);
              }
          }
        }
      }
    }
  }
}

}  // namespace

void matmul_bf16_amx_forward(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.k <= 0) return add_bias_rows(g);
  split_grid(g, g.m * g.n * g.k < kMinParallelWork ? 1 : num_threads(), kAmxTile, kNR,
             [&](int64_t m0, int64_t m1, int64_t n0, int64_t n1) { amx_block(g, m0, m1, n0, n1); });
}

}  // namespace nf::cpu::NF_ISA_NS
