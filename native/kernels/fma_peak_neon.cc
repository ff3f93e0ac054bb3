// fma_peak_simd.h for neon (flags as for matmul_neon.cc).
#define NF_SIMD_NEON
#define NF_ISA_NS neon
#include "fma_peak_simd.h"
