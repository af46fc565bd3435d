#!/usr/bin/env bash
# A real Slurm cluster in CI: installs Debian's slurm-wlm and munge when missing, starts munged,
# slurmctld and slurmd on this machine with a generated slurm.conf (one node, one partition), runs a
# small digits sweep as an array job through `regnet sweep slurm --submit --wait`, and checks that its
# results equal `regnet sweep run` without Slurm (training is deterministic). The Slurm sweep's
# directory is named with a quote, spaces, a command substitution and a percent sign, which the
# generated script must carry to sbatch and bash as plain text. Stops the daemons at the end, whatever
# happens. Needs root (the daemons run as root here).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "== installing slurm-wlm and munge"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null
fi
swift build -c release --product regnet >/dev/null
regnet="$(swift build -c release --product regnet --show-bin-path)/regnet"
work=$(mktemp -d /tmp/regnet-slurm.XXXXXX)
host=$(hostname -s)
cleanup() {
  [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null || true
  [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null || true
  [ -f "$work/munged.pid" ] && kill "$(cat "$work/munged.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT

echo "== munge"
mkdir -p "$work/munge" "$work/state" "$work/spool"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" --pid-file="$work/munged.pid" \
  --log-file="$work/munged.log" --seed-file="$work/munge/seed"

echo "== slurm.conf for node $host"
export SLURM_CONF="$work/slurm.conf"
cpus=$(nproc)
memory=$(awk '/MemTotal/ { print int($2 / 1024) - 1024 }' /proc/meminfo)
cat > "$SLURM_CONF" <<CONF
ClusterName=regnet-ci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld
slurmd
for _ in $(seq 60); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 1
done
sinfo

echo "== a digits sweep on Slurm (2 array tasks) and the same sweep without Slurm"
sweep="$work/sweep.json"
cat > "$sweep" <<JSON
{"name": "ci_digits", "seed": 0,
 "samples": [{"space": "AnyNetXA", "count": 2},
             {"space": "RegNetX", "count": 2, "ranges": {"depth": [6, 10], "w0": [16, 32], "wa": [8, 16]}}],
 "constraints": {"flops": [1000000, 6000000], "resolution": 32},
 "model": {"classes": 10, "stem_width": 16},
 "train": {"data": "digits", "epochs": 1, "batch": 50, "test-batch": 100, "lr": 0.05, "no-precise-bn": true, "ema-alpha": 0, "seed": 1}}
JSON
on_slurm="$work/bob's sweep \$(touch injected) 50%"
"$regnet" sweep setup "$sweep" --out "$on_slurm"
"$regnet" sweep setup "$sweep" --out "$work/local"
(cd "$work" && "$regnet" sweep slurm "$on_slurm" --array 2 --cpus-per-task 1 --submit --wait)
bash -n "$on_slurm/slurm/sweep.sbatch"
if [ -e "$work/injected" ]; then echo "FAIL: the sweep directory's name ran as a command"; exit 1; fi
"$regnet" sweep run "$work/local" --threads 1 >/dev/null
"$regnet" sweep collect "$on_slurm"
"$regnet" sweep collect "$work/local" >/dev/null
# Every model trained once, by the task of its shard; the errors equal the run without Slurm.
for i in 0 1; do grep -q "sweep run" "$on_slurm/slurm/sweep.sbatch"; test -f "$on_slurm/slurm/task-$i.out"; done
cut -d, -f1-7 "$on_slurm/results.csv" > "$work/a.csv"
cut -d, -f1-7 "$work/local/results.csv" > "$work/b.csv"
if ! diff "$work/a.csv" "$work/b.csv"; then echo "FAIL: Slurm and local results differ"; exit 1; fi
test "$(wc -l < "$work/a.csv")" -eq 5 || { echo "FAIL: expected 4 models in results.csv"; cat "$work/a.csv"; exit 1; }
echo "Slurm sweep: 4 models over 2 array tasks, results equal the local run"
