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
  return f;
}
#endif

// Every kernel of one ISA namespace, in KernelTable's order.
#define NF_KERNELS(isa, ns)                                                                                    \
  KernelTable {                                                                                                \
    isa, cpu::ns::matmul_forward, cpu::ns::matmul_packed_forward, cpu::ns::fma_peak, cpu::ns::activation_forward,  \
        cpu::ns::activation_backward,                                                                          \
        cpu::ns::add_bias_forward, cpu::ns::add_bias_backward, cpu::ns::add_forward, cpu::ns::dropout_forward,  \
        cpu::ns::embedding_forward, cpu::ns::embedding_backward, cpu::ns::adam_update, cpu::ns::attention_forward,  \
        cpu::ns::attention_backward, cpu::ns::layer_norm_forward, cpu::ns::layer_norm_backward, cpu::ns::softmax_forward, \
        cpu::ns::softmax_backward, cpu::ns::cross_entropy_forward, cpu::ns::cross_entropy_backward \
  }

KernelTable table_for(Isa isa) {
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

// One immutable table per ISA, built once; switching ISA swaps which one is current.
const KernelTable& table(Isa isa) {
  static const KernelTable tables[] = {table_for(Isa::Scalar), table_for(Isa::Avx2), table_for(Isa::Avx512),
                                       table_for(Isa::Neon)};
  return tables[static_cast<int>(isa)];
}
std::atomic<const KernelTable*> g_current{nullptr};

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

std::vector<Isa> supported_isas() {
  std::vector<Isa> out{Isa::Scalar};
#if defined(__x86_64__)
  const X86Features f = detect_x86();
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
    if (name == isa_name(isa)) return table(isa);
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

void init_dispatch() {
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
