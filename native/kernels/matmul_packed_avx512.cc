// matmul_packed_simd.h for AVX-512F (built with -mavx512f -mavx512vl -mavx512bw -mavx512dq -mfma).
#define NF_SIMD_AVX512
#define NF_ISA_NS avx512
#include "matmul_packed_simd.h"
