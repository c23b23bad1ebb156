#!/usr/bin/python3
"""`torchmomentum sweep` against PyTorch training the same grid of cells, one after another and batched.

A cell is the chapter's net (Linear(1,20) -> ReLU -> Linear(20,1), float32) trained by SGD with momentum for
12 epochs of the chapter's data (1000 samples, batch 32, shuffled: 384 steps) at its own (lr, momentum); the
cells of one seed share the data, the batch order and (here) the initial weights. The grid is the app's
default: 32 learning rates log-spaced from 1e-3 to 1, 32 momenta evenly spaced from 0 to 0.99. Each round
runs, in an order that rotates from round to round so that all of them see the same moments of a shared
machine, and with torch.set_num_threads(1) for the PyTorch peers (timed in this process, training alone):
  (a)  the chapter's loop, one cell after another: a Net, a torch.optim.SGD(lr, momentum) and MSELoss per
       cell, over the seed's batches (drawn once by the chapter's shuffled DataLoader and kept, since every
       cell of a seed must see the same order; iterating a DataLoader per cell would make this peer ~40%
       slower). 1,024 cells this way take about a minute, so it times --sample-cells cells spread over the grid
       and reports their rate, which is every cell's: each does the same work.
  (b1) the 1,024 cells batched by hand: each parameter stacked with a cell dimension, the forward by
       broadcasting ([batch, cells, hidden]: 3x faster here than bmm, whose CPU kernel loops over tiny
       matrices), one loss.sum().backward(), the momentum update in place under no_grad with per-cell lr and
       momentum tensors (torch.optim.SGD's rule: v = m v + g, p -= lr v). The cells go --chunk-cells at a
       time (256: a chunk's activations stay in cache, ~30% faster here than all 1,024 at once).
  (b2) the same with functorch: vmap(grad_and_value(per-cell loss)) over the stacked parameters, the same
       update and chunks (the per-cell loss written with broadcasting too: with F.linear, ~3x slower).
  (b3) the same stacked layout and chunks with the gradient worked out by hand, no autograd: the fused kernel's
       formulas as tensor operations (dw1 = w2 sum_b [z > 0] r x, db1 = w2 sum_b [z > 0] r, dw2 = sum_b r relu(z),
       db2 = sum_b r, r = 2 (out - y) / B), w2 multiplied in after the sums over the batch.
  ours `dotnet APP sweep --seeds 1 --lr-count 32 --momentum-count 32 --threads 1 --out DIR`: the same
       1,024 cells by the fused engine (the default); its rate is summary.json's cell_steps_per_second (training
       alone, from the first step, as the peers are timed); and the same with --engine torch, the reference.
  and  the default sweep (4,096 cells, 4 seeds, default threads) and the default batch-size study (`scaling`) as
       whole processes.
It prints one table of medians and ratios against the goals:
  1. cell-steps per second, ours / (a) >= 100
  2. cell-steps per second, ours (fused) / the fastest of (b1, b2, b3) >= 10, and >= 5 million cell-steps/s on one core
  3. the default sweep: training (summary.json) <= 0.5 s, whole process; peak RSS (wait4's ru_maxrss) <= 260 MB; and
     flat RSS: the default grid trained LONG_EPOCHS epochs grows at most FLAT_MB over its last FLAT_WINDOW epochs
     (summary.json's run.rss_per_epoch_bytes). The first epochs and seconds are warm-up: the allocators fill to
     their working size, and about a second into training the runtime compiles the start-up's code again, optimized,
     once (a step of ~5 MB, gone with DOTNET_TieredCompilation=0), so the window is the run's last 96 epochs.
  4. the default batch-size study, whole process <= 10 s
and, from the benchmarks project (`-- fused`), one core's FMA peak and the fused kernel's share of it, on each code path the CPU has.
At startup it checks the peers against each other: with a few cells, (a), (b1), (b2) and (b3) give the same
losses, step by step, to within 1e-6.
Needs Debian's python3-torch (1.13, with functorch), and for `ours` the app built: dotnet build -c Release.
Run from the repository root (the PyTorch peers take about 10 s, `sweep` its own time; --skip-ours runs the peers alone):
  /usr/bin/python3 scripts/bench_sweep.py [--pairs 3] [--sample-cells 16] [--app PATH/TorchMomentum.Cli.dll]
  /usr/bin/python3 scripts/bench_sweep.py --check    # the peers' agreement alone, at full length
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

import torch
import torch.utils.data as Data
from functorch import grad_and_value, vmap

from bench_train import built_app  # how the app is found, defined once
from chapter_momentum import Net, chapter_data  # the chapter's network and data, defined once

EPOCHS, BATCH_SIZE, SAMPLES, HIDDEN = 12, 32, 1000, 20  # the chapter's defaults, as every cell of a sweep has them
LR_MIN, LR_MAX, MOMENTUM_MIN, MOMENTUM_MAX = 1e-3, 1.0, 0.0, 0.99  # the app's default grid (SweepGrid)
FLAT_MB, FLAT_WINDOW = 4, 96  # "flat": the default grid's RSS may grow this much over the last FLAT_WINDOW epochs
LONG_EPOCHS = 384  # of a run this long (about 3 s of training: the warm-up is over long before its last 96 epochs)
MB = 1 << 20
SCRIPTS = os.path.dirname(os.path.abspath(__file__))


def seed_batches(seed):
    """The chapter's data and batch order for one seed, every epoch's batches in one list, and the initial weights."""
    torch.manual_seed(seed)
    x, y = chapter_data(SAMPLES)
    loader = Data.DataLoader(dataset=Data.TensorDataset(x, y), batch_size=BATCH_SIZE, shuffle=True)
    net = Net(HIDDEN)
    batches = [batch for _ in range(EPOCHS) for batch in loader]
    return batches, {name: tensor.detach().clone() for name, tensor in net.state_dict().items()}


def grid(lr_count, momentum_count):
    """Per-cell learning rates and momenta, float32, in the app's cell order: momentum outer, learning rate inner."""
    lrs = [LR_MIN * (LR_MAX / LR_MIN) ** (k / (lr_count - 1)) if 0 < k < lr_count - 1 else (LR_MIN, LR_MAX)[k > 0]
           for k in range(lr_count)]
    momenta = [MOMENTUM_MIN + k * (MOMENTUM_MAX - MOMENTUM_MIN) / (momentum_count - 1) if 0 < k < momentum_count - 1
               else (MOMENTUM_MIN, MOMENTUM_MAX)[k > 0] for k in range(momentum_count)]
    return (torch.tensor([lr for _ in momenta for lr in lrs], dtype=torch.float32),
            torch.tensor([m for m in momenta for _ in lrs], dtype=torch.float32))


