// fma_peak_simd.h for avx2 (flags as for matmul_avx2.cc).
#define NF_SIMD_AVX2
#define NF_ISA_NS avx2
#include "fma_peak_simd.h"
