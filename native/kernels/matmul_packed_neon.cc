// matmul_packed_simd.h for NEON (arm64 only; NEON is part of the arm64 baseline).
#define NF_SIMD_NEON
#define NF_ISA_NS neon
#include "matmul_packed_simd.h"
