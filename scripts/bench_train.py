#!/usr/bin/python3
"""`torchmomentum train` against the chapter's PyTorch program, from outside both processes.

Runs the two commands paired and interleaved (ours, PyTorch, ours, PyTorch, ...), so that both see the same
moment of a shared machine, and prints one table of medians and ratios against the performance goals:
  1. whole process, chapter defaults (12 epochs): wall time, ours / PyTorch <= 0.5
  2. marginal training rate, three nets a step: (112 epochs - 12 epochs) / 3,200 steps, PyTorch / ours >= 4
  3. peak RSS of the default run, ours / PyTorch <= 0.8
Needs Debian's python3-torch, and the app built: dotnet build src/TorchMomentum.Cli -c Release
Run from the repository root:  /usr/bin/python3 scripts/bench_train.py [--pairs 5] [--app PATH/TorchMomentum.Cli.dll]
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
APP = os.path.join(ROOT, "src", "TorchMomentum.Cli", "bin", "Release", "net10.0", "TorchMomentum.Cli.dll")


def measure(command):
    """Wall seconds and peak RSS (MB) of one run of `command`, which must succeed."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child never blocks on it
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            sys.exit("failed: %s\n%s" % (" ".join(command), errors.read().decode()))
    return wall, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="interleaved pairs per figure (median taken), at least 5")
    parser.add_argument("--app", default=APP, help="the built TorchMomentum.Cli.dll to measure")
    args = parser.parse_args()
    if args.pairs < 5:
        sys.exit("--pairs must be at least 5 (got %d)" % args.pairs)
    if not os.path.exists(args.app):
        sys.exit("build the app first: dotnet build src/TorchMomentum.Cli -c Release (no %s)" % args.app)

    work = tempfile.mkdtemp(prefix="bench-train-")
    runs = {"ours": {}, "pytorch": {}}
    try:
        for epochs in (12, 112):
            for pair in range(args.pairs):
                for side in ("ours", "pytorch"):
                    out = os.path.join(work, "%s-%d-%d" % (side, epochs, pair))
                    command = (["dotnet", args.app, "train", "--epochs", str(epochs), "--out", out] if side == "ours" else
                               ["/usr/bin/python3", os.path.join(ROOT, "scripts", "chapter_momentum.py"), "--epochs", str(epochs), "--out", out])
                    runs[side].setdefault(epochs, []).append(measure(command))
                    shutil.rmtree(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(side, epochs, index):
        return statistics.median(run[index] for run in runs[side][epochs])

    steps = (112 - 12) * 32
    rows = []
    ours_wall, their_wall = median("ours", 12, 0), median("pytorch", 12, 0)
    rows.append(("1. whole process, chapter defaults", "%.2f s" % ours_wall, "%.2f s" % their_wall,
                 ours_wall / their_wall, "<= 0.5x", ours_wall / their_wall <= 0.5))
    ours_rate = steps / (median("ours", 112, 0) - ours_wall)
    their_rate = steps / (median("pytorch", 112, 0) - their_wall)
    rows.append(("2. marginal rate, three nets a step", "%.0f steps/s" % ours_rate, "%.0f steps/s" % their_rate,
                 ours_rate / their_rate, ">= 4x", ours_rate / their_rate >= 4))
    ours_rss, their_rss = median("ours", 12, 1), median("pytorch", 12, 1)
    rows.append(("3. peak RSS, chapter defaults", "%.0f MB" % ours_rss, "%.0f MB" % their_rss,
                 ours_rss / their_rss, "<= 0.8x", ours_rss / their_rss <= 0.8))

    print("train against the chapter's PyTorch program: medians of %d interleaved pairs, %s, %d cores"
          % (args.pairs, time.strftime("%Y-%m-%d %H:%M"), os.cpu_count()))
    print("| figure | ours | PyTorch | ratio | goal | met |")
    print("|---|---|---|---|---|---|")
    for name, ours, theirs, ratio, goal, met in rows:
        print("| %s | %s | %s | %.2fx | %s | %s |" % (name, ours, theirs, ratio, goal, "yes" if met else "no"))


if __name__ == "__main__":
    main()
