#!/bin/sh
# Builds the libFuzzer harnesses (ASan + UBSan) and runs each for a bounded time.
#   packages/proxy/native/fuzz/run.sh [seconds per harness, default 60]
# New inputs go to build/corpus-<name>/ (not committed); the committed seeds are in corpus/<name>/.
# A crash leaves build/crash-* and makes this script exit non-zero.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-60}
out="$here/build"
mkdir -p "$out"
CXX=${CXX:-clang++}
status=0
for name in tracker session; do
  "$CXX" -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -o "$out/fuzz_$name" "$here/fuzz_$name.cc"
  mkdir -p "$out/corpus-$name"
  echo "== fuzz_$name: ${seconds}s"
  if ! "$out/fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/crash-$name-" \
      "$out/corpus-$name" "$here/corpus/$name" 2>"$out/fuzz_$name.log"; then
    status=1
    tail -40 "$out/fuzz_$name.log"
  fi
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)' "$out/fuzz_$name.log" || true
done
exit $status
