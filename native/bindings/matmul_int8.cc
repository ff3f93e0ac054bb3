// N-API glue for int8 inference (kernels/matmul_int8.h): a Linear layer's weight quantized per row and
// packed once, then y = x·Wᵀ + b with x quantized per row at each call. CPU only (typed arrays).
//
//   quantizeRows(q, scales, x, rows, k)
//     q [rows·k] (Int8Array), scales [rows] ← x [rows, k], symmetric per row
//   matmulInt8PackedBytes(n, k) → the packed weight's bytes
//   matmulInt8Pack(packed, wq, n, k)
//     packed [matmulInt8PackedBytes(n, k)] (Int8Array) ← wq [N, K]
//   matmulInt8Forward(y, x, packed, wScales, m, k, n, bias)
//     y [M, N] = dequant(quant(x) · wqᵀ) (+ bias [N], or null)
//   matmulInt8ForwardNaive(y, x, wq, wScales, m, k, n, bias): the same from the unpacked wq [N, K] by the
//   reference loops
#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

int64_t k_arg(const Napi::CallbackInfo& info, size_t i) { return int_arg(info, i, "k", 0, cpu::kMaxInt8K); }

Napi::Value quantize_rows_js(const Napi::CallbackInfo& info) {
  const I8 q = i8_arg(info, 0, "q");
  const F32 scales = f32_arg(info, 1, "scales"), x = f32_arg(info, 2, "x");
  const int64_t rows = int_arg(info, 3, "rows", 0, kMaxDim), k = int_arg(info, 4, "k", 0, kMaxDim);
  check_length(x.length, elements({rows, k}), "x");
  check_length(q.length, elements({rows, k}), "q");
  check_length(scales.length, rows, "scales");
  if (on_gpu({&scales, &x})) throw Error(Code::Device, "quantizeRows runs on the CPU but x is on cuda");
  cpu::quantize_rows(x.data, rows, k, k, q.data, k, scales.data);
  return info.Env().Undefined();
}

Napi::Value packed_bytes(const Napi::CallbackInfo& info) {
  const int64_t n = int_arg(info, 0, "n", 0, kMaxDim), k = k_arg(info, 1);
  const int64_t bytes = cpu::int8_packed_bytes(n, k);
  if (bytes > kMaxSafeInteger)
    throw Error(Code::OutOfRange, "Expected a packed weight of at most 2^53 - 1 bytes but " + std::to_string(n) + "×" +
                                      std::to_string(k) + " packs into " + std::to_string(bytes));
  return Napi::Number::New(info.Env(), static_cast<double>(bytes));
}

Napi::Value pack(const Napi::CallbackInfo& info) {
  const I8 packed = i8_arg(info, 0, "packed"), wq = i8_arg(info, 1, "wq");
  const int64_t n = int_arg(info, 2, "n", 0, kMaxDim), k = k_arg(info, 3);
  check_length(wq.length, elements({n, k}), "wq");
  check_length(packed.length, cpu::int8_packed_bytes(n, k), "packed");
  cpu::int8_pack(wq.data, n, k, packed.data);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 y = f32_arg(info, 0, "y"), x = f32_arg(info, 1, "x");
  const I8 w = i8_arg(info, 2, Naive ? "wq" : "packed");
  const F32 scales = f32_arg(info, 3, "wScales");
  const int64_t m = int_arg(info, 4, "m", 0, kMaxDim), k = k_arg(info, 5), n = int_arg(info, 6, "n", 0, kMaxDim);
  const std::optional<F32> bias = f32_arg_or_null(info, 7, "bias");
  check_length(x.length, elements({m, k}), "x");
  check_length(y.length, elements({m, n}), "y");
  check_length(w.length, Naive ? elements({n, k}) : cpu::int8_packed_bytes(n, k), Naive ? "wq" : "packed");
  check_length(scales.length, n, "wScales");
  if (bias) check_length(bias->length, n, "bias");
  if (on_gpu({&y, &x, &scales, bias ? &*bias : nullptr}))
    throw Error(Code::Device, "int8 weights are a CPU path but the operands are on cuda");
  (Naive ? cpu::ref::matmul_int8_forward : kernels().matmul_int8_forward)(
      cpu::Int8GemmArgs{m, n, k, x.data, w.data, scales.data, y.data, bias ? bias->data : nullptr});
  return info.Env().Undefined();
}

}  // namespace

void register_matmul_int8(Napi::Env env, Napi::Object exports) {
  export_fn<quantize_rows_js>(env, exports, "quantizeRows");
  export_fn<packed_bytes>(env, exports, "matmulInt8PackedBytes");
  export_fn<pack>(env, exports, "matmulInt8Pack");
  export_fn<forward<false>>(env, exports, "matmulInt8Forward");
  export_fn<forward<true>>(env, exports, "matmulInt8ForwardNaive");
}

}  // namespace nf::napi
