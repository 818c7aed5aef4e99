#!/usr/bin/env bash
# Measures batch work on this machine (docs/cluster.md), each as a ratio in
# one run: ingest + feature extraction of N synthetic cartridge cases by one
# process against two Slurm tasks (a single-node cluster of its own), and
# the same whole workload (ingest, extraction, batch correlation) with the
# SQLite catalog against PostgreSQL (a server of its own). Needs root (the
# test clusters' daemons) and a build (scripts/setup.sh).
#   scripts/cluster-bench.sh [N]     (default 200; prints one JSON object)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}
t="$root/build/tools/toolmark"
work=$(mktemp -d /tmp/toolmark-cluster-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$t" synth cc --kind cartridge_case --firearms $((n / 2)) --per-firearm 2 --size 128 --seed 17 >/dev/null
mkdir half0 half1
i=0
for f in cc/*.x3p; do cp "$f" "half$((i % 2))/"; i=$((i + 1)); done

cat > workload.sh <<SH
#!/usr/bin/env bash
# ingest + extract + correlate of one database: prints the three times
set -euo pipefail
db=\$1
a=\$(date +%s.%N); "$t" ingest --db "\$db" --case B --kind cartridge_case --role reference cc >/dev/null 2>&1
b=\$(date +%s.%N); "$t" extract --db "\$db" >/dev/null 2>&1
c=\$(date +%s.%N); "$t" correlate --db "\$db" --top 10 >/dev/null 2>&1
d=\$(date +%s.%N)
awk -v a=\$a -v b=\$b -v c=\$c -v d=\$d 'BEGIN { printf "%.2f %.2f %.2f\\n", b - a, c - b, d - c }'
SH
chmod +x workload.sh
read -r s_ingest s_extract s_correlate < <(./workload.sh "$work/sqlite-db")
read -r p_ingest p_extract p_correlate < <("$root/tests/pg/with-postgres.sh" --catalog ./workload.sh "$work/pg-db")

cat > cluster.sh <<SH
#!/usr/bin/env bash
# ingest + extraction: one process, then two Slurm tasks (each half the files, then each half the features)
set -euo pipefail
a=\$(date +%s.%N)
"$t" ingest --db "$work/one" --case B --kind cartridge_case --role reference cc >/dev/null 2>&1
"$t" extract --db "$work/one" >/dev/null 2>&1
b=\$(date +%s.%N)
"$t" init --db "$work/two" >/dev/null
j=\$(sbatch --parsable --array=0-1 --output=/dev/null --wrap "exec $t ingest --db $work/two --case B --kind cartridge_case --role reference $work/half\\\$SLURM_ARRAY_TASK_ID")
sbatch --parsable --array=0-1 --output=/dev/null --dependency=afterok:\$j --wrap "exec $t extract --db $work/two --shard \\\$SLURM_ARRAY_TASK_ID/2" >/dev/null
c=\$(date +%s.%N)
while squeue -h | grep -q .; do sleep 0.2; done
d=\$(date +%s.%N)
awk -v a=\$a -v b=\$b -v c=\$c -v d=\$d 'BEGIN { printf "%.2f %.2f\\n", b - a, d - c }'
SH
chmod +x cluster.sh
read -r one_s two_s < <("$root/tests/pg/with-postgres.sh" --catalog "$root/tests/slurm/with-slurm.sh" ./cluster.sh)
cat <<JSON
{"items": $n,
 "sqlite_s": {"ingest": $s_ingest, "extract": $s_extract, "correlate": $s_correlate},
 "postgresql_s": {"ingest": $p_ingest, "extract": $p_extract, "correlate": $p_correlate},
 "postgresql_over_sqlite": $(awk "BEGIN { printf \"%.3f\", ($p_ingest + $p_extract + $p_correlate) / ($s_ingest + $s_extract + $s_correlate) }"),
 "ingest_extract_one_process_s": $one_s, "ingest_extract_two_slurm_tasks_s": $two_s,
 "one_process_over_two_tasks": $(awk "BEGIN { printf \"%.3f\", $one_s / $two_s }")}
JSON
