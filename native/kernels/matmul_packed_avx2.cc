// matmul_packed_simd.h for AVX2+FMA (built with -mavx2 -mfma).
#define NF_SIMD_AVX2
#define NF_ISA_NS avx2
#include "matmul_packed_simd.h"
