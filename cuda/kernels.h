// The launchers of cuda/*.cu, one per entry of nf::cuda::Api (native/cuda.h); cuda/api.cu puts them in
// the table. Same argument types as the CPU kernels, device pointers (see native/cuda.h for the
// exceptions). Each launcher queues its kernels on stream() and returns; see each file for shapes, what
// is saved and the launch geometry.
#pragma once

#include "../native/cuda.h"

namespace nf::cuda {

// runtime.cu
Status status();
void to_device(void* dst, const void* host_src, size_t bytes);
void to_host(void* host_dst, const void* src, size_t bytes);
void copy(void* dst, const void* src, size_t bytes);
void zero(void* dst, size_t bytes);
void synchronize();
void empty_cache();
MemoryStats memory_stats();
void set_tf32(bool enabled);

// matmul.cu
void matmul_forward(const cpu::GemmArgs& g);

// attention.cu
void attention_forward(const cpu::AttentionArgs& a, float* out, float* lse);
void attention_backward(const cpu::AttentionArgs& a, const float* out, const float* dout, const float* lse, float* dq,
                        float* dk, float* dv);

// layer_norm.cu
void layer_norm_forward(const cpu::LayerNormArgs& a);
void layer_norm_backward(const cpu::LayerNormGradArgs& a);

// softmax.cu
void softmax_forward(float* y, const float* x, int64_t n, int64_t c);
void softmax_backward(float* dx, const float* dy, const float* y, int64_t n, int64_t c);

// cross_entropy.cu
double cross_entropy_forward(const cpu::CrossEntropyArgs& a, float* lse, int64_t* kept);
void cross_entropy_backward(const cpu::CrossEntropyArgs& a, const float* lse, float grad_output, float* dlogits);

// activation.cu
void activation_forward(cpu::Act act, const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void activation_backward(cpu::Act act, const float* x, const float* b, const float* dy, float* dx, float* db,
                         int64_t rows, int64_t cols);

// add.cu
void add_bias_forward(const float* x, const float* b, float* y, int64_t rows, int64_t cols);
void add_bias_backward(const float* dy, float* db, int64_t rows, int64_t cols);
void add_forward(const float* a, const float* b, float* y, int64_t n);

// dropout.cu
void dropout_forward(const float* x, float* y, int64_t n, double p, uint64_t seed, uint64_t offset);

// embedding.cu
void embedding_forward(const float* w, const int32_t* ids, float* out, int64_t n, int64_t cols, int64_t vocab);
void embedding_backward(const int32_t* ids, const float* dout, float* dw, int64_t n, int64_t cols, int64_t padding_idx,
                        int64_t vocab);

// adam.cu
void adam_update(const cpu::AdamArgs& a);

// strided_copy.cu
void strided_copy(const cpu::StridedCopyArgs& a);

// elementwise.cu
void binary(const BinaryArgs& a);
void reduce_sum(const ReduceArgs& a);
void scale(float* y, const float* x, float s, int64_t n);
void fill(float* y, float value, int64_t n);
double sum_squares(const float* x, int64_t n);

}  // namespace nf::cuda
