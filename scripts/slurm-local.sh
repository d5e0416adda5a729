#!/usr/bin/env bash
# A one-node Slurm cluster on 127.0.0.1 for the Slurm executor's tests and CI (no systemd).
#   scripts/slurm-local.sh up      install (Debian packages) if needed, configure, start, wait for the node
#   scripts/slurm-local.sh down    cancel jobs, stop the daemons this script started (by PID), verify
#   scripts/slurm-local.sh status  exit 0 when the cluster answers
# Needs root. It writes /etc/slurm/slurm.conf only when that file is absent or was written by
# this script, so a real cluster's configuration is never replaced.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by stepwise scripts/slurm-local.sh"
STATE=/var/spool/stepwise-slurm
LOGS=/var/log/stepwise-slurm
PIDS="/run/stepwise-slurmd.pid /run/stepwise-slurmctld.pid /run/munge/munged.pid"

say() { echo "slurm-local: $*"; }

# The node's state, or nothing when no controller answers (sinfo retries a dead controller for
# many seconds: bounded here).
node_state() { timeout 3 sinfo -h -N -o %T 2>/dev/null | head -1; }

install_packages() {
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
    && command -v munged >/dev/null && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
}

start_munge() {
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged   # daemonizes; its PID goes to /run/munge/munged.pid
  fi
  munge -n | unmunge >/dev/null
}

write_config() {
  if [ -e "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    say "$CONF exists and was not written by this script; not touching a real cluster's configuration"
    exit 1
  fi
  local host node
  host=$(hostname -s)
  node=$(slurmd -C | head -1)   # NodeName=<host> CPUs=… RealMemory=…
  mkdir -p "$(dirname "$CONF")"
  cat > "$CONF" <<EOF
$MARK
ClusterName=stepwise-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# No cgroups in a container: processes are tracked by their parent ids, tasks are not bound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
# No slurmdbd: finished jobs are written to a text file that \`sacct -c\` reads.
JobCompType=jobcomp/filetxt
JobCompLoc=$LOGS/jobcomp.log
SchedulerType=sched/backfill
# Start a submitted job at once (the default waits for the next 3 s scheduling tick).
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
# Finished jobs stay visible to squeue/scontrol for this many seconds.
MinJobAge=300
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=/run/stepwise-slurmctld.pid
SlurmdPidFile=/run/stepwise-slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start_slurmctld() {
  setsid /usr/sbin/slurmctld -D </dev/null >>"$LOGS/slurmctld.stdout" 2>&1 &
  echo $! > /run/stepwise-slurmctld.pid
}

up() {
  [ "$(id -u)" = 0 ] || { say "needs root"; exit 1; }
  case "$(node_state)" in
    idle|mixed|allocated) say "already up"; return 0 ;;
  esac
  install_packages
  start_munge
  write_config
  rm -rf "$STATE"   # fresh state: no jobs of an earlier cluster, ids from 1
  mkdir -p "$STATE/ctld" "$STATE/d" "$LOGS"
  start_slurmctld
  setsid /usr/sbin/slurmd -D </dev/null >>"$LOGS/slurmd.stdout" 2>&1 &
  echo $! > /run/stepwise-slurmd.pid
  for _ in $(seq 1 300); do   # up to 60 s
    [ "$(node_state)" = idle ] && break
    sleep 0.2
  done
  if [ "$(node_state)" != idle ]; then
    say "the node did not come up; last log lines:"
    tail -n 20 "$LOGS"/*.log || true
    exit 1
  fi
  say "up: $(sinfo -h -o '%P %D node(s) %C cpus(A/I/O/T)')"
}

stop_pid_file() {
  local file=$1 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then say "pid $pid ($file) still alive after 10 s: SIGKILL"; kill -KILL "$pid"; fi
  fi
  rm -f "$file"
}

down() {
  if [ -n "$(node_state)" ]; then
    scancel --user="$(id -un)" 2>/dev/null || true   # no slurmstepd left behind
    for _ in $(seq 1 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for f in $PIDS; do stop_pid_file "$f"; done
  say "stopped"
}

# Restarts only the controller (the tests' "slurmctld restarted mid-sweep"): jobs keep running
# on slurmd and the controller reloads them from its state files.
restart_controller() {
  stop_pid_file /run/stepwise-slurmctld.pid
  start_slurmctld
  for _ in $(seq 1 150); do [ -n "$(node_state)" ] && break; sleep 0.2; done
  [ -n "$(node_state)" ]
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) [ -n "$(node_state)" ] ;;
  restart-controller) restart_controller ;;
  *) echo "usage: $0 up|down|status|restart-controller" >&2; exit 2 ;;
esac
