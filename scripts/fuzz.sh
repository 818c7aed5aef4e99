#!/usr/bin/env bash
# Builds the libFuzzer targets with clang + ASan/UBSan (build-fuzz/) and runs
# each one, starting from the seeds of the replay build and the inputs in
# tests/fuzz/regressions/<target>/.
#   scripts/fuzz.sh                 deterministic: fixed seed, a fixed number of runs
#                                   per target (about a minute each on 2 cores;
#                                   TOOLMARK_FUZZ_RUNS overrides the count)
#   scripts/fuzz.sh --seconds N     exploratory: random seed, N seconds per target
# A finding is written to build-fuzz/crash-* and the script fails; add the
# input to tests/fuzz/regressions/<target>/ with the fix.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
declare -A runs=([x3p]=50000 [image2d]=200000 [pointcloud]=100000 [vector_index]=20000 [cmc_quick]=1200 [cmc_screen]=100000 [land_screen]=100000 [package]=100000 [manifest]=100000 [stored_embedding]=200000 [partner_endpoint]=200000)
# Longest input: stored quick features of a breech face are about 80 KB.
declare -A max_len=([cmc_quick]=131072 [cmc_screen]=16384 [land_screen]=4096 [package]=131072 [stored_embedding]=4096)
seconds=""
if [ "${1:-}" = "--seconds" ]; then seconds=$2; fi
fuzz_dir="$root/build-fuzz"
CC=clang CXX=clang++ cmake -S "$root" -B "$fuzz_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTESTS_ENABLED=OFF -DFUZZERS_ENABLED=ON -DASAN_ENABLED=ON >/dev/null
targets=(x3p image2d pointcloud vector_index cmc_quick cmc_screen land_screen package manifest stored_embedding partner_endpoint)
cmake --build "$fuzz_dir" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
for t in "${targets[@]}"; do
  corpus="$fuzz_dir/corpus-$t"
  mkdir -p "$corpus"
  "$root/build/tests/fuzz/fuzz_${t}_replay" --dump-seeds "$corpus" >/dev/null
  if [ -n "$seconds" ]; then mode=("-max_total_time=$seconds")
  else mode=(-seed=1 "-runs=${TOOLMARK_FUZZ_RUNS:-${runs[$t]}}"); fi
  extra=()
  [ -d "$root/tests/fuzz/regressions/$t" ] && extra=("$root/tests/fuzz/regressions/$t")
  echo "fuzz: $t (${mode[*]})"
  ( cd "$fuzz_dir" && "./tests/fuzz/fuzz_$t" "${mode[@]}" -rss_limit_mb=2048 "-max_len=${max_len[$t]:-65536}" \
      -print_final_stats=0 "$corpus" "${extra[@]}" 2>&1 | tail -n 2 )
done
echo "fuzz: all targets ran without a finding"
