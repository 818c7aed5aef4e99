#!/usr/bin/env bash
# Builds the benchmarks (BENCHMARK_ENABLED in build/) and runs them; extra
# arguments go to Google Benchmark (e.g. --benchmark_format=json).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" -DBENCHMARK_ENABLED=ON
exec "$root/build/tests/bench/toolmark_bench" "$@"
