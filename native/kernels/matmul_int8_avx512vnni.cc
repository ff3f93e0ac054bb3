// matmul_int8_simd.h with VPDPBUSD (built with the AVX-512 flags plus -mavx512vnni; dispatch.cc uses it only
// where cpuid reports AVX512_VNNI).
#define NF_SIMD_AVX512
#define NF_INT8_VNNI
#define NF_ISA_NS avx512vnni
#include "matmul_int8_simd.h"
