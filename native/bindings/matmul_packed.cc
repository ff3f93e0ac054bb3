// N-API glue for the GEMM against packed weights (kernels/matmul_packed.h): a Linear layer's weight
// W [N, K] packed once, then y = x·Wᵀ + b for every decoding step. CPU only: a DeviceArray argument is
// an ERR_DEVICE error.
//
//   matmulPackedSize(n, k) → ceil(n / 16)·16·k, the packed length
//   matmulPack(packed, w, n, k)
//     packed [matmulPackedSize(n, k)] ← w [N, K]
//   matmulPackedForward(c, a, packed, m, k, n, batch, aOffsets, bias)
//     c [batch, M, N] = a_i [M, K] · Wᵀ (+ bias [N] on every row, or null) for `batch` inputs against the
//     one weight, a_i at element offset aOffsets[i] of a (Float64Array), or at i·M·K when null; as in
//     matmulForward (the benches time many products per call this way)
//   matmulPackedForwardNaive: the same with the reference loops (kernels/matmul_packed_ref.cc)
#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

void cpu_only(std::initializer_list<const Buffer*> buffers, const char* fn) {
  for (const Buffer* b : buffers)
    if (b && b->block)
      throw Error(Code::Device, std::string("Expected cpu buffers for ") + fn +
                                    " (packed weights are a CPU path) but " + b->name + " is on cuda");
}

Napi::Value packed_size(const Napi::CallbackInfo& info) {
  const int64_t n = int_arg(info, 0, "n", 0, kMaxDim), k = int_arg(info, 1, "k", 0, kMaxDim);
  const int64_t size = cpu::matmul_packed_size(n, k);
  if (size > kMaxSafeInteger)
    throw Error(Code::OutOfRange, "Expected a packed weight of at most 2^53 - 1 elements but " + std::to_string(n) +
                                      "×" + std::to_string(k) + " packs into " + std::to_string(size));
  return Napi::Number::New(info.Env(), static_cast<double>(size));
}

Napi::Value pack(const Napi::CallbackInfo& info) {
  const F32 packed = f32_arg(info, 0, "packed"), w = f32_arg(info, 1, "w");
  const int64_t n = int_arg(info, 2, "n", 0, kMaxDim), k = int_arg(info, 3, "k", 0, kMaxDim);
  check_length(w.length, elements({n, k}), "w");
  check_length(packed.length, cpu::matmul_packed_size(n, k), "packed");
  cpu_only({&packed, &w}, "matmulPack");
  cpu::matmul_pack(w.data, n, k, packed.data);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 c = f32_arg(info, 0, "c"), a = f32_arg(info, 1, "a"), packed = f32_arg(info, 2, "packed");
  const int64_t m = int_arg(info, 3, "m", 0, kMaxDim), k = int_arg(info, 4, "k", 0, kMaxDim),
                n = int_arg(info, 5, "n", 0, kMaxDim), batch = int_arg(info, 6, "batch", 1, kMaxDim);
  const double* offsets = f64_arg_or_null(info, 7, "aOffsets", static_cast<size_t>(batch));
  const std::optional<F32> bias = f32_arg_or_null(info, 8, "bias");
  if (!offsets) check_length(a.length, elements({batch, m, k}), "a");
  for (int64_t i = 0; offsets && i < batch; ++i) {
    const double o = offsets[i];
    if (!(o >= 0 && o <= static_cast<double>(kMaxSafeInteger) && o == static_cast<double>(static_cast<int64_t>(o)) &&
          static_cast<__int128>(static_cast<int64_t>(o)) + m * k <= static_cast<__int128>(a.length)))
      throw Error(Code::OutOfRange, "Batch " + std::to_string(i) + " of a at offset " + std::to_string(o) +
                                        " does not fit in its " + std::to_string(a.length) + " elements");
  }
  check_length(c.length, elements({batch, m, n}), "c");
  check_length(packed.length, cpu::matmul_packed_size(n, k), "packed");
  if (bias) check_length(bias->length, n, "bias");
  cpu_only({&c, &a, &packed, bias ? &*bias : nullptr}, Naive ? "matmulPackedForwardNaive" : "matmulPackedForward");
  const cpu::MatmulPackedFn fn = Naive ? cpu::ref::matmul_packed_forward : kernels().matmul_packed_forward;
  for (int64_t i = 0; i < batch; ++i)
    fn(cpu::PackedGemmArgs{m, n, k, a.data + (offsets ? static_cast<int64_t>(offsets[i]) : i * m * k), packed.data,
                           c.data + i * m * n,
                           bias ? bias->data : nullptr});
  return info.Env().Undefined();
}

}  // namespace

void register_matmul_packed(Napi::Env env, Napi::Object exports) {
  export_fn<packed_size>(env, exports, "matmulPackedSize");
  export_fn<pack>(env, exports, "matmulPack");
  export_fn<forward<false>>(env, exports, "matmulPackedForward");
  export_fn<forward<true>>(env, exports, "matmulPackedForwardNaive");
}

}  // namespace nf::napi
