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

namespace ref {
// The plain triple loop (i, j, k with a float accumulator): the oracle-free baseline of the benches.
void matmul_forward(const GemmArgs& g);
}  // namespace ref

// Packed, cache-blocked, register-tiled GEMM, multi-threaded, with a streaming path for M ≤ 16 (M ≤ 32
// when B is transposed).
namespace scalar { void matmul_forward(const GemmArgs& g); }
namespace avx2 { void matmul_forward(const GemmArgs& g); }
namespace avx512 { void matmul_forward(const GemmArgs& g); }
namespace neon { void matmul_forward(const GemmArgs& g); }

}  // namespace nf::cpu