def peer_a(batches, initial, lrs, momenta, cells):
    """(a) the chapter's loop for each of `cells` in turn. Returns the seconds and each cell's losses, step by step."""
    loss_func = torch.nn.MSELoss()
    start = time.perf_counter()
    losses = []
    for cell in cells:
        net = Net(HIDDEN)
        net.load_state_dict(initial)
        opt = torch.optim.SGD(net.parameters(), lr=lrs[cell].item(), momentum=momenta[cell].item())
        history = []
        for batch_x, batch_y in batches:
            loss = loss_func(net(batch_x), batch_y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            history.append(loss.item())
        losses.append(history)
    return time.perf_counter() - start, torch.tensor(losses).t()


def stacked(initial, cells):
    """The initial weights, one row per cell: hidden weight and bias [cells, hidden], predict weight [cells, hidden] and bias [cells, 1]."""
    return [initial[name].reshape(1, -1).repeat(cells, 1)
            for name in ("hidden.weight", "hidden.bias", "predict.weight", "predict.bias")]


def peer_b1(batches, initial, lrs, momenta):
    """(b1) every cell at once, by hand: stacked parameters, autograd, in-place momentum. Returns seconds and losses [steps, cells]."""
    start = time.perf_counter()
    cells = len(lrs)
    params = [p.requires_grad_() for p in stacked(initial, cells)]
    w1, b1, w2, b2 = params
    velocities = [torch.zeros_like(p) for p in params]
    lr, momentum = lrs.view(cells, 1), momenta.view(cells, 1)
    losses = torch.empty(len(batches), cells)
    for step, (batch_x, batch_y) in enumerate(batches):
        hidden = torch.relu(torch.addcmul(b1, batch_x.view(-1, 1, 1), w1))  # [batch, cells, hidden]
        out = (hidden * w2).sum(-1) + b2.view(1, cells)  # [batch, cells]
        loss = (out - batch_y).pow(2).mean(0)  # [cells]: each cell's MSELoss
        loss.sum().backward()  # the cells share no parameter, so each gets its own loss's gradient
        with torch.no_grad():
            for p, v in zip(params, velocities):
                v.mul_(momentum).add_(p.grad)
                p.addcmul_(v, lr, value=-1)
                p.grad = None
            losses[step] = loss
    return time.perf_counter() - start, losses


def cell_loss(w1, b1, w2, b2, batch_x, batch_y):
    """One cell's MSELoss on a batch, for vmap: w1, b1, w2 [hidden], b2 [1], batch_x and batch_y [batch, 1]."""
    hidden = torch.relu(batch_x * w1 + b1)  # [batch, hidden]
    return ((hidden * w2).sum(-1, keepdim=True) + b2 - batch_y).pow(2).mean()


CELL_GRADIENTS = vmap(grad_and_value(cell_loss, argnums=(0, 1, 2, 3)), in_dims=(0, 0, 0, 0, None, None))


def peer_b2(batches, initial, lrs, momenta):
    """(b2) every cell at once with functorch.vmap over a functional per-cell loss. Returns seconds and losses [steps, cells]."""
    start = time.perf_counter()
    cells = len(lrs)
    params = stacked(initial, cells)
    velocities = [torch.zeros_like(p) for p in params]
    lr, momentum = lrs.view(cells, 1), momenta.view(cells, 1)
    losses = torch.empty(len(batches), cells)
    for step, (batch_x, batch_y) in enumerate(batches):
        grads, loss = CELL_GRADIENTS(*params, batch_x, batch_y)
        for p, v, g in zip(params, velocities, grads):
            v.mul_(momentum).add_(g)
            p.addcmul_(v, lr, value=-1)
        losses[step] = loss
    return time.perf_counter() - start, losses


def peer_b3(batches, initial, lrs, momenta):
    """(b3) every cell at once, the gradient by hand (no autograd), in-place momentum. Returns seconds and losses [steps, cells]."""
    start = time.perf_counter()
    cells = len(lrs)
    params = stacked(initial, cells)
    w1, b1, w2, b2 = params
    velocities = [torch.zeros_like(p) for p in params]
    lr, momentum = lrs.view(cells, 1), momenta.view(cells, 1)
    losses = torch.empty(len(batches), cells)
    with torch.no_grad():
        for step, (batch_x, batch_y) in enumerate(batches):
            x = batch_x.view(-1, 1, 1)
            z = torch.addcmul(b1, x, w1)  # [batch, cells, hidden]
            hidden = torch.relu(z)
            error = (hidden * w2).sum(-1) + b2.view(1, cells) - batch_y  # [batch, cells]
            losses[step] = error.pow(2).mean(0)
            r = (error * (2.0 / len(batch_x))).unsqueeze(-1)  # dloss/dout, [batch, cells, 1]
            active = r * (z > 0)  # dloss/dz without its factor w2, [batch, cells, hidden]
            gradients = ((active * x).sum(0) * w2, active.sum(0) * w2, (r * hidden).sum(0), r.sum(0))
            for p, v, g in zip(params, velocities, gradients):
                v.mul_(momentum).add_(g)
                p.addcmul_(v, lr, value=-1)
    return time.perf_counter() - start, losses


def check(steps, tolerance=1e-6):
    """(a), (b1), (b2) and (b3) agree: the same losses, step by step, for a few cells (the chapter's, a fast and a slow one)."""
    batches, initial = seed_batches(1)
    lrs, momenta = torch.tensor([0.01, 0.1, 0.001]), torch.tensor([0.8, 0.9, 0.0])
    _, a = peer_a(batches[:steps], initial, lrs, momenta, range(len(lrs)))
    for name, peer in (("b1", peer_b1), ("b2", peer_b2), ("b3", peer_b3)):
        _, losses = peer(batches[:steps], initial, lrs, momenta)
        worst = (losses - a).abs().max().item()
        if not worst <= tolerance:
            sys.exit("peer (%s) is not the chapter's loop: its losses differ from (a)'s by %.3g in the first %d steps" % (name, worst, steps))
    return steps


def measure_apart(command):
    """bench_train's measure (wall seconds and peak RSS in MB of one run of `command`), in a small Python of its own.
    From this process it would be wrong: a child's ru_maxrss starts at the RSS of the process that forked it (the
    kernel keeps the old memory's high-water mark at exec), and this one holds PyTorch and the peers' tensors."""
    done = subprocess.run([sys.executable, "-c", "import json, sys; sys.path.insert(0, %r); from bench_train import measure; "
                           "print(json.dumps(measure(sys.argv[1:])))" % SCRIPTS, *command], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(done.stderr)
    return json.loads(done.stdout)


def run_ours(app, out, *options):
    """One `sweep` run: its wall seconds, peak RSS (MB) and summary.json."""
    wall, rss = measure_apart(["dotnet", app, "sweep", *options, "--out", out])
    try:
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit("sweep wrote no readable summary.json in %s: %s" % (out, e))
    shutil.rmtree(out)
    return wall, rss, summary


PASSES = 10  # passes over a chunk's [cells, hidden, batch] activations per step: StackedNet.LossAndGradient's comment


def timed(operation, repeats=200):
    """Median seconds of one call of `operation` (after a warm-up), in this process, one thread."""
    for _ in range(10):
        operation()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        operation()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def where_time_goes(rate, cells=1024):
    """A step of one 1,024-cell chunk as `sweep` makes it: its ten passes over the activations timed one by one
    (the same libtorch kernels, called from PyTorch here), the memory they move against this machine's copy
    bandwidth, and what is left for the small operations (loss, update, bookkeeping)."""
    h = torch.rand(cells, HIDDEN, BATCH_SIZE) - 0.5
    w1, b1, w2 = torch.randn(cells, HIDDEN, 1), torch.randn(cells, HIDDEN, 1), torch.randn(cells, HIDDEN, 1)
    x, r = torch.randn(1, 1, BATCH_SIZE), torch.randn(cells, 1, BATCH_SIZE)
    scratch = h.clone()
    passes = [("w1 * x", lambda: w1 * x), ("+ b1 (in place)", lambda: scratch.add_(b1)),
              ("relu (in place)", lambda: scratch.relu_()), ("h * w2", lambda: h * w2), ("sum over hidden", lambda: h.sum(1)),
              ("mask: sign (in place)", lambda: scratch.sign_()), ("* r (in place)", lambda: scratch.mul_(r)),
              ("sum over batch", lambda: h.sum(2)), ("* x (in place)", lambda: scratch.mul_(x)), ("sum over batch", lambda: h.sum(2))]
    assert len(passes) == PASSES
    costs = [(name, timed(op)) for name, op in passes]
    step = cells / rate
    chunk_bytes = h.numel() * h.element_size()
    small, large = torch.empty_like(h), torch.empty(64 * MB // 4)
    copy_small = 2 * chunk_bytes / timed(lambda: small.copy_(h))
    big_source = torch.rand(64 * MB // 4)
    copy_large = 2 * 64 * MB / timed(lambda: large.copy_(big_source), repeats=20)
    moved = PASSES * 2 * chunk_bytes  # each pass reads and writes about one activation tensor
    print("Where the time goes: a step of a %d-cell chunk takes %.2f ms in `sweep` (%d cells / %s cell-steps/s)."
          % (cells, step * 1e3, cells, "{:,.0f}".format(rate)))
    print("Its %d passes over the [%d, %d, %d] float32 activations (%.1f MB each), each timed alone here with the same kernels:"
          % (PASSES, cells, HIDDEN, BATCH_SIZE, chunk_bytes / MB))
    for name, cost in costs:
        print("  %-24s %.3f ms" % (name, cost * 1e3))
    total = sum(cost for _, cost in costs)
    print("  passes together: %.2f ms of the step; the ~20 small operations (loss, gradient assembly, the momentum update,"
          " the loss read back) and dispatch: %.2f ms" % (total * 1e3, max(0.0, step - total) * 1e3))
    print("Memory: ~%.0f MB moved a step (%d passes x read and write x %.1f MB) = %.0f GB/s at this rate; one core copies"
          " %.0f GB/s at the chunk's size (in cache) and %.0f GB/s at 64 MB (memory)."
          % (moved / MB, PASSES, chunk_bytes / MB, moved / step / 1e9, copy_small / 1e9, copy_large / 1e9))


def fused_kernel(rate):
    """The fused engine: one core's FMA peak and the kernel alone (the benchmarks project's `-- fused`), against the sweep's rate."""
    project = os.path.join(SCRIPTS, "..", "src", "TorchMomentum.Benchmarks")
    done = subprocess.run(["dotnet", "run", "--project", project, "-c", "Release", "--", "fused"], capture_output=True, text=True)
    if done.returncode != 0:
        print("(the benchmarks project's `-- fused` failed: %s)" % done.stderr.strip().splitlines()[-1:])
        return
    # One line per code path: this process's, then, where the CPU has AVX-512, the JIT held to AVX2 (16 registers).
    for line in done.stdout.strip().splitlines():
        k = json.loads(line)
        print("Where the time goes (fused, %s path): the kernel alone steps one 8-cell group on one batch at %s cell-steps/s; "
              "the sweep trains %s (%.0f%% of it: the rest is batches gathered, losses read, the ledger and the progress)."
              % (k["path"], "{:,.0f}".format(k["kernel_cell_steps_per_second"]), "{:,.0f}".format(rate), 100 * rate / k["kernel_cell_steps_per_second"]))
        print("  One core's FMA peak, a loop of 12 independent 256-bit float32 FMA chains: %.1f GFLOP/s. The kernel: %.0f FLOPs a "
              "cell-step (%.0f of them in FMAs), %.1f GFLOP/s; its FMAs alone take %.0f%% of the peak (%.0f-%.0f%% over %s pairs "
              "of blocks; its adds and multiplies run beside them)."
              % (k["peak_gflops"], k["flops_per_cell_step"], k["fma_flops_per_cell_step"], k["gflops"], 100 * k["fraction_of_peak"],
                 100 * k["fraction_min"], 100 * k["fraction_max"], 21))


def machine():
    """The CPU this ran on, as /proc/cpuinfo names it, its cores and the vector extensions the kernel's rate depends on."""
    name, flags = "an unnamed CPU", set()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
    except OSError:
        pass
    vectors = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    return "%s, %d cores (%s)" % (name, os.cpu_count(), ", ".join(vectors) or "no AVX2")


def main():
    begun = time.perf_counter()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="interleaved rounds per figure (median taken)")
    parser.add_argument("--sample-cells", type=int, default=16, help="cells of the 1,024 that peer (a) trains and times")
    parser.add_argument("--chunk-cells", type=int, default=256, help="cells that (b1), (b2) and (b3) train at once")
    parser.add_argument("--app", help="the TorchMomentum.Cli.dll to measure (default: the Release build's)")
    parser.add_argument("--skip-ours", action="store_true", help="run the PyTorch peers alone")
    parser.add_argument("--check", action="store_true", help="only check the peers' agreement, over all 384 steps")
    args = parser.parse_args()
    if args.pairs < 1 or not 1 <= args.sample_cells <= 1024 or not 1 <= args.chunk_cells <= 1024:
        sys.exit("--pairs must be at least 1, --sample-cells and --chunk-cells in [1, 1024]")
    torch.set_num_threads(1)

    checked = check(EPOCHS * -(-SAMPLES // BATCH_SIZE) if args.check else 40)  # 40 steps: across an epoch's short last batch
    if args.check:
        print("(a), (b1), (b2) and (b3) agree to 1e-6 over %d steps" % checked)
        return
    if not args.skip_ours:
        args.app = args.app or built_app()
        if not os.path.exists(args.app):
            sys.exit("build the app first: dotnet build src/TorchMomentum.Cli -c Release (no %s)" % args.app)

    batches, initial = seed_batches(1)
    lrs, momenta = grid(32, 32)
    cells = len(lrs)
    steps = len(batches)
    sample = sorted({round(i * (cells - 1) / max(1, args.sample_cells - 1)) for i in range(args.sample_cells)})
    work = tempfile.mkdtemp(prefix="bench-sweep-")
    rates = {"a": [], "b1": [], "b2": [], "b3": [], "ours": [], "torch": []}
    studies = []
    default_runs, last = [], {}
    finite = {}

    def run_a():
        seconds, _ = peer_a(batches, initial, lrs, momenta, sample)
        rates["a"].append(len(sample) * steps / seconds)

    def run_batched(name, peer):
        def run():
            chunks = [peer(batches, initial, lrs[i:i + args.chunk_cells], momenta[i:i + args.chunk_cells])
                      for i in range(0, cells, args.chunk_cells)]
            seconds, losses = sum(chunk[0] for chunk in chunks), torch.cat([chunk[1] for chunk in chunks], dim=1)
            rates[name].append(cells * steps / seconds)
            finite[name] = int(torch.isfinite(losses[-1]).sum())
        return run

    def run_ours_1024(pair):
        def run():
            _, _, summary = run_ours(args.app, os.path.join(work, "x-%d" % pair), "--seeds", "1", "--lr-count", "32",
                                     "--momentum-count", "32", "--threads", "1")
            if summary.get("cells") != cells or summary.get("cell_steps") != cells * steps:
                sys.exit("the 1,024-cell sweep did %s cells and %s cell-steps, not %d and %d"
                         % (summary.get("cells"), summary.get("cell_steps"), cells, cells * steps))
            rates["ours"].append(summary["cell_steps_per_second"])
            last["ours"] = summary
            _, _, reference = run_ours(args.app, os.path.join(work, "t-%d" % pair), "--seeds", "1", "--lr-count", "32",
                                       "--momentum-count", "32", "--threads", "1", "--engine", "torch")
            rates["torch"].append(reference["cell_steps_per_second"])
        return run

    def run_study(pair):
        def run():
            out = os.path.join(work, "s-%d" % pair)
            wall, _ = measure_apart(["dotnet", args.app, "scaling", "--out", out])
            shutil.rmtree(out, ignore_errors=True)
            studies.append(wall)
        return run

    def run_ours_default(pair):
        def run():
            wall, rss, summary = run_ours(args.app, os.path.join(work, "y-%d" % pair))
            # Flat after warm-up: the same grid trained LONG_EPOCHS epochs, its RSS over the last FLAT_WINDOW epochs
            # (the first epochs fill glibc's arenas and .NET's young generation to their working size).
            _, _, long_run = run_ours(args.app, os.path.join(work, "z-%d" % pair), "--epochs", str(LONG_EPOCHS))
            per_epoch = long_run["run"]["rss_per_epoch_bytes"]
            default_runs.append((wall, rss, (per_epoch[-1] - per_epoch[-1 - FLAT_WINDOW]) / MB, summary))
        return run

    try:
        for pair in range(args.pairs):
            runs = [run_a, run_batched("b1", peer_b1), run_batched("b2", peer_b2), run_batched("b3", peer_b3)]
            if not args.skip_ours:
                runs += [run_ours_1024(pair), run_ours_default(pair), run_study(pair)]
            for run in runs[pair % len(runs):] + runs[:pair % len(runs)]:  # rotated: no one always runs first
                run()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    median = {name: statistics.median(values) if values else None for name, values in rates.items()}
    best = max(("b1", "b2", "b3"), key=median.get)
    ours = median["ours"]

    def rate(value):
        return "{:,.0f} cell-steps/s".format(value)

    def against(name, goal):
        """A row's ours, PyTorch, ratio, goal and met for a rate against peer `name`, ours / peer >= goal (None: no goal)."""
        if ours is None:
            return "(not run)", rate(median[name]), "-", ">= %gx" % goal if goal else "-", "-"
        ratio = ours / median[name]
        return rate(ours), rate(median[name]), "%.1fx" % ratio, ">= %gx" % goal if goal else "-", \
            ("yes" if ratio >= goal else "no") if goal else "-"

    rows = [("1. 1,024 cells, one after another (a), 1 thread", *against("a", 100)),
            ("2a. 1,024 cells batched, %d at a time: stacked, autograd (b1), 1 thread" % args.chunk_cells, *against("b1", None)),
            ("2b. 1,024 cells batched, %d at a time: functorch.vmap (b2), 1 thread" % args.chunk_cells, *against("b2", None)),
            ("2c. 1,024 cells batched, %d at a time: stacked, gradient by hand (b3), 1 thread" % args.chunk_cells, *against("b3", None)),
            ("2. against the fastest batched peer, (%s)" % best, *against(best, 10))]
    if ours is not None:
        rows.append(("2d. ours on one core, float32", rate(ours), "-", "-", ">= 5,000,000", "yes" if ours >= 5e6 else "no"))
        reference = statistics.median(rates["torch"])
        rows.append(("2e. the torch engine (--engine torch), against (%s)" % best, rate(reference), rate(median[best]),
                     "%.1fx" % (reference / median[best]), "-", "-"))
    if default_runs:
        wall = statistics.median(run[0] for run in default_runs)
        rss = statistics.median(run[1] for run in default_runs)
        own = statistics.median(run[3]["run"]["peak_rss_bytes"] for run in default_runs) / MB
        growth = statistics.median(run[2] for run in default_runs)
        training = statistics.median(run[3]["run"]["training_seconds"] for run in default_runs)
        study = statistics.median(studies)
        rows += [("3a. default sweep (4,096 cells), training (summary.json)", "%.3f s" % training, "-", "-", "<= 0.5 s", "yes" if training <= 0.5 else "no"),
                 ("3a'. default sweep, whole process", "%.2f s" % wall, "-", "-", "-", "-"),
                 ("3b. default sweep, peak RSS (its summary.json: %.0f MB)" % own, "%.0f MB" % rss, "-", "-", "<= 260 MB", "yes" if rss <= 260 else "no"),
                 ("3c. default grid, %d epochs: RSS growth from epoch %d to %d" % (LONG_EPOCHS, LONG_EPOCHS - FLAT_WINDOW, LONG_EPOCHS), "%+.1f MB" % growth, "-", "-", "<= %d MB" % FLAT_MB,
                  "yes" if growth <= FLAT_MB else "no"),
                 ("4. default batch-size study (`scaling`, 4,096 cells), whole process", "%.2f s" % study, "-", "-", "<= 10 s", "yes" if study <= 10 else "no")]
    else:
        rows += [("3. default sweep (4,096 cells), whole process", "(not run)", "-", "-", "<= 10 s, flat RSS", "-")]

    print("sweep against PyTorch (%s, %d threads for the peers): medians of %d interleaved rounds, %s, on %s"
          % (torch.__version__, torch.get_num_threads(), args.pairs, time.strftime("%Y-%m-%d %H:%M"), machine()))
    print("| figure | ours | PyTorch | ratio | goal | met |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| %s |" % " | ".join(row))

    def listed(name):
        return "/".join("{:,.0f}".format(value) for value in rates[name])
    print("(a) trained %d of the 1,024 cells (%d steps each) a round, and the rate is theirs: the whole grid that way "
          "would take about %.0f s." % (len(sample), steps, cells * steps / median["a"]))
    print("Each round, in cell-steps/s: (a) %s; (b1) %s; (b2) %s; (b3) %s%s." % (
        listed("a"), listed("b1"), listed("b2"), listed("b3"), "; ours " + listed("ours") if rates["ours"] else ""))
    print("(a), (b1), (b2) and (b3) gave the same losses to 1e-6 over %d steps of 3 cells; cells whose last loss is finite: "
          "(b1) %d, (b2) %d, (b3) %d of 1,024." % (checked, finite["b1"], finite["b2"], finite["b3"]))

    if rates["torch"]:
        print("The torch engine, for the record:")
        where_time_goes(statistics.median(rates["torch"]))
    if rates["ours"]:
        fused_kernel(median["ours"])

    print("The whole benchmark took %.0f s." % (time.perf_counter() - begun))


if __name__ == "__main__":
    main()
