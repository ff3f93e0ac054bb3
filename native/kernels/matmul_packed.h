// GEMM against a weight packed once: C [M, N] = A [M, K] · Wᵀ + bias, W a Linear layer's weight stored
// [N, K] (row-major), float32. Decoding multiplies a few rows by the same weights at every step; packing
// them once lets each register tile stream one contiguous block instead of 16 rows of W at once.
//
// Packed layout (the same on every ISA, so a buffer packed under one ISA stays valid under another):
// W's rows in panels of kPackCols = 16, each panel K × 16 with the column fastest, the last panel padded
// with zero columns:
//   packed[(j / 16)·16·K + p·16 + j % 16] = W[j, p]        packed length = ceil(N / 16)·16·K
//
// Each C element is one chain of fused multiply-adds over p = 0…K-1 in order, starting from 0, and then
// the bias added (c = fma(a[i,K-1], W[j,K-1], … fma(a[i,0], W[j,0], 0)) + bias[j]): the result depends on
// neither the thread count, nor M, nor the tiling, and the FMA ISAs (avx2, avx512, neon) give the
// reference's bits exactly. The scalar variant multiplies and adds separately where the baseline ISA
// has no FMA (x86-64).
#pragma once

#include <cstdint>

namespace nf::cpu {

constexpr int64_t kPackCols = 16;

// Elements of the packed form of an N×K weight.
constexpr int64_t matmul_packed_size(int64_t n, int64_t k) { return (n + kPackCols - 1) / kPackCols * kPackCols * k; }

// packed (matmul_packed_size(n, k) floats) ← w [N, K]. Plain loops: it runs once per weight.
void matmul_pack(const float* w, int64_t n, int64_t k, float* packed);

struct PackedGemmArgs {
  int64_t m, n, k;
  const float* a;       // [M, K], row-major (lda = K)
  const float* packed;  // matmul_pack of W [N, K]
  float* c;             // [M, N], row-major (ldc = N)
  const float* bias;    // [N] added to every row, or null
};

using MatmulPackedFn = void (*)(const PackedGemmArgs&);

namespace ref {
// Plain loops over the packed layout, with std::fma: the bits every FMA variant must reproduce.
void matmul_packed_forward(const PackedGemmArgs& g);
}  // namespace ref

// Register tiles of R rows × up to 4 panels, each panel streamed from its contiguous block; threads split N.
// Built for the decode shapes (M ≤ 32) and correct for any M.
namespace scalar { void matmul_packed_forward(const PackedGemmArgs& g); }
namespace avx2 { void matmul_packed_forward(const PackedGemmArgs& g); }
namespace avx512 { void matmul_packed_forward(const PackedGemmArgs& g); }
namespace neon { void matmul_packed_forward(const PackedGemmArgs& g); }

}  // namespace nf::cpu
