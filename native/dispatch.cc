// See dispatch.h. On x86-64 an ISA counts only if cpuid reports it *and* the OS saves its registers on a
// context switch (xgetbv: XMM|YMM state for AVX2, plus opmask|ZMM state for AVX-512); a CPU can have
// AVX-512 that the OS (or a hypervisor, or valgrind) has not enabled.
#include "dispatch.h"

#include <array>
#include <atomic>
#include <cstdlib>

#include "errors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
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
  bool amx_bf16 = false;  // AMX-TILE and AMX-BF16, with the tile state enabled and granted to this process
};

// Linux enables the AMX tile data (8 KiB of state) per process, on request (arch_prctl ARCH_REQ_XCOMP_PERM
// for XFEATURE_XTILEDATA); without the grant the first tile instruction faults. Other systems: not used.
bool os_grants_amx() {
#if defined(__linux__) && defined(__x86_64__)
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
#else
  return false;
#endif
}

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
  const bool amx_tile = d & (1u << 24), amx_bf16 = d & (1u << 22);
  const bool os_tiles = (xcr0 & 0x60000) == 0x60000;  // XTILECFG and XTILEDATA
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) f.avx512_bf16 = f.avx512 && (a & (1u << 5));
  f.amx_bf16 = f.avx512_bf16 && amx_tile && amx_bf16 && os_tiles && os_grants_amx();
  return f;
}
#endif

// Every kernel of one ISA namespace, in KernelTable's order (the low-precision ones as emulations).
#define NF_KERNELS(isa, ns)                                                                                    \
  KernelTable {                                                                                                \
    isa, false, false, false, cpu::ns::matmul_forward, cpu::ns::matmul_bf16_forward,                           \
        cpu::ns::matmul_int8_forward, cpu::ns::matmul_packed_forward, cpu::ns::fma_peak,                       \
        cpu::ns::activation_forward, cpu::ns::activation_backward, cpu::ns::add_bias_forward,                  \
        cpu::ns::add_bias_backward,                                                                            \
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

// The low-precision kernels use the CPU's instructions where it has them (AVX-512 only so far), its
// tiles too unless `lowp` says vector instructions only.
KernelTable table_for(Isa isa, LowPrecision lowp) {
  KernelTable t = isa_table(isa);
  const bool native = lowp != LowPrecision::Emulate;
#if defined(__x86_64__)
  if (isa == Isa::Avx512 && native && cpu_has_bf16()) {
    t.bf16 = true;
    t.matmul_bf16_forward = cpu::avx512bf16::matmul_bf16_forward;
  }
  if (isa == Isa::Avx512 && lowp == LowPrecision::Native && cpu_has_amx()) {
    t.amx = true;
    t.matmul_bf16_forward = cpu::avx512bf16::matmul_bf16_amx_forward;
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
const KernelTable& table(Isa isa, LowPrecision lowp) {
  static const auto tables = [] {
    std::array<std::array<KernelTable, 4>, 3> t{};
    for (int l = 0; l < 3; ++l)
      for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon})
        t[l][static_cast<int>(i)] = table_for(i, static_cast<LowPrecision>(l));
    return t;
  }();
  return tables[static_cast<int>(lowp)][static_cast<int>(isa)];
}
std::atomic<const KernelTable*> g_current{nullptr};
std::atomic<LowPrecision> g_low_precision{LowPrecision::Native};
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
bool cpu_has_amx() { return x86().amx_bf16; }
#else
bool cpu_has_bf16() { return false; }
bool cpu_has_vnni() { return false; }
bool cpu_has_amx() { return false; }
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
    if (name == isa_name(isa)) return table(isa, g_low_precision.load(std::memory_order_relaxed));
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

const char* low_precision_name(LowPrecision l) {
  switch (l) {
    case LowPrecision::Emulate: return "emulate";
    case LowPrecision::Vector: return "vector";
    case LowPrecision::Native: return "native";
  }
  return "native";
}

LowPrecision parse_low_precision(const std::string& name) {
  for (LowPrecision l : {LowPrecision::Native, LowPrecision::Vector, LowPrecision::Emulate})
    if (name == low_precision_name(l)) return l;
  throw Error(Code::InvalidArgument,
              "Expected lowPrecision 'native', 'vector' or 'emulate' but received '" + name + "'");
}

void set_low_precision(LowPrecision lowp) {
  g_low_precision.store(lowp, std::memory_order_relaxed);
  set_isa(isa_name(kernels().isa));
}

void init_dispatch() {
  const char* lowp = std::getenv("NODEFORMER_LOW_PRECISION");
  if (lowp && *lowp) {
    try {
      g_low_precision.store(parse_low_precision(lowp), std::memory_order_relaxed);
    } catch (const Error& e) {
      throw Error(Code::InvalidArgument, std::string("NODEFORMER_LOW_PRECISION: ") + e.what());
    }
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
