#!/usr/bin/env bash
# Runs a command with a PostgreSQL 15 server of its own: a fresh cluster in
# a temporary folder, listening on a Unix socket there only (no TCP), run by
# an unprivileged user (postgres when this runs as root, as CI does; else the
# caller), stopped and removed afterwards. The command sees
#   TOOLMARK_TEST_PG  a libpq URI of an empty database "toolmark" on it
#   TOOLMARK_TEST_PG_DIR  the cluster's folder (its log: DIR/log)
#   TOOLMARK_CATALOG  the same URI, with --catalog: every database the
#                     command creates then keeps its catalog there
#   tests/pg/with-postgres.sh [--catalog] COMMAND [ARGS…]
set -euo pipefail
catalog=0
if [ "${1:-}" = "--catalog" ]; then catalog=1; shift; fi
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/initdb" ] || { echo "with-postgres: $bin/initdb not found (scripts/setup.sh installs postgresql-15)" >&2; exit 1; }
dir=$(mktemp -d /tmp/toolmark-pg.XXXXXX)
caller=$(pwd)
cd /  # the server user may not enter the caller's folder
as=()
user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$dir"
  as=(runuser -u postgres --)
  user=postgres
fi
cleanup() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as[@]}" "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }
port=$((20000 + RANDOM % 20000))
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
  -o "-k $dir -p $port -c listen_addresses='' -c fsync=on -c synchronous_commit=on -c max_connections=200" start >/dev/null
"${as[@]}" "$bin/createdb" -h "$dir" -p "$port" -U "$user" toolmark
export TOOLMARK_TEST_PG="postgresql:///toolmark?host=$dir&port=$port&user=$user"
export TOOLMARK_TEST_PG_DIR="$dir"
[ $catalog -eq 0 ] || export TOOLMARK_CATALOG="$TOOLMARK_TEST_PG"
cd "$caller"
status=0
"$@" || status=$?
exit $status
