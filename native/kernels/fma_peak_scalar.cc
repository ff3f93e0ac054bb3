// fma_peak_simd.h for scalar (flags as for matmul_scalar.cc).
#define NF_SIMD_SCALAR
#define NF_ISA_NS scalar
#include "fma_peak_simd.h"
