#!/usr/bin/env bash
# Runs a command with a single-node Slurm cluster of its own (munged,
# slurmctld and slurmd from Debian's munge and slurm-wlm, all in a temporary
# folder: their own key, sockets, ports, state and logs), stopped and
# removed afterwards. slurmd launches jobs as their user, so this needs
# root (CI runs as root); otherwise it exits 77 ("skipped").
#   tests/slurm/with-slurm.sh COMMAND [ARGS…]
# The command sees SLURM_CONF (sbatch, squeue, scancel use it) and
# TOOLMARK_TEST_SLURM_DIR (the daemons' folder; logs there).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then echo "with-slurm: needs root (slurmd launches jobs as their user); skipped" >&2; exit 77; fi
for b in munged slurmctld slurmd sbatch; do
  command -v "$b" >/dev/null || { echo "with-slurm: $b not found (scripts/setup.sh installs munge, slurm-wlm)" >&2; exit 1; }
done
dir=$(mktemp -d /tmp/toolmark-slurm.XXXXXX)
chmod 755 "$dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 700 "$dir/munge"
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/socket" --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/pid" \
  --log-file="$dir/munge/log" --seed-file="$dir/munge/seed" --num-threads=2
sleep 0.2
pids+=("$(cat "$dir/munge/pid")")
port=$((40000 + RANDOM % 10000))
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
cat > "$dir/slurm.conf" <<CONF
ClusterName=toolmark-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/socket
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
SchedulerParameters=sched_interval=1,sched_min_interval=100000
NodeName=tmnode NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=tm Nodes=tmnode Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
export SLURM_CONF="$dir/slurm.conf"
export TOOLMARK_TEST_SLURM_DIR="$dir"
slurmctld -i -f "$SLURM_CONF" || { tail -n 15 "$dir/slurmctld.log" >&2; exit 1; }
for _ in $(seq 1 50); do [ -s "$dir/slurmctld.pid" ] && break; sleep 0.2; done
pids+=("$(cat "$dir/slurmctld.pid")")  # stopped by cleanup whatever happens next
if ! slurmd -N tmnode -f "$SLURM_CONF"; then
  tail -n 5 "$dir/slurmd.log" >&2
  # Slurm 22.05's slurmd will not start without a cgroup file system (a
  # chroot, some containers); a real machine has one.
  if ! grep -q " /sys/fs/cgroup " /proc/mounts; then
    echo "with-slurm: no cgroup file system at /sys/fs/cgroup, which slurmd needs; skipped" >&2
    exit 77
  fi
  exit 1
fi
for _ in $(seq 1 50); do [ -s "$dir/slurmd.pid" ] && break; sleep 0.2; done
pids+=("$(cat "$dir/slurmd.pid")")
for _ in $(seq 1 100); do
  sinfo -h -N -o %t 2>/dev/null | grep -Eq '^(idle|mix|alloc)' && break
  sleep 0.2
done
sinfo -h -N -o %t | grep -Eq '^(idle|mix|alloc)' || {
  echo "with-slurm: the node did not come up" >&2
  tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
  exit 1
}
status=0
"$@" || status=$?
exit $status
