#!/usr/bin/env bash
# Load test of the review server (loopback only, bounded in time): 4
# concurrent reviewers (wrk: 4 threads, 4 connections) read the hit page API
# and record a decision every tenth request, for DURATION seconds (default
# 5). Passes when no request failed and every acknowledged decision is in
# the database afterwards. Prints requests/s and latency (p50, p99).
#   scripts/loadtest.sh [DURATION]        (after scripts/setup.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${TOOLMARK_BIN:-$root/build/tools/toolmark}
duration=${1:-5}
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" synth "$work/cc" --kind cartridge_case --firearms 3 --per-firearm 2 --size 128 --seed 3 >/dev/null
"$bin" ingest --db "$work/db" --manifest "$work/cc/truth.csv" --case load >/dev/null
"$bin" correlate --db "$work/db" --top 3 >/dev/null
"$bin" serve --db "$work/db" --port 0 --open >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 1 100); do
  url=$(sed -n 's/^toolmark: serving //p' "$work/serve.out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "loadtest: the server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
hit=$(curl -sf "${url}api/hits?limit=1" | sed -n 's/.*"hits":\[{[^]]*"id":\([0-9]*\),"log10_lr".*/\1/p')
[ -n "$hit" ] || hit=1
target=2
curl -sf "${url}api/hits/$hit/explain" >/dev/null  # the hit's view built once, as a reviewer's first look does
count() { { grep -o '"supersedes"' || true; } | wc -l; }  # decisions in a history (JSON)
before=$(curl -sf "${url}api/hits/$target" | count)
out=$(wrk -t4 -c4 -d"${duration}s" --timeout 10s --latency -s "$root/tests/load/review.lua" "$url" -- "$hit" "$target")
line=$(grep '^LOAD ' <<<"$out")
echo "loadtest: $line"
acknowledged=$(sed -n 's/.*decisions_acknowledged=\([0-9]*\).*/\1/p' <<<"$line")
non2xx=$(sed -n 's/.*non_2xx=\([0-9]*\).*/\1/p' <<<"$line")
socket=$(sed -n 's/.*socket_errors=\([0-9]*\).*/\1/p' <<<"$line")
after=$(curl -sf "${url}api/hits/$target" | count)
stored=$((after - before))
echo "loadtest: decisions acknowledged $acknowledged, stored $stored"
kill "$server"; wait "$server" || true; server=""
# After the server stopped: the database itself holds them (not only its answers).
in_db=$("$bin" review --db "$work/db" "$target" --history --json | count)
echo "loadtest: decisions in the database after the server stopped: $((in_db - before))"
if [ "$non2xx" != 0 ] || [ "$socket" != 0 ] || [ "$stored" -lt "$acknowledged" ] ||
   [ "$((in_db - before))" -lt "$acknowledged" ] || [ "$acknowledged" -eq 0 ]; then
  echo "loadtest: FAILED" >&2
  exit 1
fi
echo "loadtest: PASS (no failed request; every acknowledged decision stored)"
