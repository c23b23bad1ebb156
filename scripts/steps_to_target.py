#!/usr/bin/python3
"""Steps to a target loss for a few cells of the batch-size study, in PyTorch, as the reference for `torchmomentum
sweep --batch-sizes ... --targets ...` (and `scaling`).

A cell is `train`'s momentum net for its seed (the second Net() drawn, after net_SGD, as in section 5.6), trained
with the chapter's loop on the chapter's batches (DataLoader(shuffle=True) at the cell's batch size: one
permutation per epoch cut into consecutive batches, the last one shorter) and the chapter's hand-written momentum
step (section 5.5.1: v = gamma*v + lr*g; p = p - v; momentum 0 is plain SGD). After every step the full-data loss,
the MSE of the net over all samples, is taken; a cell's answer for a target is the first step (counted from 1)
whose full-data loss is at or below it, or none within the budget.

With --label-noise-study it writes the reference for the study's label-noise cells instead: the data
y = x^2 + sigma*eps (the same draws scaled), targets as excesses over each seed's noise floor mean((y - x^2)^2),
and the three measures: `first` (the first touch), `sustained` (the first step t from which the loss stays at or
below the target through t + max(20, ceil(t/10)), the window within the budget) per seed, and `mean` (the first
step at which the mean over the seeds of the loss above each floor is at or below the excess) per setting.

Needs Debian's python3-torch:  apt-get install python3-torch
Run:  /usr/bin/python3 scripts/steps_to_target.py --out steps-to-target.csv
      /usr/bin/python3 scripts/steps_to_target.py --label-noise-study --out steps-to-target-noise.csv
      (scripts/make_fixtures.py runs both for the committed fixtures)
"""
import argparse
import os
import sys

import torch
import torch.utils.data as Data

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chapter_momentum import Net, chapter_data, sgd_momentum  # noqa: E402

TARGETS = [0.0204, 0.0154, 0.0124]
# The cells of `sweep --batch-sizes 1,32,1000 --lr-min 0.05 --lr-max 0.25 --lr-count 2 --momentum-count 2
# --momentum-max 0.9 --seeds 1 --targets 0.0204,0.0154,0.0124 --steps 300`, in its id order (batch size, then
# momentum, then lr): batch 1, 32 and the full batch, plain SGD and momentum 0.9, at two learning rates each.
CASES = [(b, lr, m) for b in (1, 32, 1000) for m in (0.0, 0.9) for lr in (0.05, 0.25)]


# The cells of `sweep --batch-sizes 1,32,1000 --lr-min 0.05 --lr-max 0.05 --lr-count 1 --momentum-max 0.9
# --momentum-count 2 --tune-seeds 1,2,3 --label-noise 0,0.3,1 --excess 0.01,0.005,0.002 --steps 300`.
NOISE_EXCESS = [0.01, 0.005, 0.002]
NOISE_LEVELS = [0.0, 0.3, 1.0]
NOISE_SEEDS = [1, 2, 3]
NOISE_CASES = [(b, 0.05, m) for b in (1, 32, 1000) for m in (0.0, 0.9)]


