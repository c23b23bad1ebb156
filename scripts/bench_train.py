#!/usr/bin/python3
"""`torchmomentum train` against the chapter's PyTorch program, from outside both processes.

Runs each pair of commands interleaved (ours, PyTorch, ours, PyTorch, ...), so that both see the same moment of
a shared machine, and prints one table of medians and ratios against the performance goals:
  1.  whole process, chapter defaults (12 epochs): wall time, ours / PyTorch <= 0.5
  2a. marginal training rate, three nets a step: 3,200 steps / (112 epochs - 12 epochs), ours / PyTorch >= 4
  2b. the one-net chapter loop (benchmarks' `chapter` mode against scripts/bench_chapter.py), ours / PyTorch >= 4
  3a. train's RSS from step 20,000 to 100,000 (runs of 3,125 epochs, read from /proc while they run; median of 3) <= 1 MB
  3b. peak RSS of the default run, ours / PyTorch <= 0.8
Needs Debian's python3-torch, and the app and benchmarks built: dotnet build src/TorchMomentum.Benchmarks -c Release
Run from the repository root:  /usr/bin/python3 scripts/bench_train.py [--pairs 5] [--app PATH/TorchMomentum.Cli.dll]
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BENCHMARKS = os.path.join(ROOT, "src", "TorchMomentum.Benchmarks", "bin", "Release", "net10.0", "TorchMomentum.Benchmarks.dll")


def built_app():
    """Where the Release build puts the app: a folder named for this machine's platform (it is ReadyToRun)."""
    return subprocess.run(["dotnet", "msbuild", os.path.join(ROOT, "src", "TorchMomentum.Cli"), "-getProperty:TargetPath",
                           "-p:Configuration=Release"], capture_output=True, text=True, check=True).stdout.strip()


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


def json_of(command):
    """The JSON object `command` prints on its last line."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(command), done.stderr))
    return json.loads(done.stdout.strip().splitlines()[-1])


def rss_growth(app, work, first=20_000, last=100_000):
    """RSS growth (MB) of one `train` from step `first` to `last`: /proc's VmRSS, read every 20 ms, against the
    step of the last row in losses.csv (rows reach the file at least once a second, and all of them before the
    report and the plot begin), so the window covers training alone."""
    out = os.path.join(work, "rss")
    epochs = -(-last // 32)
    child = subprocess.Popen(["dotnet", app, "train", "--epochs", str(epochs), "--out", out],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    start = peak = None
    csv = os.path.join(out, "losses.csv")
    while child.poll() is None:
        time.sleep(0.02)
        try:
            with open("/proc/%d/status" % child.pid) as status:
                rss = next(int(l.split()[1]) for l in status if l.startswith("VmRSS:")) / 1024
            with open(csv, "rb") as rows:
                rows.seek(max(0, os.path.getsize(csv) - 256))
                step = int(rows.read().rstrip(b"\n").split(b"\n")[-1].split(b",")[0])
        except (OSError, ValueError, StopIteration):
            continue  # not started yet, or the header alone
        if step >= last - 1:
            break
        if step >= first:
            start = rss if start is None else start
            peak = rss if peak is None else max(peak, rss)
    if child.wait() != 0 or start is None:
        sys.exit("the %d-step train run failed or ended too soon to be read" % last)
    shutil.rmtree(out)
    return peak - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="interleaved pairs per figure (median taken), at least 5")
    parser.add_argument("--app", help="the TorchMomentum.Cli.dll to measure (default: the Release build's)")
    args = parser.parse_args()
    if args.pairs < 5:
        sys.exit("--pairs must be at least 5 (got %d)" % args.pairs)
    args.app = args.app or built_app()
    for built in (args.app, BENCHMARKS):
        if not os.path.exists(built):
            sys.exit("build the app and benchmarks first: dotnet build src/TorchMomentum.Benchmarks -c Release (no %s)" % built)

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
        loops = {"ours": [], "pytorch": []}
        for pair in range(args.pairs):
            loops["ours"].append(json_of(["dotnet", BENCHMARKS, "chapter"]))
            loops["pytorch"].append(json_of(["/usr/bin/python3", os.path.join(ROOT, "scripts", "bench_chapter.py"), "--threads", "1"]))
        growth = statistics.median(rss_growth(args.app, work) for _ in range(3))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(side, epochs, index):
        return statistics.median(run[index] for run in runs[side][epochs])

    steps = (112 - 12) * 32
    rows = []
    ours_wall, their_wall = median("ours", 12, 0), median("pytorch", 12, 0)
    rows.append(("1. whole process, chapter defaults", "%.2f s" % ours_wall, "%.2f s" % their_wall,
                 "%.2fx" % (ours_wall / their_wall), "<= 0.5x", ours_wall / their_wall <= 0.5))
    ours_rate = steps / (median("ours", 112, 0) - ours_wall)
    their_rate = steps / (median("pytorch", 112, 0) - their_wall)
    rows.append(("2a. marginal rate, three nets a step", "%.0f steps/s" % ours_rate, "%.0f steps/s" % their_rate,
                 "%.2fx" % (ours_rate / their_rate), ">= 4x", ours_rate / their_rate >= 4))
    ours_loop = statistics.median(run["steps_per_second"] for run in loops["ours"])
    their_loop = statistics.median(run["steps_per_second"] for run in loops["pytorch"])
    rows.append(("2b. one-net chapter loop, 1 thread", "%.0f steps/s" % ours_loop, "%.0f steps/s" % their_loop,
                 "%.2fx" % (ours_loop / their_loop), ">= 4x", ours_loop / their_loop >= 4))
    rows.append(("3a. train's RSS growth, step 20,000 to 100,000", "%+.1f MB" % growth, "-", "-", "<= 1 MB", growth <= 1))
    ours_rss, their_rss = median("ours", 12, 1), median("pytorch", 12, 1)
    rows.append(("3b. peak RSS, chapter defaults", "%.0f MB" % ours_rss, "%.0f MB" % their_rss,
                 "%.2fx" % (ours_rss / their_rss), "<= 0.8x", ours_rss / their_rss <= 0.8))

    print("train against the chapter's PyTorch program: medians of %d interleaved pairs, %s, %d cores"
          % (args.pairs, time.strftime("%Y-%m-%d %H:%M"), os.cpu_count()))
    print("| figure | ours | PyTorch | ratio | goal | met |")
    print("|---|---|---|---|---|---|")
    for name, ours, theirs, ratio, goal, met in rows:
        print("| %s | %s | %s | %s | %s | %s |" % (name, ours, theirs, ratio, goal, "yes" if met else "no"))
    last = loops["ours"][-1]
    print("A step of ours creates %.0f TorchSharp tensors and allocates %.0f managed bytes with one net, %.0f and %.0f in "
          "train's loop of three nets." % (last["tensors_per_step"], last["managed_bytes_per_step"],
                                            last["train_tensors_per_step"], last["train_managed_bytes_per_step"]))
    floor3 = statistics.median(run["train_autograd_floor_us"] for run in loops["ours"])
    floor1 = statistics.median(run["autograd_floor_us"] for run in loops["ours"])
    print("The floor under 2a and 2b: libtorch's forward, loss and backward alone (no optimizer, no loop) take %.0f us for "
          "the three nets and %.0f us for one; 4x PyTorch leaves %.0f us and %.0f us for the whole step."
          % (floor3, floor1, 1e6 / (4 * their_rate), 1e6 / (4 * their_loop)))


if __name__ == "__main__":
    main()
