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
// A whole C tile starts from C (accumulating) or the bias and is stored straight back to C. Operands
// stored the other way round (A as K×M, B as N×K) are packed 16×16 pairs at a time through one in-register
// transpose, with no float32 staging.
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

// 32 floats as 32 bf16 in order, rounded as bf16_bits (VCVTNE2PS2BF16; see bf16_pairs): 16 dwords, each
// a pair of neighbours, the even one low.
inline __m512i bf16x32(V lo, V hi) { return (__m512i)_mm512_cvtne2ps_pbh(hi, lo); }

// r[j] becomes the dwords j of r[0…16): a 16×16 transpose of 32-bit values (bf16 pairs here).
inline void transpose16x16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      t[8 * i + j] = _mm512_shuffle_i32x4(r[8 * i + j], r[8 * i + j + 4], 0x88);
      t[8 * i + j + 4] = _mm512_shuffle_i32x4(r[8 * i + j], r[8 * i + j + 4], 0xdd);
    }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0xdd);
  }
}

// The 16 × 16 block of bf16 pairs whose row x pairs elements (2y, 2y + 1) of row x of `src` (row-major
// floats, ld apart; rows from `rows` on and elements from `k` on are zeros), transposed: dword y of
// out[x] goes to dword x of dst row y, rows ld_dst dwords apart. Packs K-contiguous storage into pair rows
// (B stored N×K), 16 rows of 32 elements at a time, with no float32 staging.
inline void pairs_transposed(const float* src, int64_t ld, int rows, int k, float* dst, int64_t ld_dst) {
  __m512i r[16];
  const int lo = int(max64(0, min64(kLanes, k))), hi = int(max64(0, min64(kLanes, k - kLanes)));
  for (int x = 0; x < 16; ++x)
    r[x] = x < rows ? bf16x32(vload_n(src + x * ld, lo), vload_n(src + x * ld + kLanes, hi)) : _mm512_setzero_si512();
  transpose16x16(r);
  for (int y = 0; y < 16; ++y) _mm512_storeu_si512(dst + y * ld_dst, r[y]);
}

// The 16 pair rows of 16 dwords whose row y pairs rows 2y and 2y + 1 of `src` (M-contiguous rows ld
// apart; `cols` valid columns, pair rows past `k` rows zero), transposed: dst row x (ld_dst dwords apart)
// holds column x's 16 pairs. Packs A stored K×M into rows of K, 32 elements at a time.
inline void pairs_of_rows_transposed(const float* src, int64_t ld, int cols, int k, float* dst, int64_t ld_dst) {
  __m512i r[16];
  for (int y = 0; y < 16; ++y) {
    const V even = 2 * y < k ? vload_n(src + 2 * y * ld, cols) : vzero();
    const V odd = 2 * y + 1 < k ? vload_n(src + (2 * y + 1) * ld, cols) : vzero();
    r[y] = _mm512_castps_si512(bf16_pairs(even, odd));
  }
  transpose16x16(r);
  for (int x = 0; x < 16; ++x) _mm512_storeu_si512(dst + x * ld_dst, r[x]);
}

// A[i0:i0+mc, p0:p0+kc] → panels of 32 rows × kcp bf16 (row-major, zeros past kc and past mc).
void pack_a_amx(const GemmArgs& g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, int64_t kcp, uint16_t* dst) {
  if (g.trans_a) {
    // 16 rows × 32 elements of K at a time, from 32 rows of A's storage; each 32 of those rows is read
    // across the whole block before the next (they are lda apart: one page each when M is large; one
    // thread, 8000×2048×256 transA, the generator's dW: 25 → 15 ms against panel by panel).
    for (int64_t p = 0; p < kcp; p += kAmxKStep)
      for (int64_t r = 0; r < round_up(mc, kAmxTile); r += 16)
        pairs_of_rows_transposed(g.a + (p0 + p) * g.lda + i0 + r, g.lda, int(max64(0, min64(16, mc - r))),
                                 int(min64(kAmxKStep, kc - p)),
                                 reinterpret_cast<float*>(dst + (r / kAmxTile) * kAmxTile * kcp + (r % kAmxTile) * kcp + p), kcp / 2);
    return;
  }
  for (int64_t ir = 0; ir < mc; ir += kAmxTile, dst += kAmxTile * kcp) {
    const int64_t mr = min64(kAmxTile, mc - ir);
    const float* rows = g.a + (i0 + ir) * g.lda + p0;
    for (int64_t r = 0; r < kAmxTile; ++r)
      for (int64_t p = 0; p < kcp; p += 2 * kLanes) {
        const int lo = r < mr ? int(max64(0, min64(kLanes, kc - p))) : 0;
        const int hi = r < mr ? int(max64(0, min64(kLanes, kc - p - kLanes))) : 0;
        _mm512_storeu_si512(dst + r * kcp + p, bf16x32(vload_n(rows + r * g.lda + p, lo), vload_n(rows + r * g.lda + p + kLanes, hi)));
      }
  }
}

