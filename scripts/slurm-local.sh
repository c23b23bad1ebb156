#!/usr/bin/env bash
# A real single-node Slurm on this machine, for the Slurm tests and CI (Debian 12, as root, no systemd needed).
#
#   scripts/slurm-local.sh start    install the packages if missing, write /etc/slurm/slurm.conf, start munged,
#                                   slurmctld and slurmd, and wait until sinfo shows this node idle
#   scripts/slurm-local.sh stop     cancel the cluster's jobs, stop the daemons that start started (by PID file),
#                                   remove the slurm.conf that start wrote
#   scripts/slurm-local.sh status   what runs, and sinfo
#
# The node is `hostname -s` at 127.0.0.1 with nproc CPUs, in one default partition "local"; jobs may run as root.
# Each start is a fresh cluster: slurmctld starts with -c, so jobs of an earlier start are forgotten.
# The daemons this script started are recorded in $state (a copy of each one's own PID file); stop ends those
# and nothing else: a munged that was already running is used and left running. A slurm.conf this script did
# not write is never replaced: start refuses, and says where to move it.
set -euo pipefail

conf=/etc/slurm/slurm.conf
marker='# Written by TorchMomentum scripts/slurm-local.sh'
state=/run/slurm-local
ctld_pid=/run/slurmctld.pid
slurmd_pid=/run/slurmd.pid
munged_pid=/run/munge/munged.pid
logs=/var/log/slurm
host=$(hostname -s)
# How long start waits for the node to be idle, and stop for the jobs and each daemon to end, in seconds.
start_timeout=${SLURM_LOCAL_START_TIMEOUT:-120}
stop_timeout=${SLURM_LOCAL_STOP_TIMEOUT:-30}

say() { echo "slurm-local: $*"; }
die() { echo "slurm-local: $*" >&2; exit 1; }

# The PID recorded in $state/NAME.pid when that process still runs (not a zombie) and is NAME, else nothing.
recorded() {
  local name=$1 pid
  [ -r "$state/$name.pid" ] || return 1
  pid=$(tr -dc 0-9 < "$state/$name.pid")
  alive "$pid" "$name" && echo "$pid"
}

# Whether process PID runs (not a zombie) and its name is NAME.
alive() {
  local pid=$1 name=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  # The state is the field after the parenthesised name.
  [ "$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

# Waits up to SECONDS for COMMAND to succeed.
wait_for() {
  local seconds=$1; shift
  local end=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.5
  done
}

# Records the PID in the daemon's own PID file as one this script started.
record() {
  local name=$1 file=$2 pid
  wait_for 30 test -s "$file" || die "$name wrote no PID file $file"
  pid=$(tr -dc 0-9 < "$file")
  alive "$pid" "$name" || die "$name (PID $pid from $file) is not running"
  echo "$pid" > "$state/$name.pid"
}

install_packages() {
  local missing=() p
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

write_conf() {
  if [ -e "$conf" ] && ! grep -qxF "$marker" "$conf"; then
    die "$conf exists and was not written by this script; move it away (e.g. mv $conf $conf.orig) and start again"
  fi
  local cpus mem
  cpus=$(nproc)
  # A little under what the kernel reports, so that slurmd never finds less memory than configured (that drains the node).
  mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
  mkdir -p "$(dirname "$conf")"
  cat > "$conf.tmp" <<EOF
$marker
# for the single node $host; start rewrites it, stop removes it. Not for production use.
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
# No cgroups: processes are tracked by their parent PIDs, tasks are not bound to CPUs.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MaxArraySize=10001
ReturnToService=2
SlurmctldTimeout=120
SlurmdTimeout=300
InactiveLimit=0
MinJobAge=300
KillWait=30
Waittime=0
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$ctld_pid
SlurmdPidFile=$slurmd_pid
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$conf.tmp" "$conf"
}

start_munged() {
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already runs; using it"
    return
  fi
  local key=/etc/munge/munge.key
  if [ ! -s "$key" ]; then
    say "creating $key"
    mkdir -p /etc/munge
    mungekey --create --keyfile="$key" 2>/dev/null || dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
    chown munge:munge "$key"
    chmod 0400 "$key"
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
  rm -f "$munged_pid"
  runuser -u munge -- /usr/sbin/munged --force
  record munged "$munged_pid"
  wait_for 30 bash -c 'munge -n | unmunge' || die "munged does not answer (see /var/log/munge/munged.log)"
}

start() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  install_packages
  mkdir -p "$state"
  if recorded slurmctld >/dev/null || recorded slurmd >/dev/null; then
    say "already started; waiting for the node"
  else
    write_conf
    start_munged
    install -d -m 0755 /var/spool/slurmctld /var/spool/slurmd "$logs"
    rm -f "$ctld_pid" "$slurmd_pid"
    # -c: a fresh cluster, no jobs or node states recovered from an earlier start.
    /usr/sbin/slurmctld -c
    record slurmctld "$ctld_pid"
    wait_for 30 bash -c 'scontrol ping | grep -q UP' || die "slurmctld does not answer (see $logs/slurmctld.log)"
    /usr/sbin/slurmd -N "$host"
    record slurmd "$slurmd_pid"
  fi
  if ! wait_for "$start_timeout" bash -c "sinfo -h -n '$host' -o %t | grep -qx idle"; then
    sinfo -N -l >&2 || true
    tail -n 20 "$logs/slurmctld.log" "$logs/slurmd.log" >&2 || true
    die "node $host is not idle after ${start_timeout}s"
  fi
  say "node $host idle, $(nproc) CPUs, partition local (${SECONDS}s)"
}

# Sends TERM to NAME's recorded PID, then KILL if it has not ended within $stop_timeout seconds.
stop_daemon() {
  local name=$1 pid
  if pid=$(recorded "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for "$stop_timeout" bash -c "! [ \"\$(cat /proc/$pid/comm 2>/dev/null)\" = $name ] || grep -q '^State:.*Z' /proc/$pid/status"; then
      say "$name (PID $pid) did not end after ${stop_timeout}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    say "stopped $name (PID $pid)"
  fi
  rm -f "$state/$name.pid"
}

stop() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  if recorded slurmctld >/dev/null; then
    # The jobs first, so that no job step (slurmstepd and what it runs) outlives the daemons.
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
      say "cancelling jobs $jobs"
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      wait_for "$stop_timeout" bash -c '[ -z "$(squeue -h -o %A)" ]' || say "jobs still listed after ${stop_timeout}s: $(squeue -h -o '%A %T' | tr '\n' ' ')"
    fi
  fi
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon munged
  rmdir "$state" 2>/dev/null || true
  # Without a slurm.conf the clients say at once that there is no cluster, instead of retrying a stopped
  # controller for 10 s (the tests ask sinfo whether a cluster is up).
  if [ -e "$conf" ] && grep -qxF "$marker" "$conf"; then rm -f "$conf"; fi
}

status() {
  local name pid running=0
  for name in munged slurmctld slurmd; do
    if pid=$(recorded "$name"); then
      echo "$name: running, PID $pid (started by this script)"
      running=1
    else
      echo "$name: not started by this script"
    fi
  done
  if [ $running = 1 ]; then sinfo -N -l || true; fi
  [ $running = 1 ]
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
