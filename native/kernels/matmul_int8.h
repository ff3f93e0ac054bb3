// int8 inference GEMM against a weight quantized and packed once: y [M, N] ≈ x [M, K] · Wᵀ + bias, with
// W a Linear layer's weight [N, K] (row-major), as CTranslate2 quantizes: symmetric, per output channel
// for the weight, per row at run time for the activations, int32 sums.
//
// Quantization (quantize_rows: the weight's rows once, x's rows at every call): a row r of length K gets
// the scale s = max|r| / 127 and the values q = clamp(rne(r · (127 / max|r|)), −127, 127), each
// operation one float32 IEEE rounding (rne: to nearest, ties to even). A zero row gives s = 0 and q = 0; a
// row holding a NaN or an infinity gives s = NaN and q = 0, so its outputs are NaN.
//
// Product: acc[m, n] = Σ_k xq[m, k] · wq[n, k], exact in int32 for K ≤ kMaxInt8K, then
//   y[m, n] = fma(float(acc), s_x[m] · s_w[n], bias[n] or +0)
// so every variant, whatever its ISA, tiling or thread count, gives the reference's bits.
//
// Packed layout (the same on every ISA): W's rows (output columns) in panels of 16; within a panel, the
// quads of 4 consecutive k, each 16 columns × 4 bytes, column-major within the quad (VPDPBUSD's dword):
//   packed[(j/16)·16·K4 + (p/4)·64 + (j%16)·4 + p%4] = wq[j, p],   K4 = ceil(K/4)·4,  zero padding,
// followed by N16 = ceil(N/16)·16 int32 column sums Σ_p wq[j, p] (the VNNI kernel's compensation for
// reading x as unsigned bytes xq + 128).
#pragma once

#include <cstdint>

namespace nf::cpu {

// |acc| ≤ K·127² < 2³¹.
constexpr int64_t kMaxInt8K = 133'000;

constexpr int64_t int8_k4(int64_t k) { return (k + 3) / 4 * 4; }
constexpr int64_t int8_n16(int64_t n) { return (n + 15) / 16 * 16; }
// Bytes of the packed form of an N×K weight.
constexpr int64_t int8_packed_bytes(int64_t n, int64_t k) { return int8_n16(n) * int8_k4(k) + 4 * int8_n16(n); }

// q [rows, ld_q] and scales [rows] from x [rows, k] (rows ld_x apart) as above; q's columns k…ld_q−1 are
// zeroed. Plain loops, exact; the kernels quantize their activations the same way.
void quantize_rows(const float* x, int64_t rows, int64_t k, int64_t ld_x, int8_t* q, int64_t ld_q, float* scales);

// packed (int8_packed_bytes(n, k) bytes) ← wq [N, K].
void int8_pack(const int8_t* wq, int64_t n, int64_t k, int8_t* packed);

struct Int8GemmArgs {
  int64_t m, n, k;
  const float* x;         // [M, K], row-major
  const int8_t* w;        // int8_pack of wq (the kernels), or wq [N, K] itself (ref)
  const float* w_scales;  // [N]
  float* y;               // [M, N], row-major
  const float* bias;      // [N] or null
};

using MatmulInt8Fn = void (*)(const Int8GemmArgs&);

namespace ref {
// Plain loops over the unpacked wq [N, K]: the definition above.
void matmul_int8_forward(const Int8GemmArgs& g);
}  // namespace ref

// Register tiles of R rows × 1-4 panels over the packed weight, threads splitting the columns. avx512vnni
// multiplies with VPDPBUSD; avx512 and avx2 with VPMADDUBSW on |x| and sign-corrected w, then VPMADDWD
// (exact: |products| ≤ 127², pairs ≤ 2·127² < 2¹⁵); scalar and neon with plain integer loops.
namespace scalar { void matmul_int8_forward(const Int8GemmArgs& g); }
namespace avx2 { void matmul_int8_forward(const Int8GemmArgs& g); }
namespace avx512 { void matmul_int8_forward(const Int8GemmArgs& g); }
namespace avx512vnni { void matmul_int8_forward(const Int8GemmArgs& g); }
namespace neon { void matmul_int8_forward(const Int8GemmArgs& g); }

}  // namespace nf::cpu
