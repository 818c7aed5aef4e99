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
# One target's run, its output to log-<target>, its outcome to status-<target>.
run_target() {
  local t=$1 corpus="$fuzz_dir/corpus-$t" mode extra=()
  mkdir -p "$corpus"
  "$root/build/tests/fuzz/fuzz_${t}_replay" --dump-seeds "$corpus" >/dev/null
  if [ -n "$seconds" ]; then mode=("-max_total_time=$seconds")
  else mode=(-seed=1 "-runs=${TOOLMARK_FUZZ_RUNS:-${runs[$t]}}"); fi
  [ -d "$root/tests/fuzz/regressions/$t" ] && extra=("$root/tests/fuzz/regressions/$t")
  echo "fuzz: $t (${mode[*]})" >"$fuzz_dir/log-$t"
  if ( cd "$fuzz_dir" && "./tests/fuzz/fuzz_$t" "${mode[@]}" -rss_limit_mb=2048 "-max_len=${max_len[$t]:-65536}" \
      -print_final_stats=0 "$corpus" "${extra[@]}" ) >>"$fuzz_dir/log-$t" 2>&1; then
    echo ok >"$fuzz_dir/status-$t"
  else
    echo failed >"$fuzz_dir/status-$t"
  fi
}
# The targets run side by side, one a core (each run is single-threaded and
# deterministic on its own: the same runs whatever runs beside it).
rm -f "$fuzz_dir"/status-*
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n || true; done
  run_target "$t" &
done
wait
failed=0
for t in "${targets[@]}"; do
  if [ "$(cat "$fuzz_dir/status-$t" 2>/dev/null)" = ok ]; then
    head -n 1 "$fuzz_dir/log-$t"
    tail -n 2 "$fuzz_dir/log-$t"
  else
    echo "fuzz: $t FAILED (build-fuzz/log-$t):"
    tail -n 40 "$fuzz_dir/log-$t"
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
echo "fuzz: all targets ran without a finding"
