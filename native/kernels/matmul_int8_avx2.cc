// matmul_int8_simd.h for AVX2 (built with -mavx2 -mfma): VPMADDUBSW on |x| and sign-corrected w.
#define NF_SIMD_AVX2
#define NF_ISA_NS avx2
#include "matmul_int8_simd.h"
