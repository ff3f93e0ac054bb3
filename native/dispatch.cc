// See dispatch.h. On x86-64 an ISA counts only if cpuid reports it *and* the OS saves its registers on a
// context switch (xgetbv: XMM|YMM state for AVX2, plus opmask|ZMM state for AVX-512); a CPU can have
// AVX-512 that the OS (or a hypervisor, or valgrind) has not enabled.
#include "dispatch.h"

#include <atomic>
#include <cstdlib>

#include "errors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace nf {
namespace {

#if defined(__x86_64__) || defined(__i386__)
uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}

struct X86Features {
  bool avx2_fma = false;
  bool avx512 = false;
  bool avx512_bf16 = false;
  bool avx512_vnni = false;
};

X86Features detect_x86() {
  X86Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool os_ymm = (xcr0 & 0x6) == 0x6;        // XMM and YMM state
  const bool os_zmm = (xcr0 & 0xe6) == 0xe6;      // plus opmask, ZMM0-15 upper halves, ZMM16-31
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool avx2 = b & (1u << 5);
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31);
  f.avx2_fma = os_ymm && avx2 && fma;
  f.avx512 = f.avx2_fma && os_zmm && avx512f && avx512dq && avx512bw && avx512vl;
  f.avx512_vnni = f.avx512 && (c & (1u << 11));
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512_bf16 = f.avx512 && (a & (1u << 5));
  return f;
}
#endif

// Every kernel of one ISA namespace, in KernelTable's order (the low-precision ones as emulations).
#define NF_KERNELS(isa, ns)                                                                                    \
  KernelTable {                                                                                                \
    isa, false, false, cpu::ns::matmul_forward, cpu::ns::matmul_bf16_forward, cpu::ns::matmul_int8_forward,    \
        cpu::ns::matmul_packed_forward, cpu::ns::fma_peak, cpu::ns::activation_forward,                       \
        cpu::ns::activation_backward, cpu::ns::add_bias_forward, cpu::ns::add_bias_backward,                   \
        cpu::ns::add_forward, cpu::ns::dropout_forward, cpu::ns::embedding_forward,                            \
        cpu::ns::embedding_backward, cpu::ns::adam_update, cpu::ns::attention_forward,                         \
        cpu::ns::attention_backward, cpu::ns::layer_norm_forward, cpu::ns::layer_norm_backward,                \
        cpu::ns::softmax_forward, cpu::ns::softmax_backward, cpu::ns::cross_entropy_forward,                   \
        cpu::ns::cross_entropy_backward                                                                        \
  }

KernelTable isa_table(Isa isa) {
  switch (isa) {
#if defined(__x86_64__)
    case Isa::Avx512: return NF_KERNELS(isa, avx512);
    case Isa::Avx2: return NF_KERNELS(isa, avx2);
#endif
#if defined(__aarch64__)
    case Isa::Neon: return NF_KERNELS(isa, neon);
#endif
    default: return NF_KERNELS(Isa::Scalar, scalar);
  }
}
#undef NF_KERNELS

// `native`: the low-precision kernels use the CPU's instructions where it has them (AVX-512 only so far).
KernelTable table_for(Isa isa, bool native) {
  KernelTable t = isa_table(isa);
#if defined(__x86_64__)
  if (isa == Isa::Avx512 && native && cpu_has_bf16()) {
    t.bf16 = true;
    t.matmul_bf16_forward = cpu::avx512bf16::matmul_bf16_forward;
  }
  if (isa == Isa::Avx512 && native && cpu_has_vnni()) {
    t.int8 = true;
    t.matmul_int8_forward = cpu::avx512vnni::matmul_int8_forward;
  }
#else
  (void)native;
#endif
  return t;
}

// One immutable table per ISA and low-precision choice, built once; switching swaps which one is current.
const KernelTable& table(Isa isa, bool native) {
  static const KernelTable tables[2][4] = {
      {table_for(Isa::Scalar, false), table_for(Isa::Avx2, false), table_for(Isa::Avx512, false),
       table_for(Isa::Neon, false)},
      {table_for(Isa::Scalar, true), table_for(Isa::Avx2, true), table_for(Isa::Avx512, true),
       table_for(Isa::Neon, true)}};
  return tables[native][static_cast<int>(isa)];
}
std::atomic<const KernelTable*> g_current{nullptr};
std::atomic<bool> g_native_low_precision{true};
std::atomic<MatmulPrecision> g_matmul_precision{MatmulPrecision::High};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
  }
  return "scalar";
}

#if defined(__x86_64__)
// cpuid and xgetbv once per process: the answer cannot change while it runs.
const X86Features& x86() {
  static const X86Features f = detect_x86();
  return f;
}
bool cpu_has_bf16() { return x86().avx512_bf16; }
bool cpu_has_vnni() { return x86().avx512_vnni; }
#else
bool cpu_has_bf16() { return false; }
bool cpu_has_vnni() { return false; }
#endif

void set_matmul_precision(MatmulPrecision p) { g_matmul_precision.store(p, std::memory_order_relaxed); }
MatmulPrecision matmul_precision() { return g_matmul_precision.load(std::memory_order_relaxed); }

std::vector<Isa> supported_isas() {
  std::vector<Isa> out{Isa::Scalar};
#if defined(__x86_64__)
  const X86Features& f = x86();
  if (f.avx2_fma) out.push_back(Isa::Avx2);
  if (f.avx512) out.push_back(Isa::Avx512);
#elif defined(__aarch64__)
  out.push_back(Isa::Neon);
#endif
  return out;
}

const KernelTable& kernels() {
  const KernelTable* t = g_current.load(std::memory_order_acquire);
  if (!t) {
    init_dispatch();
    t = g_current.load(std::memory_order_acquire);
  }
  return *t;
}

const KernelTable& kernels_for(const std::string& name) {
  std::string known;
  for (Isa isa : supported_isas()) {
    if (name == isa_name(isa)) return table(isa, g_native_low_precision.load(std::memory_order_relaxed));
    known += known.empty() ? "" : ", ";
    known += isa_name(isa);
  }
  throw Error(Code::InvalidArgument,
              "Expected an ISA this machine supports (" + known + ") but received '" + name + "'");
}

Isa set_isa(const std::string& name) {
  const KernelTable& t = kernels_for(name);
  g_current.store(&t, std::memory_order_release);
  return t.isa;
}

void set_native_low_precision(bool native) {
  g_native_low_precision.store(native, std::memory_order_relaxed);
  set_isa(isa_name(kernels().isa));
}

void init_dispatch() {
  const char* lowp = std::getenv("NODEFORMER_LOW_PRECISION");
  if (lowp && *lowp) {
    const std::string v = lowp;
    if (v != "native" && v != "emulate")
      throw Error(Code::InvalidArgument,
                  "NODEFORMER_LOW_PRECISION: expected 'native' or 'emulate' but received '" + v + "'");
    g_native_low_precision.store(v == "native", std::memory_order_relaxed);
  }
  const char* forced = std::getenv("NODEFORMER_ISA");
  if (forced && *forced) {
    try {
      set_isa(forced);
    } catch (const Error& e) {
      throw Error(Code::InvalidArgument, std::string("NODEFORMER_ISA: ") + e.what());
    }
    return;
  }
  set_isa(isa_name(supported_isas().back()));
}

}  // namespace nf