def window(t):
    """How long a hit at step t must last to count as an arrival: max(20, ceil(t / 10)) more steps."""
    return max(20, -(-t // 10))


def first_and_sustained(curve, target):
    """The first step at or below the target, and the first from which it stays there for its window (None: never)."""
    first = sustained = None
    start = None
    for t, loss in enumerate(curve, start=1):
        if not loss <= target:
            start = None
            continue
        if start is None:
            start = t
        if first is None:
            first = t
        if sustained is None and t - start >= window(start):
            sustained = start
    return first, sustained


def steps_to_targets(seed, batch_size, lr, momentum, targets, steps, samples=1000, hidden=20, label_noise=0.1, full_budget=False):
    """The first step at or below each target (None when never within `steps`), and the full-data loss after every step."""
    torch.manual_seed(seed)
    x, y = chapter_data(samples, label_noise)
    loader = Data.DataLoader(dataset=Data.TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    Net(hidden)  # net_SGD, drawn first
    net = Net(hidden)  # net_Momentum: the cell's net
    vs = [torch.zeros_like(p.data) for p in net.parameters()]
    loss_func = torch.nn.MSELoss()
    reached = [None] * len(targets)
    full = []
    step = 0
    while step < steps:
        for batch_x, batch_y in loader:
            loss = loss_func(net(batch_x), batch_y)
            net.zero_grad()
            loss.backward()
            sgd_momentum(net.parameters(), vs, lr, momentum)
            step += 1
            with torch.no_grad():
                now = loss_func(net(x), y).item()
            full.append(now)
            for i, target in enumerate(targets):
                if reached[i] is None and now <= target:
                    reached[i] = step
            if step == steps or (not full_budget and all(r is not None for r in reached)):
                return reached, full
    return reached, full


def noise_floor(seed, label_noise, samples=1000):
    """mean((y - x^2)^2) of the seed's data, in float64 of its float32 numbers."""
    torch.manual_seed(seed)
    x, y = chapter_data(samples, label_noise)
    x, y = x.double(), y.double()
    return ((y - x * x) ** 2).mean().item()


def label_noise_rows(steps=300):
    """The label-noise cells' first and sustained steps per seed, and each setting's mean arrival over the seeds."""
    rows = ["label_noise,seed,batch_size,lr,momentum,measure,%s" % ",".join("steps_to_excess_%r" % e for e in NOISE_EXCESS)]
    cell = lambda values: ",".join("" if v is None else str(v) for v in values)
    for noise in NOISE_LEVELS:
        for batch_size, lr, momentum in NOISE_CASES:
            above = []
            for seed in NOISE_SEEDS:
                floor = noise_floor(seed, noise)
                _, full = steps_to_targets(seed, batch_size, lr, momentum, [], steps, label_noise=noise, full_budget=True)
                hits = [first_and_sustained(full, floor + e) for e in NOISE_EXCESS]
                rows.append("%r,%d,%d,%r,%r,first,%s" % (noise, seed, batch_size, lr, momentum, cell(h[0] for h in hits)))
                rows.append("%r,%d,%d,%r,%r,sustained,%s" % (noise, seed, batch_size, lr, momentum, cell(h[1] for h in hits)))
                above.append([loss - floor for loss in full])
            mean = [sum(column) / len(column) for column in zip(*above)]
            arrivals = [next((t for t, m in enumerate(mean, start=1) if m <= e), None) for e in NOISE_EXCESS]
            rows.append("%r,all,%d,%r,%r,mean,%s" % (noise, batch_size, lr, momentum, cell(arrivals)))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=300, help="budget in steps")
    parser.add_argument("--out", required=True, help="the CSV to write (must not exist)")
    parser.add_argument("--label-noise-study", action="store_true", help="write the label-noise cells' three measures instead")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if os.path.exists(args.out):
        raise SystemExit("--out must not exist (got '%s')" % args.out)
    if args.label_noise_study:
        with open(args.out, "w") as f:
            f.write("\n".join(label_noise_rows()) + "\n")
        print("wrote %s" % args.out)
        return
    rows = ["seed,batch_size,lr,momentum,%s,loss_at_first_target_step" % ",".join("steps_to_%r" % t for t in TARGETS)]
    for batch_size, lr, momentum in CASES:
        reached, full = steps_to_targets(args.seed, batch_size, lr, momentum, TARGETS, args.steps)
        at = full[reached[0] - 1] if reached[0] else ""
        rows.append("%d,%d,%r,%r,%s,%r" % (args.seed, batch_size, lr, momentum, ",".join("" if r is None else str(r) for r in reached), at))
    with open(args.out, "w") as f:
        f.write("\n".join(rows) + "\n")
    print("wrote %s" % args.out)


if __name__ == "__main__":
    main()
