#!/usr/bin/env bash
# The libFuzzer harnesses of test/fuzz/native/ (issue 16): builds each with clang's libFuzzer, ASan and
# UBSan into build-fuzz/, then runs it for a fixed time from its committed corpus
# (test/fuzz/corpus/native_<harness>/). New inputs go to a temporary folder, so the committed corpus only
# changes by hand; a failing input is written beside it as crash-<sha1>, to be committed as a regression
# case. Needs clang and its runtime (Debian: apt-get install clang libclang-rt-14-dev).
#   scripts/fuzz-native.sh            20 s per harness (CI)
#   scripts/fuzz-native.sh 600        a long run
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
cxx="${FUZZ_CXX:-clang++}"
command -v "$cxx" > /dev/null || { echo "fuzz-native.sh: $cxx not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
flags=(-std=c++17 -O1 -g -pthread -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
mkdir -p build-fuzz
# Each harness and the native sources it tests.
declare -A sources=(
  [strided_copy]="native/bindings/dims.cc native/kernels/strided_copy.cc native/kernels/strided_copy_ref.cc native/threadpool.cc"
)
for harness in "${!sources[@]}"; do
  # shellcheck disable=SC2086  # the source list is meant to split
  "$cxx" "${flags[@]}" "test/fuzz/native/$harness.cc" ${sources[$harness]} -o "build-fuzz/$harness"
  seeds="test/fuzz/corpus/native_$harness"
  mkdir -p "$seeds"
  work="$(mktemp -d)"
  log="$(mktemp)"
  status=0
  UBSAN_OPTIONS=print_stacktrace=1 "build-fuzz/$harness" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$seeds/crash-" "$work" "$seeds" > "$log" 2>&1 || status=$?
  if [[ "$status" != 0 ]]; then
    tail -n 60 "$log"
    rm -rf "$work" "$log"
    echo "fuzz-native.sh: $harness failed (status $status); the input is in $seeds/crash-*" >&2
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
  echo "fuzz-native $harness: $runs executions in $seconds s, corpus $(ls "$seeds" | wc -l) files + $(ls "$work" | wc -l) new"
  rm -rf "$work" "$log"
done
