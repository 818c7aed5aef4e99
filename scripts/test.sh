#!/usr/bin/env bash
# Quick start (2): set up, build, and run the whole test suite: the format
# check, the GoogleTest suites and corpus-replay fuzz tests (ctest), then a
# short, deterministic libFuzzer run of every parser (clang build in build-fuzz/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/format.sh" --check
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" --timeout 900
tests=$(ctest -N | sed -n 's/^Total Tests: //p')
"$root/scripts/fuzz.sh"
# Reached only when everything passed (set -e): ctest's tests plus the five fuzz runs.
echo "summary: $((tests + 5)) passed, 0 failed"
