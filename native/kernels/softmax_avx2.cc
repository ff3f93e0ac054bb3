// softmax_simd.h for AVX2+FMA (built with -mavx2 -mfma).
#define NF_SIMD_AVX2
#define NF_ISA_NS avx2
#include "softmax_simd.h"
