// matmul_simd.h's bf16 GEMM with VDPBF16PS, and matmul_amx.h's with TDPBF16PS (built with the AVX-512
// flags plus -mavx512bf16 -mamx-tile -mamx-bf16; dispatch.cc uses each only where cpuid reports its
// instructions).
#define NF_SIMD_AVX512
#define NF_BF16_NATIVE
#define NF_ISA_NS avx512bf16
#include "matmul_amx.h"
