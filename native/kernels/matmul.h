// GEMM: C = op(A) · op(B)  (or C += op(A) · op(B) when accumulate), plus an optional bias row added to
// every row of C (a Linear layer's y = x·Wᵀ + b in one pass), float32, row-major.
//
//   op(A) is M×K: A is stored M×K (lda ≥ K), or K×M when transA (lda ≥ M)
//   op(B) is K×N: B is stored K×N (ldb ≥ N), or N×K when transB (ldb ≥ K)
//   C is M×N (ldc ≥ N)
//
// Every variant gives each C element one fixed order of summation over k (KC-sized blocks, each summed
// from zero and then added to C, the bias with the first block), so results depend on the shape and the
// ISA, never on the thread count.
// The backward of C = op(A)·op(B) is two calls of matmul_forward (see bindings/matmul.cc).
//
// matmul_bf16_forward: the same product with op(A) and op(B) rounded to bfloat16 (../bf16.h) and float32
// sums, as the AVX512-BF16 dot product VDPBF16PS computes them. Its result is defined exactly, so every
// variant gives the reference's bits: K is cut into blocks of kBf16KC (the last one zero-padded to an even
// length); within a block each C element is one chain s = bf16_fma(a[p+1], b[p+1], s), then
// s = bf16_fma(a[p], b[p], s), over the pairs p = 0, 2, 4, … from s = 0; each block's s is then added to C
// (C is overwritten by the first block unless accumulating) and the bias with the first block, as above.
#pragma once

#include <cstdint>

namespace nf::cpu {

struct GemmArgs {
  int64_t m, n, k;
  const float* a;  // [M, K] or [K, M] when trans_a
  int64_t lda;
  bool trans_a;
  const float* b;  // [K, N] or [N, K] when trans_b
  int64_t ldb;
  bool trans_b;
  float* c;  // [M, N]
  int64_t ldc;
  bool accumulate;  // C += instead of C =
  const float* bias = nullptr;  // [N] added once to every row of C, or null
};

using MatmulFn = void (*)(const GemmArgs&);

// Elements of K per block of matmul_bf16_forward (even, so that only the last block can be odd).
constexpr int64_t kBf16KC = 512;

namespace ref {
// The plain triple loop (i, j, k with a float accumulator): the oracle-free baseline of the benches.
void matmul_forward(const GemmArgs& g);
// The definition of matmul_bf16_forward in plain loops (bf16_fma, a scalar fma per step).
void matmul_bf16_forward(const GemmArgs& g);
}  // namespace ref

// Packed, cache-blocked, register-tiled GEMM, multi-threaded, with a streaming path for M ≤ 16 (M ≤ 32
// when B is transposed).
// Their bf16 twins pack bf16-rounded inputs with each pair's two elements swapped and run the float32
// micro-kernel over them, flushing denormal sums (x86: MXCSR's FTZ during the tile; scalar, NEON: per
// step), the exact emulation of VDPBF16PS; avx512bf16 packs bf16 pairs and runs VDPBF16PS itself.
namespace scalar { void matmul_forward(const GemmArgs& g); void matmul_bf16_forward(const GemmArgs& g); }
namespace avx2 { void matmul_forward(const GemmArgs& g); void matmul_bf16_forward(const GemmArgs& g); }
namespace avx512 { void matmul_forward(const GemmArgs& g); void matmul_bf16_forward(const GemmArgs& g); }
namespace avx512bf16 {
void matmul_bf16_forward(const GemmArgs& g);
// On AMX tiles (matmul_amx.h): the same rounded inputs and float32 sums in the tiles' own order, within
// float32's error bound of the exact product of the rounded inputs rather than bit for bit.
void matmul_bf16_amx_forward(const GemmArgs& g);
}  // namespace avx512bf16
namespace neon { void matmul_forward(const GemmArgs& g); void matmul_bf16_forward(const GemmArgs& g); }

}  // namespace nf::cpu
