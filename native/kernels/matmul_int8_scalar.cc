// matmul_int8_simd.h for the baseline ISA (no extra flags): the portable fallback.
#define NF_SIMD_SCALAR
#define NF_ISA_NS scalar
#include "matmul_int8_simd.h"
