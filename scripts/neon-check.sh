#!/usr/bin/env bash
# The NEON low-precision kernels on x86: cross-compiles test/native/neon/low_precision.cc with the NEON
# translation units (static, aarch64) and runs it under qemu-aarch64, which must report that every case
# gives the reference's bits. On an arm64 machine it builds and runs natively. Needs, on x86, Debian's
# g++-aarch64-linux-gnu and qemu-user-static.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build-neon
sources=(test/native/neon/low_precision.cc native/kernels/matmul_neon.cc native/kernels/matmul_int8_neon.cc
  native/kernels/matmul_ref.cc native/kernels/matmul_int8_ref.cc native/threadpool.cc native/memory.cc)
if [[ "$(uname -m)" == aarch64 ]]; then
  g++ -std=c++17 -O2 -Wall -Wextra -Werror -I. "${sources[@]}" -lpthread -o build-neon/low_precision
  build-neon/low_precision
else
  aarch64-linux-gnu-g++ -std=c++17 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -static -I. "${sources[@]}" -lpthread \
    -o build-neon/low_precision
  qemu-aarch64-static build-neon/low_precision
fi
