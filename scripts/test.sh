#!/usr/bin/env bash
# Quick start (2): set up, build, and run the whole test suite: the format
# check, the GoogleTest suites and corpus-replay fuzz tests (ctest), a
# short, deterministic libFuzzer run of every parser (clang build in
# build-fuzz/), the review UI's end-to-end test in headless Chromium (its
# screenshot of the hit page: build/artifacts/hit-page.png) and a bounded
# load test of the review server.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/format.sh" --check
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" --timeout 900
tests=$(ctest -N | sed -n 's/^Total Tests: //p')
"$root/scripts/fuzz.sh"
TOOLMARK_ARTIFACTS="$root/build/artifacts" "$root/tests/e2e/run.sh"
echo "artefact: $root/build/artifacts/hit-page.png (the hit page in headless Chromium)"
"$root/scripts/loadtest.sh" 5
# Reached only when everything passed (set -e): ctest's tests, the five fuzz
# runs, the end-to-end browser test and the load test.
echo "summary: $((tests + 7)) passed, 0 failed"
