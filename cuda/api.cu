// The table native/cuda.h describes, filled with the launchers of this folder.
#include "common.cuh"
#include "kernels.h"

namespace nf::cuda {

const Api* api() {
  static const Api table{
      status, device_alloc, device_free, to_device, to_host, copy, zero, synchronize, empty_cache, memory_stats,
      set_tf32,
      matmul_forward, activation_forward, activation_backward, add_bias_forward, add_bias_backward, add_forward,
      dropout_forward, embedding_forward, embedding_backward, adam_update, attention_forward, attention_backward,
      layer_norm_forward, layer_norm_backward, softmax_forward, softmax_backward, cross_entropy_forward,
      cross_entropy_backward, strided_copy,
      binary, reduce_sum, scale, fill, sum_squares};
  return &table;
}

}  // namespace nf::cuda
