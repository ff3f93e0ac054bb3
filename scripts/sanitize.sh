#!/usr/bin/env bash
# The addon under AddressSanitizer + UndefinedBehaviorSanitizer (issue 16): builds it into build-sanitize/
# (cmake-js, CMakeLists.txt's NF_SANITIZE; your build/ is left alone), then runs the native and model
# suites against it with the ASan runtime preloaded into Node, which is not itself instrumented. Any report
# (an out-of-bounds access, a use after free, undefined behaviour) stops the run with a non-zero status.
#   scripts/sanitize.sh                 build, then the default suites
#   scripts/sanitize.sh test/native     build, then only these vitest paths
# Then LeakSanitizer over the leak run's child (test/reliability/fixtures/leak_child.ts): Node never frees
# some of its own memory, by design, so the child's exit status ignores leaks (exitcode=0) and
# scripts/lsan-ours.cjs fails only on those allocated through the addon.
set -euo pipefail
cd "$(dirname "$0")/.."
npx cmake-js rebuild --out build-sanitize --CDWITH_CUDA=OFF --CDNF_SANITIZE=ON
runtime="$(${CXX:-c++} -print-file-name=libasan.so)"
[[ -f "$runtime" ]] || { echo "sanitize.sh: no ASan runtime at '$runtime' (install the compiler's libasan)" >&2; exit 1; }
suites=("$@")
(( ${#suites[@]} )) || suites=(test/native test/ops test/autograd test/nn test/decode test/fuzz/native.test.ts)
# detect_leaks=0 for the suites (Node's own leaks, see above); abort_on_error: a report kills the test
# process, so vitest fails its file.
NODEFORMER_ADDON="$PWD/build-sanitize/Release/nodeformer.node" \
LD_PRELOAD="$runtime" \
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  npx vitest run --testTimeout=180000 "${suites[@]}"

reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT
NODEFORMER_ADDON="$PWD/build-sanitize/Release/nodeformer.node" \
LD_PRELOAD="$runtime" \
ASAN_OPTIONS="detect_leaks=1:log_path=$reports/lsan" \
LSAN_OPTIONS=exitcode=0 \
  node --expose-gc --import tsx test/reliability/fixtures/leak_child.ts 500 50
node scripts/lsan-ours.cjs "$reports"/lsan.*
