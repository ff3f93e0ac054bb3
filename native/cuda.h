// The CUDA backend as the rest of the addon sees it: one table of functions, or null when the addon was
// built without CUDA (binding.gyp, or CMake without nvcc). This header includes nothing from CUDA, so the
// N-API glue in native/bindings is the same code in both builds; only native/cuda.cc knows whether
// cuda/ was compiled in.
//
// Kernels take the CPU kernels' own argument structs and function types (native/kernels/*.h); every
// pointer in them is a device pointer, except where a field says "host" (attention's kv_lengths). All
// launches go to one stream per process (cuda/runtime.cu), in call order, so a buffer freed to the
// caching allocator can be handed out again at once: any later kernel that reuses it runs after every
// earlier kernel that read it. Functions that return a value to the host (cross_entropy_forward,
// sum_squares, to_host, status) synchronise that stream; nothing else does.
//
// Errors: every function throws nf::Error (Code::Native with the CUDA error's name and text, or
// Code::Device when no GPU can be used); none aborts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/activation.h"
#include "kernels/adam.h"
#include "kernels/add.h"
#include "kernels/attention.h"
#include "kernels/cross_entropy.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/layer_norm.h"
#include "kernels/matmul.h"
#include "kernels/softmax.h"
#include "kernels/strided_copy.h"

namespace nf::cuda {

// Whether a GPU can be used, and if not why (no driver, no device, a driver older than the runtime).
struct Status {
  bool available;
  std::string reason;                // empty when available
  std::vector<std::string> devices;  // "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)", one per visible GPU
};

struct MemoryStats {
  size_t allocated;  // bytes handed out and not yet freed
  size_t cached;     // bytes held by the caching allocator for reuse (not handed out)
  size_t peak;       // the most `allocated` has been since the process started
};

// Element-wise ops with NumPy broadcasting, rank ≤ kMaxCopyRank: out[i] = a[Σ i_k·a_strides[k]] op
// b[Σ i_k·b_strides[k]] over every index i of `shape` (out contiguous; a stride 0 broadcasts).
enum class BinaryOp { Add, Sub, Mul };
struct BinaryArgs {
  BinaryOp op;
  int rank;
  int64_t shape[cpu::kMaxCopyRank];
  int64_t a_strides[cpu::kMaxCopyRank];
  int64_t b_strides[cpu::kMaxCopyRank];
  const float* a;
  const float* b;
  float* out;  // contiguous, Π shape elements
};

// out[j] = scale · Σ x[i] over every index i of `shape` that maps to j, where j = Σ i_k·out_strides[k]
// (out_strides[k] = 0 for a reduced dimension, else the contiguous stride of the kept shape). Sums in
// double; out has Π(kept dims) elements and is assigned.
struct ReduceArgs {
  int rank;
  int64_t shape[cpu::kMaxCopyRank];
  int64_t out_strides[cpu::kMaxCopyRank];
  const float* x;  // contiguous, Π shape elements
  float* out;
  int64_t out_size;
  float scale;
};

struct Api {
  // Runtime (cuda/runtime.cu). status() is cheap after the first call, which initialises the device.
  Status (*status)();
  void* (*alloc)(size_t bytes);  // caching allocator; 256-byte aligned; never returns null (throws)
  void (*free)(void* p);         // back to the cache (stream-ordered reuse, see above); null is a no-op
  void (*to_device)(void* dst, const void* host_src, size_t bytes);
  void (*to_host)(void* host_dst, const void* src, size_t bytes);  // synchronises
  void (*copy)(void* dst, const void* src, size_t bytes);          // device to device
  void (*zero)(void* dst, size_t bytes);
  void (*synchronize)();
  void (*empty_cache)();  // returns every cached, unused block to the driver
  MemoryStats (*memory_stats)();
  // GEMM and attention math: TF32 tensor cores (true, the default) or exact fp32 (false).
  void (*set_tf32)(bool enabled);

  // The CPU table's kernels (dispatch.h), same argument types, device pointers.
  cpu::MatmulFn matmul_forward;
  cpu::ActivationForwardFn activation_forward;
  cpu::ActivationBackwardFn activation_backward;
  cpu::AddBiasForwardFn add_bias_forward;
  cpu::AddBiasBackwardFn add_bias_backward;
  cpu::AddForwardFn add_forward;
  cpu::DropoutForwardFn dropout_forward;  // the same mask as the CPU's, bit for bit
  // Ids are checked on the device: an id outside [0, vocab) makes this throw Code::OutOfRange naming its
  // position (it synchronises to read the flag) and writes nothing for that row.
  void (*embedding_forward)(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols, int64_t vocab);
  // Ids outside [0, vocab) are skipped (the forward has refused them; this keeps a bad id from writing
  // outside dw when the backward is called on its own).
  void (*embedding_backward)(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols,
                             int64_t padding_idx, int64_t vocab);
  cpu::AdamUpdateFn adam_update;
  cpu::AttentionForwardFn attention_forward;    // kv_lengths is a host pointer
  cpu::AttentionBackwardFn attention_backward;  // kv_lengths is a host pointer
  cpu::LayerNormForwardFn layer_norm_forward;
  cpu::LayerNormBackwardFn layer_norm_backward;
  cpu::SoftmaxForwardFn softmax_forward;
  cpu::SoftmaxBackwardFn softmax_backward;
  // Targets are checked on the device as the CPU binding checks them on the host: one outside [0, V) that
  // is not ignore_index throws Code::OutOfRange naming its row. Returns Σ loss over kept rows (as the
  // CPU's) and writes the number of kept rows to *kept.
  double (*cross_entropy_forward)(const cpu::CrossEntropyArgs& a, float* lse, int64_t* kept);
  // dlogits for gradOutput · mean loss: the kept rows are counted on the device (no synchronisation), and
  // a row whose target is invalid is treated as ignored (the forward has already refused it).
  void (*cross_entropy_backward)(const cpu::CrossEntropyArgs& a, const float* lse, float grad_output, float* dlogits);
  void (*strided_copy)(const cpu::StridedCopyArgs& a);

  // Glue of lib/ops/arith.ts and the optimiser (the CPU runs these as plain loops in TypeScript).
  void (*binary)(const BinaryArgs& a);
  void (*reduce_sum)(const ReduceArgs& a);
  void (*scale)(float* y, const float* x, float s, int64_t n);
  void (*fill)(float* y, float value, int64_t n);
  double (*sum_squares)(const float* x, int64_t n);  // Σ x², in double; synchronises
};

// The table, or null when this addon has no CUDA code.
const Api* api();

}  // namespace nf::cuda
