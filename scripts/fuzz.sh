#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (build-fuzz/) and runs each for a
# bounded time, starting from the seeds of the replay build.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-20}
fuzz_dir="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$fuzz_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTESTS_ENABLED=OFF -DFUZZERS_ENABLED=ON -DASAN_ENABLED=ON >/dev/null
targets=(x3p image2d pointcloud)
cmake --build "$fuzz_dir" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
for t in "${targets[@]}"; do
  corpus="$fuzz_dir/corpus-$t"
  mkdir -p "$corpus"
  "$root/build/tests/fuzz/fuzz_${t}_replay" --dump-seeds "$corpus" >/dev/null
  echo "fuzz: $t for ${seconds}s"
  ( cd "$fuzz_dir" && "./tests/fuzz/fuzz_$t" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=0 "$corpus" 2>&1 | tail -n 2 )
done
echo "fuzz: all targets ran without a finding"