// B[p0:p0+kc, j0:j0+nc] → 32-column panels of kcp / 2 rows of pairs (zero rows past kc).
void pack_b_amx(const GemmArgs& g, int64_t p0, int64_t kc, int64_t kcp, int64_t j0, int64_t nc, float* dst) {
  const int64_t kq = packed_k<Mode::Bf16Pairs>(kc), rows = kcp / 2, panels = ceil_div(nc, kNR);
  if (g.trans_b) {  // 16 columns × 32 elements of K at a time, from 16 rows of B's storage
    for (int64_t j = 0; j < panels * kNR; j += 16)
      for (int64_t p = 0; p < kcp; p += kAmxKStep)
        pairs_transposed(g.b + (j0 + j) * g.ldb + p0 + p, g.ldb, int(max64(0, min64(16, nc - j))), int(min64(kAmxKStep, kc - p)),
                         dst + (j / kNR) * kNR * rows + (p / 2) * kNR + j % kNR, kNR);
    return;
  }
  pack_b_pairs(g, p0, kc, j0, nc, dst, rows);
  for (int64_t q = 0; q < panels; ++q)
    for (int64_t r = kq; r < rows; ++r)
      for (int v = 0; v < kNV; ++v) vstore(dst + q * kNR * rows + r * kNR + v * kLanes, vzero());
}

// C tile (32 × 32 at c, ld floats apart) = init + pa (32 × kcp bf16) · pb (kcp / 2 rows of 32 pairs), where
// init is zero (init null), or 32 rows `init_ld` floats apart (C itself; or the bias, init_ld = 0).
inline void amx_tile(int64_t kcp, const uint16_t* pa, const float* pb, float* c, int64_t ld, const float* init,
                     int64_t init_ld) {
  if (init == nullptr) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
  } else {
    const int64_t stride = init_ld * int64_t(sizeof(float));
    _tile_loadd(0, init, stride);
    _tile_loadd(1, init + 16, stride);
    _tile_loadd(2, init + 16 * init_ld, stride);
    _tile_loadd(3, init + 16 * init_ld + 16, stride);
  }
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
  const int64_t stride = ld * int64_t(sizeof(float));
  _tile_stored(0, c, stride);
  _tile_stored(1, c + 16, stride);
  _tile_stored(2, c + 16 * ld, stride);
  _tile_stored(3, c + 16 * ld + 16, stride);
}

// C[m0:m1, n0:n1] on the calling thread.
void amx_block(const GemmArgs& g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  AmxTiles tiles;
  const int64_t kcp_max = round_up(min64(kAmxKC, g.k), kAmxKStep);
  float* pb = scratch(0, static_cast<size_t>(round_up(min64(kAmxNC, n1 - n0), kNR) * kcp_max / 2));
  auto* pa = reinterpret_cast<uint16_t*>(
      scratch(1, static_cast<size_t>(round_up(min64(kAmxMC, m1 - m0), kAmxTile) * kcp_max / 2)));
  alignas(64) float edge[kAmxTile * kAmxTile];
  for (int64_t jc = n0; jc < n1; jc += kAmxNC) {
    const int64_t nc = min64(kAmxNC, n1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += kAmxKC) {
      const int64_t kc = min64(kAmxKC, g.k - pc), kcp = round_up(kc, kAmxKStep);
      const bool accumulate = g.accumulate || pc > 0;
      const float* bias = pc == 0 ? g.bias : nullptr;  // added once, with the first K block
      pack_b_amx(g, pc, kc, kcp, jc, nc, pb);
      for (int64_t ic = m0; ic < m1; ic += kAmxMC) {
        const int64_t mc = min64(kAmxMC, m1 - ic);
        pack_a_amx(g, ic, mc, pc, kc, kcp, pa);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int nr = int(min64(kNR, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += kAmxTile) {
            const int64_t mr = min64(kAmxTile, mc - ir);
            float* c = g.c + (ic + ir) * g.ldc + jc + jr;
            const uint16_t* a = pa + ir * kcp;
            const float* b = pb + jr * (kcp / 2);
            // A whole tile starts from C or the bias in the tile registers and is stored straight to C;
            // an edge one (or C + bias) is computed into `edge` and added from there.
            if (mr == kAmxTile && nr == kNR && !(accumulate && bias)) {
              if (accumulate) amx_tile(kcp, a, b, c, g.ldc, c, g.ldc);
              else amx_tile(kcp, a, b, c, g.ldc, bias ? bias + jc + jr : nullptr, 0);
              continue;
            }
            amx_tile(kcp, a, b, edge, kAmxTile, nullptr, 0);
            store_edge(c, g.ldc, edge, kAmxTile, mr, nr, accumulate, bias ? bias + jc + jr : nullptr);
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
