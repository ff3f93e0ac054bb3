// Runtime ISA choice: the kernel table holds the best variant this CPU and OS support, chosen once at
// load; NODEFORMER_ISA=scalar|avx2|avx512 (or set_isa, for tests) forces a lower one.
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
#include "kernels/matmul_packed.h"
#include "kernels/softmax.h"

namespace nf {

enum class Isa { Scalar, Avx2, Avx512, Neon };

const char* isa_name(Isa isa);

struct KernelTable {
  Isa isa;
  cpu::MatmulFn matmul_forward;
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

// Applies NODEFORMER_ISA if set (throws nf::Error naming the bad value), else the best supported ISA.
void init_dispatch();

}  // namespace nf
