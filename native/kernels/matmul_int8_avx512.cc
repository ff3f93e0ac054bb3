// matmul_int8_simd.h for AVX-512 without VNNI (built with -mavx512f -mavx512vl -mavx512bw -mavx512dq -mfma).
#define NF_SIMD_AVX512
#define NF_ISA_NS avx512
#include "matmul_int8_simd.h"
