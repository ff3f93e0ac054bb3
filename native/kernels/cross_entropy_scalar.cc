// cross_entropy_simd.h for the baseline ISA (no extra flags): the portable fallback.
#define NF_SIMD_SCALAR
#define NF_ISA_NS scalar
#include "cross_entropy_simd.h"
