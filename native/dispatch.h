// Runtime ISA choice: the kernel table holds the best variant this CPU and OS support, chosen once at
// load; NODEFORMER_ISA=scalar|avx2|avx512 (or set_isa, for tests) forces a lower one. Within an ISA, the
// low-precision kernels use the CPU's instructions where it has them (AMX-BF16 tiles, else AVX512_BF16;
// AVX512_VNNI; with avx512), or else their exact emulation; NODEFORMER_LOW_PRECISION=vector|emulate (or
// set_low_precision) keeps them to vector instructions, or to the emulation, which gives the same bits as
// the vector instructions (AMX: see matmul_amx.h).
#pragma once

#include <string>
#include <vector>

#include "kernels/activation.h"
#include "kernels/adam.h"
#include "kernels/add.h"
#include "kernels/attention.h"
#include "kernels/cross_entropy.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/fma_peak.h"
#include "kernels/layer_norm.h"
#include "kernels/matmul.h"
#include "kernels/matmul_int8.h"
#include "kernels/matmul_packed.h"
#include "kernels/softmax.h"

namespace nf {

enum class Isa { Scalar, Avx2, Avx512, Neon };

const char* isa_name(Isa isa);

struct KernelTable {
  Isa isa;
  bool bf16;  // matmul_bf16_forward runs the CPU's bf16 instructions (not their emulation)
  bool amx;   // … on AMX tiles
  bool int8;  // matmul_int8_forward runs VPDPBUSD (AVX512_VNNI)
  cpu::MatmulFn matmul_forward;
  cpu::MatmulFn matmul_bf16_forward;
  cpu::MatmulInt8Fn matmul_int8_forward;
  cpu::MatmulPackedFn matmul_packed_forward;
  cpu::FmaPeakFn fma_peak;
  cpu::ActivationForwardFn activation_forward;
  cpu::ActivationBackwardFn activation_backward;
  cpu::AddBiasForwardFn add_bias_forward;
  cpu::AddBiasBackwardFn add_bias_backward;
  cpu::AddForwardFn add_forward;
  cpu::DropoutForwardFn dropout_forward;
  cpu::EmbeddingForwardFn embedding_forward;
  cpu::EmbeddingBackwardFn embedding_backward;
  cpu::AdamUpdateFn adam_update;
  cpu::AttentionForwardFn attention_forward;
  cpu::AttentionBackwardFn attention_backward;
  cpu::LayerNormForwardFn layer_norm_forward;
  cpu::LayerNormBackwardFn layer_norm_backward;
  cpu::SoftmaxForwardFn softmax_forward;
  cpu::SoftmaxBackwardFn softmax_backward;
  cpu::CrossEntropyForwardFn cross_entropy_forward;
  cpu::CrossEntropyBackwardFn cross_entropy_backward;
};

// The table of one supported ISA (for benches that compare ISAs); throws nf::Error if unsupported here.
const KernelTable& kernels_for(const std::string& name);

// The table in use. Reading it is a plain load: kernels are picked per call through it.
const KernelTable& kernels();

// Every ISA this CPU and OS can run, best last (always starts with scalar).
std::vector<Isa> supported_isas();

// Selects `name` ("scalar", "avx2", "avx512", "neon"); throws nf::Error if unknown or unsupported here.
Isa set_isa(const std::string& name);

// Which low-precision kernels the tables use: the CPU's best (Native, the default), its vector
// instructions but not its tiles (Vector), or the emulation everywhere; applies to the current ISA and
// any selected later. parse_low_precision reads "native" | "vector" | "emulate" (nf::Error otherwise).
enum class LowPrecision { Emulate, Vector, Native };
LowPrecision parse_low_precision(const std::string& name);
void set_low_precision(LowPrecision lowp);

// Whether this CPU and OS have the instructions of the native bf16 kernels (AVX512_BF16 with AVX-512)
// and of the native int8 kernels (AVX512_VNNI with AVX-512).
bool cpu_has_bf16();
bool cpu_has_vnni();
// … and of the AMX bf16 kernel (AMX-TILE, AMX-BF16 and AVX512_BF16, with the tile state granted).
bool cpu_has_amx();

// backend.setMatmulPrecision, one setting per process (as PyTorch's): on the CPU, 'medium' gives the GEMMs
// bf16 inputs (matmul_bf16() is true), 'high' and 'highest' float32; CUDA reads it through set_tf32.
enum class MatmulPrecision { Highest, High, Medium };
void set_matmul_precision(MatmulPrecision p);
MatmulPrecision matmul_precision();
inline bool matmul_bf16() { return matmul_precision() == MatmulPrecision::Medium; }

// Applies NODEFORMER_ISA if set (throws nf::Error naming the bad value), else the best supported ISA, and
// NODEFORMER_LOW_PRECISION (native | emulate).
void init_dispatch();

}  // namespace nf
