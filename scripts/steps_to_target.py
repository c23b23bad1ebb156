#!/usr/bin/python3
"""Steps to a target loss for a few cells of the batch-size study, in PyTorch, as the reference for `torchmomentum
sweep --batch-sizes ... --targets ...` (and `scaling`).

A cell is `train`'s momentum net for its seed (the second Net() drawn, after net_SGD, as in section 5.6), trained
with the chapter's loop on the chapter's batches (DataLoader(shuffle=True) at the cell's batch size: one
permutation per epoch cut into consecutive batches, the last one shorter) and the chapter's hand-written momentum
step (section 5.5.1: v = gamma*v + lr*g; p = p - v; momentum 0 is plain SGD). After every step the full-data loss,
the MSE of the net over all samples, is taken; a cell's answer for a target is the first step (counted from 1)
whose full-data loss is at or below it, or none within the budget.

Needs Debian's python3-torch:  apt-get install python3-torch
Run:  /usr/bin/python3 scripts/steps_to_target.py --out steps-to-target.csv
      (scripts/make_fixtures.py runs it for the committed fixture)
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


def steps_to_targets(seed, batch_size, lr, momentum, targets, steps, samples=1000, hidden=20):
    """The first step at or below each target (None when never within `steps`), and the full-data loss after every step."""
    torch.manual_seed(seed)
    x, y = chapter_data(samples)
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
            if step == steps or all(r is not None for r in reached):
                return reached, full
    return reached, full


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=300, help="budget in steps")
    parser.add_argument("--out", required=True, help="the CSV to write (must not exist)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if os.path.exists(args.out):
        raise SystemExit("--out must not exist (got '%s')" % args.out)
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
