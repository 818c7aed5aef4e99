#!/usr/bin/env bash
# End-to-end test of `toolmark serve` and the review UI in headless Chromium.
#
#   TOOLMARK_BIN=build/tools/toolmark tests/e2e/run.sh
#
# Builds a tiny synthetic cartridge-case database in a temporary folder
# (synth, ingest, correlate) with a few bullet lands stored on their side,
# starts `toolmark serve --port 0 --open` on it,
# runs tests/e2e/review.test.mjs against it and stops the server; then adds
# an examiner and an investigator (`toolmark users add`, in the items'
# jurisdiction), starts `toolmark serve --port 0` (logins required) on the
# same database and runs tests/e2e/login.test.mjs. Exit status: 0 when both
# pass (non-zero also when the set-up fails).
#
# Env: TOOLMARK_BIN (default build/tools/toolmark), TOOLMARK_ARTIFACTS
# (default build/artifacts: screenshots and the server's log),
# TOOLMARK_UI (optional: passed to `serve --ui`), CHROMIUM (default
# /usr/bin/chromium). Needs node and tools/serve/ui/node_modules (`npm ci --prefix tools/serve/ui`
# is run when it is missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

abspath() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$root/$1" ;; esac; }
bin="$(abspath "${TOOLMARK_BIN:-build/tools/toolmark}")"
artifacts="$(abspath "${TOOLMARK_ARTIFACTS:-build/artifacts}")"

if [[ ! -x "$bin" ]]; then
  echo "e2e: no toolmark binary at $bin (set TOOLMARK_BIN)" >&2
  exit 2
fi
command -v node >/dev/null || { echo "e2e: node is not installed" >&2; exit 2; }
if [[ ! -d tools/serve/ui/node_modules ]]; then
  echo "e2e: tools/serve/ui/node_modules missing: npm ci --prefix tools/serve/ui"
  npm ci --prefix tools/serve/ui --no-audit --no-fund
fi
mkdir -p "$artifacts"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/toolmark-e2e.XXXXXX")"
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  [[ -n "$server_pid" ]] && { wait "$server_pid" 2>/dev/null || true; }
  server_pid=""
}
cleanup() {
  local rc=$?
  stop_server
  for f in serve.out serve.err serve-login.out serve-login.err; do
    [[ -f "$tmp/$f" ]] && cp "$tmp/$f" "$artifacts/$f" || true
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "e2e: data set and database in $tmp"
"$bin" synth "$tmp/cc" --kind cartridge_case --firearms 3 --per-firearm 2 --size 128 --seed 3 --threads 2
"$bin" ingest --db "$tmp/db" --manifest "$tmp/cc/truth.csv" --case e2e --threads 2 >/dev/null
# Bullet lands as another lab's instrument stores them (on their side): their
# hits are weak comparisons (an assumed orientation), which the UI must show.
"$bin" synth "$tmp/bu" --kind bullet --firearms 2 --per-firearm 2 --seed 5 --stored-as transposed --threads 2 >/dev/null
"$bin" ingest --db "$tmp/db" --manifest "$tmp/bu/truth.csv" --case e2e-lands --threads 2 >/dev/null
"$bin" correlate --db "$tmp/db" --top 3 >/dev/null

# start_server LOGNAME [serve options...]: starts `toolmark serve` on the
# database, sets server_pid and url (the logs: $tmp/LOGNAME.out / .err).
url=""
start_server() {
  local log="$1"; shift
  local serve_args=(serve --db "$tmp/db" --port 0 "$@")
  [[ -n "${TOOLMARK_UI:-}" ]] && serve_args+=(--ui "$(abspath "$TOOLMARK_UI")")
  "$bin" "${serve_args[@]}" >"$tmp/$log.out" 2>"$tmp/$log.err" &
  server_pid=$!
  url=""
  for _ in $(seq 300); do   # 30 s
    line="$(head -n 1 "$tmp/$log.out" 2>/dev/null || true)"
    if [[ "$line" =~ ^toolmark:\ serving\ (http://[^[:space:]]+)$ ]]; then url="${BASH_REMATCH[1]}"; break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "e2e: toolmark serve exited before it was ready:" >&2
      cat "$tmp/$log.out" "$tmp/$log.err" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [[ -z "$url" ]]; then
    echo "e2e: toolmark serve did not print 'toolmark: serving http://HOST:PORT/' within 30 s" >&2
    cat "$tmp/$log.out" "$tmp/$log.err" >&2
    exit 1
  fi
  echo "e2e: server at $url (pid $server_pid, ${*:-logins required})"
}

# 1. Open (loopback workstation) mode: no logins.
start_server serve --open
set +e
TOOLMARK_URL="$url" TOOLMARK_ARTIFACTS="$artifacts" timeout 300 node "$root/tests/e2e/review.test.mjs"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  echo "e2e: FAILED (exit $rc); server log: $artifacts/serve.err" >&2
  exit "$rc"
fi
stop_server

# 2. Logins: an examiner and an investigator of the items' jurisdiction.
"$bin" keys init --db "$tmp/db" --jurisdiction E2E >/dev/null
jurisdiction="$("$bin" list --db "$tmp/db" --json | node -e '
  let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => {
    const items = JSON.parse(s); const j = items.length && items[0].jurisdiction;
    if (!j) { console.error("e2e: no item with a jurisdiction in toolmark list"); process.exit(1); }
    console.log(j);
  });')"
add_user() {   # add_user NAME ROLE: prints the token
  local token
  token="$("$bin" users add --db "$tmp/db" "$1" --role "$2" --jurisdiction "$jurisdiction" | sed -n 's/^token \(tm_[^[:space:]]*\).*$/\1/p')"
  if [[ -z "$token" ]]; then echo "e2e: toolmark users add $1 printed no 'token tm_...' line" >&2; exit 1; fi
  printf '%s\n' "$token"
}
token_examiner="$(add_user e2e-examiner examiner)"
token_investigator="$(add_user e2e-investigator investigator)"
echo "e2e: users e2e-examiner and e2e-investigator (jurisdiction $jurisdiction)"

start_server serve-login
set +e
TOOLMARK_URL="$url" TOOLMARK_ARTIFACTS="$artifacts" \
  TOOLMARK_TOKEN_EXAMINER="$token_examiner" TOOLMARK_TOKEN_INVESTIGATOR="$token_investigator" \
  timeout 300 node "$root/tests/e2e/login.test.mjs"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  echo "e2e: FAILED (exit $rc); server log: $artifacts/serve-login.err" >&2
  exit "$rc"
fi
stop_server
echo "e2e: PASS (open mode and logins)"
exit 0
