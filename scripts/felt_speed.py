#!/usr/bin/python3
"""The speed a user feels: `sweep`, `scaling` and `curvature` timed as whole processes, beside their own clocks.

Each command runs at a small and a large budget (sweep: --epochs 12 and 120; scaling: --steps 500 and 2000;
curvature: --epochs 12 and 48), ROUNDS rounds, the two budgets alternating so that a shared machine's slow moments
fall on both. For each it prints the medians of
  whole     the process, start to exit, as a user waits for it (time.perf_counter around the subprocess);
  training  the command's own training clock (summary.json's run.training_seconds; curvature's counts its Hessians);
  outputs   what follows the training: summary.json's outputs_seconds (the map, the study, the tables and figures);
and the marginal rate, the work the large budget adds over the time it adds: cell-steps per second (sweep, scaling)
or steps per second (curvature) of the whole process against the training clock's. Goals (issue 39): the
whole-process marginal rate within 20% of the training clock's, and what follows the training at most 0.3 s.
Needs the app built: dotnet build -c Release src/TorchMomentum.Cli. Run from the repository root:
  python3 scripts/felt_speed.py [--rounds 3] [--app PATH] [--commands sweep,scaling,curvature]
Only the Python standard library.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
APP = os.path.join(ROOT, "src", "TorchMomentum.Cli", "bin", "Release", "net10.0", "linux-x64", "TorchMomentum.Cli")
COMMANDS = [
    ("sweep", ["sweep"], "--epochs", 12, 120),
    ("scaling", ["scaling"], "--steps", 500, 2000),
    ("curvature", ["curvature"], "--epochs", 12, 48),
]


def run(app, args, out):
    """One whole process: its wall time and its summary.json, if it writes one."""
    begun = time.perf_counter()
    done = subprocess.run([app] + args + ["--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    whole = time.perf_counter() - begun
    if done.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(args), done.stderr.strip()))
    path = os.path.join(out, "summary.json")
    summary = json.load(open(path)) if os.path.exists(path) else None
    shutil.rmtree(out)
    return whole, summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--app", default=APP)
    parser.add_argument("--commands", default="sweep,scaling,curvature", help="which of them, comma-separated")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="felt-speed-")
    print("%d rounds each, %s" % (args.rounds, time.strftime("%Y-%m-%d %H:%M")))
    header = "%-10s %-14s %8s %9s %8s | %s" % ("command", "budget", "whole", "training", "outputs", "marginal rate")
    print(header)
    print("-" * len(header))
    failed = []
    chosen = args.commands.split(",")
    for name, command, option, small, large in COMMANDS:
        if name not in chosen:
            continue
        runs = {small: [], large: []}
        for r in range(args.rounds):
            for budget in ((small, large) if r % 2 == 0 else (large, small)):
                runs[budget].append(run(args.app, command + [option, str(budget)], os.path.join(work, "%s-%d-%d" % (name, budget, r))))
        median = {}
        for budget in (small, large):
            whole = statistics.median(w for w, _ in runs[budget])
            summaries = [s for _, s in runs[budget] if s is not None]
            training = statistics.median(s["run"]["training_seconds"] for s in summaries) if summaries else None
            outputs = statistics.median(s["outputs_seconds"] for s in summaries) if summaries else None
            steps = (summaries[0]["cell_steps"] if "cell_steps" in summaries[0] else summaries[0]["steps"]) if summaries else None
            median[budget] = (whole, training, outputs, steps)
            row = "%-10s %-14s %7.2fs %8s %8s |" % (name, "%s %d" % (option, budget), whole,
                                                   "%.2fs" % training if training is not None else "-", "%.2fs" % outputs if outputs is not None else "-")
            if outputs is not None and outputs > 0.3:
                failed.append("%s %s %d: outputs %.2f s > 0.3 s" % (name, option, budget, outputs))
            if budget == large:
                (w0, t0, _, s0), (w1, t1, _, s1) = median[small], median[large]
                if s0 is not None:  # every command writes summary.json; a failed one has exited above
                    felt, clock = (s1 - s0) / (w1 - w0), (s1 - s0) / (t1 - t0)
                    unit = "cell-steps" if name != "curvature" else "steps"
                    row += " %.3g M %s/s whole, %.3g M on the training clock: %.0f%%" % (felt / 1e6, unit, clock / 1e6, 100 * felt / clock)
                    if felt < 0.8 * clock:
                        failed.append("%s: whole-process marginal rate %.0f%% of the training clock's (goal >= 80%%)" % (name, 100 * felt / clock))
            print(row)
    shutil.rmtree(work, ignore_errors=True)
    print("goals: outputs <= 0.3 s; whole-process marginal rate >= 80% of the training clock's")
    for line in failed:
        print("not met: " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
