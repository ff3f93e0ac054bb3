// fma_peak_simd.h for avx512 (flags as for matmul_avx512.cc).
#define NF_SIMD_AVX512
#define NF_ISA_NS avx512
#include "fma_peak_simd.h"
