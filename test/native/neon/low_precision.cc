// The NEON build of the low-precision GEMMs (matmul_neon.cc's bf16 emulation, matmul_int8_neon.cc), run on
// an arm64 CPU or under qemu-aarch64 by scripts/neon-check.sh: bit for bit with the reference loops on
// awkward shapes, every transpose, with and without accumulate and bias, on data whose bf16 sums go
// denormal (flushed) or overflow. The vitest suites cover the x86 ISAs the same way.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "native/kernels/matmul.h"
#include "native/kernels/matmul_int8.h"

using namespace nf::cpu;

namespace {
unsigned state = 1;
// A uniform in (−1, 1) scaled by 2^(e … e + 5).
float rnd(int e) {
  state = state * 1103515245u + 12345u;
  const float u = ((state >> 8) / 16777216.0f) * 2 - 1;
  return std::ldexp(u, e + int((state >> 3) % 6));
}
}  // namespace

int main() {
  int bad = 0, total = 0;
  const int shapes[][3] = {{1,1,1},{3,5,17},{13,37,31},{25,513,7},{40,1025,45},{7,64,100}};
  for (auto& sh : shapes) for (int e : {0, -70, 60}) for (int t = 0; t < 4; ++t) {
    const int m = sh[0], k = sh[1], n = sh[2]; const bool ta = t & 1, tb = t & 2;
    std::vector<float> a(m * k), b(k * n), c(m * n), r(m * n), c0(m * n), bias(n);
    for (auto& x : a) x = rnd(e);
    for (auto& x : b) x = rnd(e);
    for (auto& x : c0) x = rnd(e - 60);
    for (auto& x : bias) x = rnd(0);
    for (bool acc : {false, true}) {
      c = c0; r = c0;
      GemmArgs g{m, n, k, a.data(), ta ? m : k, ta, b.data(), tb ? k : n, tb, c.data(), n, acc, e == 0 ? bias.data() : nullptr};
      neon::matmul_bf16_forward(g);
      g.c = r.data(); ref::matmul_bf16_forward(g);
      ++total;
      if (std::memcmp(c.data(), r.data(), c.size() * 4)) {
        ++bad;
        std::printf("bf16 differs: %d×%d×%d, exponent %d, transposes %d, accumulate %d\n", m, k, n, e, t, acc);
      }
    }
  }
  for (auto& sh : shapes) {
    const int m = sh[0], k = sh[1], n = sh[2];
    std::vector<float> x(m * k), w(n * k), ws(n), y(m * n), r(m * n), bias(n);
    for (auto& v : x) v = rnd(0);
    for (auto& v : w) v = rnd(-3);
    for (auto& v : bias) v = rnd(0);
    std::vector<int8_t> wq(n * k), packed(int8_packed_bytes(n, k));
    quantize_rows(w.data(), n, k, k, wq.data(), k, ws.data());
    int8_pack(wq.data(), n, k, packed.data());
    Int8GemmArgs g{m, n, k, x.data(), packed.data(), ws.data(), y.data(), bias.data()};
    neon::matmul_int8_forward(g);
    g.w = wq.data(); g.y = r.data(); ref::matmul_int8_forward(g);
    ++total;
    if (std::memcmp(y.data(), r.data(), y.size() * 4)) {
      ++bad;
      std::printf("int8 differs: %d×%d×%d\n", m, k, n);
    }
  }
  std::printf("NEON vs reference: %d of %d cases differ\n", bad, total);
  return bad != 0;
}
