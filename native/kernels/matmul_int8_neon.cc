// matmul_int8_simd.h for NEON (arm64 only): plain integer loops for the compiler to vectorise.
#define NF_SIMD_NEON
#define NF_ISA_NS neon
#include "matmul_int8_simd.h"
