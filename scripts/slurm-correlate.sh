#!/usr/bin/env bash
# Batch work of one database on a Slurm cluster (docs/cluster.md): the
# features of every item that lacks this version's (new items, or all of
# them after a comparator upgrade) extracted by an array of N tasks, the
# vector index built once from every shard's features, then the items
# correlated by a second array of N tasks, each recording its own items'
# hit lists. Every task is one toolmark command on one shard, and
# idempotent: a task killed and run again (by Slurm's requeue, or by running
# this script again) gives the same final state. Slurm assigns, retries and
# waits; Toolmark runs no scheduler of its own. The database folder must be
# on storage every node sees, and its catalog PostgreSQL for many writers
# (toolmark init --catalog, toolmark migrate).
#
#   scripts/slurm-correlate.sh --db DIR [--shards N] [--top K] [--batch CASE]
#       [--toolmark BIN] [--wait] [-- SBATCH OPTIONS…]
#
# Prints the three job ids (extract array, index, correlate array). With
# --wait it waits for the end and exits non-zero when a task failed.
# Task logs: DIR/slurm/<job name>-<job>_<task>.out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
db="" shards=4 top=10 batch="" bin="$root/build/tools/toolmark" wait=0
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --toolmark) bin=$2; shift 2 ;;
    --wait) wait=1; shift ;;
    --) shift; break ;;
    *) echo "slurm-correlate: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$db" ] || { echo "slurm-correlate: give --db DIR" >&2; exit 2; }
[[ "$shards" =~ ^[1-9][0-9]{0,3}$ ]] || { echo "slurm-correlate: --shards must be 1 to 9999" >&2; exit 2; }
[ -x "$bin" ] || { echo "slurm-correlate: $bin is not executable (--toolmark)" >&2; exit 2; }
db=$(cd "$db" && pwd)
"$bin" verify --db "$db" >/dev/null  # a database that opens and checks out, before anything is queued
mkdir -p "$db/slurm"
common=(--parsable --kill-on-invalid-dep=yes "$@")
array_log=(--output="$db/slurm/%x-%A_%a.out")
single_log=(--output="$db/slurm/%x-%j.out")
last=$((shards - 1))
batch_flag=""
[ -z "$batch" ] || batch_flag="--batch $(printf %q "$batch")"
tm=$(printf %q "$bin")
dbq=$(printf %q "$db")
extract=$(sbatch "${common[@]}" "${array_log[@]}" --job-name=toolmark-extract --array=0-$last \
  --wrap "exec $tm extract --db $dbq --shard \$SLURM_ARRAY_TASK_ID/$shards")
index=$(sbatch "${common[@]}" "${single_log[@]}" --job-name=toolmark-index --dependency=afterok:$extract \
  --wrap "exec $tm extract --db $dbq")
correlate=$(sbatch "${common[@]}" "${array_log[@]}" --job-name=toolmark-correlate --array=0-$last --dependency=afterok:$index \
  --wrap "exec $tm correlate --db $dbq --top $top $batch_flag --shard \$SLURM_ARRAY_TASK_ID/$shards")
echo "slurm-correlate: extract $extract, index $index, correlate $correlate ($shards shards; logs in $db/slurm)"
[ $wait -eq 1 ] || exit 0
# The last step checks that nothing is left: every item correlated (a
# single-process correlate that finds nothing to do), and prints the queue.
sbatch "${common[@]}" "${single_log[@]}" --job-name=toolmark-done --dependency=afterok:$correlate --wait \
  --wrap "exec $tm correlate --db $dbq --top $top $batch_flag" >/dev/null || {
  echo "slurm-correlate: a task failed or was cancelled (logs in $db/slurm); run this again to finish" >&2
  exit 1
}
tail -n 2 "$db"/slurm/toolmark-done-*.out | tail -n 1
