#!/usr/bin/env bash
# Quick start (2): set up, build, and run the whole test suite: the format
# check, the GoogleTest suites and corpus-replay fuzz tests (ctest), a
# short, deterministic libFuzzer run of every parser (clang build in
# build-fuzz/), the review UI's end-to-end test in headless Chromium (its
# screenshot of the hit page: build/artifacts/hit-page.png), a bounded
# load test of the review server and the README's cross-border walkthrough.
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
"$root/scripts/exchange-walkthrough.sh" "$root/build/walkthrough" >/dev/null
echo "walkthrough: the README's cross-border walkthrough ran (build/walkthrough)"
# Reached only when everything passed (set -e): ctest's tests, the nine fuzz
# runs, the end-to-end browser test, the load test and the walkthrough.
echo "summary: $((tests + 12)) passed, 0 failed"
