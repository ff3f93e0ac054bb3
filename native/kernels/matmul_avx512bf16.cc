// matmul_simd.h's bf16 GEMM with VDPBF16PS (built with the AVX-512 flags plus -mavx512bf16; dispatch.cc
// uses it only where cpuid reports AVX512_BF16).
#define NF_SIMD_AVX512
#define NF_BF16_NATIVE
#define NF_ISA_NS avx512bf16
#include "matmul_simd.h"
