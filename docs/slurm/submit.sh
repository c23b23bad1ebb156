#!/usr/bin/env bash
# Queues a sharded torchmomentum sweep on Slurm (docs/sweep-cluster.md): the job array of sweep.sbatch, one shard
# per task, then merge.sbatch, which starts once every task has succeeded and is cancelled if one fails.
#
#   docs/slurm/submit.sh [--wait] SWEEP_DIR [grid options of torchmomentum sweep...]
#   e.g. SHARDS=8 docs/slurm/submit.sh /shared/sweeps/a --lr-count 8 --momentum-count 5 --seeds 1,2,3
#
# --wait   do not return until the merge has ended; exit with its status (non-zero too when a shard failed)
# SHARDS   how many tasks, so shards (default: sweep.sbatch's --array=0-3, 4)
# TORCHMOMENTUM, as for sweep.sbatch: the command, `torchmomentum` by default
# STUDY, as for sweep.sbatch: sweep (default) or scaling, the batch-size study's defaults
# sbatch's own variables (SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT, ...) apply to both jobs, but for
# SBATCH_ARRAY_INX (--array), which is the array's alone.
# The jobs' logs (torchmomentum-sweep-<job>_<task>.out, torchmomentum-merge-<job>.out) go to the current folder.
set -euo pipefail

usage() { echo "usage: $0 [--wait] SWEEP_DIR [grid options of torchmomentum sweep...]" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wait=()
if [ "${1:-}" = --wait ]; then wait=(--wait); shift; fi
[ $# -ge 1 ] && [ -n "$1" ] && [ "${1#-}" = "$1" ] || usage
mkdir -p "$1"
SWEEP_DIR=$(cd "$1" && pwd)
shift
export SWEEP_DIR
export TORCHMOMENTUM=${TORCHMOMENTUM:-torchmomentum}

array=()
if [ -n "${SHARDS:-}" ]; then
  [[ "$SHARDS" =~ ^[1-9][0-9]*$ ]] || { echo "SHARDS must be a whole number from 1, not '$SHARDS'" >&2; exit 2; }
  array=(--array="0-$((SHARDS - 1))")
fi

# --parsable prints "<job id>" or "<job id>;<cluster>".
sweep=$(sbatch --parsable "${array[@]}" "$here/sweep.sbatch" "$@")
sweep=${sweep%%;*}
echo "sweep: job array $sweep, into $SWEEP_DIR"
if [ ${#wait[@]} -eq 0 ]; then
  merge=$(env -u SBATCH_ARRAY_INX sbatch --parsable --dependency=afterok:"$sweep" --kill-on-invalid-dep=yes "$here/merge.sbatch")
  echo "merge: job ${merge%%;*}, once every task of $sweep has succeeded"
else
  echo "merge: queued to start once every task of $sweep has succeeded; waiting for it"
  status=0
  merge=$(env -u SBATCH_ARRAY_INX sbatch --parsable --wait --dependency=afterok:"$sweep" --kill-on-invalid-dep=yes "$here/merge.sbatch") || status=$?
  merge=${merge%%;*}
  # sbatch --wait exits 0 for a job cancelled before it ran, as the merge is when a shard failed: ask for its state.
  state=$(scontrol show job -o "$merge" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || true)
  if [ "$status" != 0 ] || { [ -n "$state" ] && [ "$state" != COMPLETED ]; }; then
    echo "merge: job $merge ended ${state:-with exit code $status}; the sweep's tasks:" >&2
    scontrol show job -o "$sweep" 2>/dev/null | grep -o 'ArrayTaskId=[0-9]*\|JobState=[A-Z_]*\|ExitCode=[0-9:]*' | paste - - - >&2 || true
    exit 1
  fi
  echo "merge: job $merge completed; the sweep's results are in $SWEEP_DIR"
fi
