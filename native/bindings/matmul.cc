// N-API glue for GEMM. Operands are contiguous row-major matrices inside Float32Arrays (or all inside
// DeviceArrays: the CUDA GEMM, one launch per product); a batch of
// `batch` products reads A and B at per-batch element offsets (Float64Array, or null for the contiguous
// layout), which is how lib/ops/matmul.ts expresses broadcasting. C is always contiguous [batch, M, N].
//
//   matmulForward(c, a, b, m, k, n, transA, transB, accumulate, batch, aOffsets, bOffsets, bias)
//     bias: [N] added to every row of every product (a Linear layer's bias), or null
//   matmulBackward(dA | null, dB | null, dC, a, b, m, k, n, transA, transB, batch, aOffsets, bOffsets)
//     dA += ∂L/∂A and dB += ∂L/∂B (gradients accumulate, so broadcast operands sum over their batches);
//     each is one matmul_forward call per batch.
// The *Naive twins run the same with the reference triple loop. On the CPU, with backend precision
// 'medium' (set_matmul_bf16), every product and gradient product is the bf16 GEMM instead.
#include <utility>

#include "../dispatch.h"
#include "common.h"

namespace nf::napi {
namespace {

using cpu::GemmArgs;
using cpu::MatmulFn;

struct Operand {
  const char* name;
  size_t length;           // elements in the buffer
  const double* offsets;   // per batch, or null: batch i at i·extent
  int64_t extent;          // elements of one matrix
};

// Checks that every batch of `op` lies inside its buffer; returns the offset of batch i.
int64_t offset_of(const Operand& op, int64_t i) {
  if (!op.offsets) return i * op.extent;
  return static_cast<int64_t>(op.offsets[i]);
}

void check_operand(const Operand& op, int64_t batch) {
  if (!op.offsets) {
    if (static_cast<__int128>(batch) * op.extent != static_cast<__int128>(op.length))
      throw Error(Code::Shape, std::string("Expected ") + std::to_string(batch * op.extent) + " elements in " +
                                   op.name + " but received " + std::to_string(op.length));
    return;
  }
  for (int64_t i = 0; i < batch; ++i) {
    const double o = op.offsets[i];
    if (!(o >= 0 && o == static_cast<double>(static_cast<int64_t>(o)) &&
          static_cast<__int128>(static_cast<int64_t>(o)) + op.extent <= static_cast<__int128>(op.length)))
      throw Error(Code::OutOfRange, std::string("Batch ") + std::to_string(i) + " of " + op.name + " at offset " +
                                       std::to_string(o) + " does not fit in its " + std::to_string(op.length) +
                                       " elements");
  }
}

struct Dims {
  int64_t m, k, n, batch;
  bool ta, tb;
};

void run_forward(MatmulFn fn, const Dims& d, float* c, const float* a, const Operand& ao, const float* b,
                 const Operand& bo, bool accumulate, const float* bias) {
  for (int64_t i = 0; i < d.batch; ++i) {
    fn(GemmArgs{d.m, d.n, d.k, a + offset_of(ao, i), d.ta ? d.m : d.k, d.ta, b + offset_of(bo, i),
                d.tb ? d.k : d.n, d.tb, c + i * d.m * d.n, d.n, accumulate, bias});
  }
}

// See the header comment; the cases follow from dC = op(A)·op(B) with op(X)ᵀ swapping the flag.
void run_backward(MatmulFn fn, const Dims& d, float* da, float* db, const float* dc, const float* a,
                  const Operand& ao, const float* b, const Operand& bo) {
  const int64_t m = d.m, k = d.k, n = d.n;
  for (int64_t i = 0; i < d.batch; ++i) {
    const float* ai = a + offset_of(ao, i);
    const float* bi = b + offset_of(bo, i);
    const float* dci = dc + i * m * n;
    if (da) {
      float* dai = da + offset_of(ao, i);
      if (!d.ta)  // dA[M,K] += dC · op(B)ᵀ
        fn(GemmArgs{m, k, n, dci, n, false, bi, d.tb ? k : n, !d.tb, dai, k, true});
      else  // dA[K,M] += op(B) · dCᵀ
        fn(GemmArgs{k, m, n, bi, d.tb ? k : n, d.tb, dci, n, true, dai, m, true});
    }
    if (db) {
      float* dbi = db + offset_of(bo, i);
      if (!d.tb)  // dB[K,N] += op(A)ᵀ · dC
        fn(GemmArgs{k, n, m, ai, d.ta ? m : k, !d.ta, dci, n, false, dbi, n, true});
      else  // dB[N,K] += dCᵀ · op(A)
        fn(GemmArgs{n, k, m, dci, n, true, ai, d.ta ? m : k, d.ta, dbi, k, true});
    }
  }
}

Dims read_dims(const Napi::CallbackInfo& info, size_t first) {
  Dims d;
  d.m = int_arg(info, first, "m", 0, kMaxDim);
  d.k = int_arg(info, first + 1, "k", 0, kMaxDim);
  d.n = int_arg(info, first + 2, "n", 0, kMaxDim);
  d.ta = bool_arg(info, first + 3, "transA");
  d.tb = bool_arg(info, first + 4, "transB");
  return d;
}

// Reads `batch` and the two offset arrays (arguments first, first+1, first+2) into d and the operands,
// and checks that every batch of a, b and the contiguous output `out` lies inside its buffer.
std::pair<Operand, Operand> read_batch(const Napi::CallbackInfo& info, size_t first, Dims& d, const F32& a,
                                       const F32& b, Operand out) {
  d.batch = int_arg(info, first, "batch", 1, kMaxDim);
  const Operand ao{"a", a.length, f64_arg_or_null(info, first + 1, "aOffsets", d.batch), d.m * d.k};
  const Operand bo{"b", b.length, f64_arg_or_null(info, first + 2, "bOffsets", d.batch), d.k * d.n};
  out.extent = d.m * d.n;
  check_operand(ao, d.batch);
  check_operand(bo, d.batch);
  check_operand(out, d.batch);
  return {ao, bo};
}

MatmulFn pick(bool naive, const cuda::Api* gpu) {
  if (gpu) return gpu->matmul_forward;
  if (matmul_bf16()) return naive ? cpu::ref::matmul_bf16_forward : kernels().matmul_bf16_forward;
  return naive ? cpu::ref::matmul_forward : kernels().matmul_forward;
}

template <bool Naive>
Napi::Value forward(const Napi::CallbackInfo& info) {
  const F32 c = f32_arg(info, 0, "c"), a = f32_arg(info, 1, "a"), b = f32_arg(info, 2, "b");
  Dims d = read_dims(info, 3);
  const bool accumulate = bool_arg(info, 8, "accumulate");
  const auto [ao, bo] = read_batch(info, 9, d, a, b, Operand{"c", c.length, nullptr, 0});
  const std::optional<F32> bias = f32_arg_or_null(info, 12, "bias");
  if (bias) check_length(bias->length, d.n, "bias");
  const cuda::Api* gpu = on_gpu({&c, &a, &b, bias ? &*bias : nullptr}, Naive);
  run_forward(pick(Naive, gpu), d, c.data, a.data, ao, b.data, bo, accumulate, bias ? bias->data : nullptr);
  return info.Env().Undefined();
}

template <bool Naive>
Napi::Value backward(const Napi::CallbackInfo& info) {
  const bool want_da = !info[0].IsNull(), want_db = !info[1].IsNull();
  const F32 da = want_da ? f32_arg(info, 0, "dA") : F32{{"", nullptr}, nullptr, 0};
  const F32 db = want_db ? f32_arg(info, 1, "dB") : F32{{"", nullptr}, nullptr, 0};
  const F32 dc = f32_arg(info, 2, "dC"), a = f32_arg(info, 3, "a"), b = f32_arg(info, 4, "b");
  Dims d = read_dims(info, 5);
  const auto [ao, bo] = read_batch(info, 10, d, a, b, Operand{"dC", dc.length, nullptr, 0});
  // Gradients share their operand's layout, offsets included.
  if (want_da && da.length != a.length)
    throw Error(Code::Shape, "Expected dA to have the " + std::to_string(a.length) + " elements of a but it has " +
                                 std::to_string(da.length));
  if (want_db && db.length != b.length)
    throw Error(Code::Shape, "Expected dB to have the " + std::to_string(b.length) + " elements of b but it has " +
                                 std::to_string(db.length));
  const cuda::Api* gpu = on_gpu({want_da ? &da : nullptr, want_db ? &db : nullptr, &dc, &a, &b}, Naive);
  run_backward(pick(Naive, gpu), d, want_da ? da.data : nullptr, want_db ? db.data : nullptr, dc.data, a.data, ao,
               b.data, bo);
  return info.Env().Undefined();
}

}  // namespace

void register_matmul(Napi::Env env, Napi::Object exports) {
  export_fn<forward<false>>(env, exports, "matmulForward");
  export_fn<forward<true>>(env, exports, "matmulForwardNaive");
  export_fn<backward<false>>(env, exports, "matmulBackward");
  export_fn<backward<true>>(env, exports, "matmulBackwardNaive");
}

}  // namespace nf::napi
