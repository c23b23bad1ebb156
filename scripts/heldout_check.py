#!/usr/bin/python3
"""An independent check of `torchmomentum scaling`'s answer: PyTorch re-runs the study's reported choices on seeds the
study never used, and says whether the speed-up it measures lies inside the interval the study reported.

For each chosen row of a scaling.csv (by default the sustained measure at label noise 0.1, batch 100 and 1000, the
tightest excess), plain SGD's and momentum's reported (lr, momentum) are trained here with the chapter's loop
(train's momentum net for each seed, the chapter's batches, the hand-written step), the full-data loss taken after
every step; each seed's sustained steps (the first step t from which the loss stays at most the excess above the
seed's noise floor through t + max(20, ceil(t/10)), the window within the budget) are counted, and the speed-up is
plain SGD's median over momentum's. Seeds 201 to 232 by default: neither tuning (1-24) nor held-out (101-132).

Needs Debian's python3-torch:  apt-get install python3-torch
Run:  /usr/bin/python3 scripts/heldout_check.py docs/scaling.csv
      /usr/bin/python3 scripts/heldout_check.py docs/scaling.csv --batch-sizes 32,200 --seeds 301-332
"""
import argparse
import csv
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from steps_to_target import first_and_sustained, noise_floor, steps_to_targets  # noqa: E402


def seeds(text):
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", help="a scaling.csv written by torchmomentum scaling")
    parser.add_argument("--label-noise", type=float, default=0.1)
    parser.add_argument("--batch-sizes", default="100,1000")
    parser.add_argument("--excess", type=float, default=None, help="default: the tightest in the file")
    parser.add_argument("--seeds", type=seeds, default=seeds("201-232"), help="a-b: seeds the study never used")
    parser.add_argument("--steps", type=int, default=1000, help="the study's budget")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with open(args.csv) as f:
        rows = [r for r in csv.DictReader(f) if r["measure"] == "sustained" and float(r["label_noise"]) == args.label_noise]
    excess = args.excess if args.excess is not None else min(float(r["excess"]) for r in rows)
    floors = {s: noise_floor(s, args.label_noise) for s in args.seeds}
    inside = 0
    batches = [int(b) for b in args.batch_sizes.split(",")]
    for batch in batches:
        chosen = {r["family"]: r for r in rows if int(r["batch_size"]) == batch and float(r["excess"]) == excess}
        medians = {}
        for family in ("sgd", "momentum"):
            lr, momentum = float(chosen[family]["lr"]), float(chosen[family]["momentum"])
            steps = []
            for s in args.seeds:
                _, full = steps_to_targets(s, batch, lr, momentum, [], args.steps, label_noise=args.label_noise, full_budget=True)
                sustained = first_and_sustained(full, floors[s] + excess)[1]
                steps.append(float("inf") if sustained is None else sustained)
            medians[family] = statistics.median(steps)
        speedup = medians["sgd"] / medians["momentum"]
        row = chosen["momentum"]
        low = float(row["speedup_low"]) if row["speedup_low"] != "inf" else float("inf")
        high = float(row["speedup_high"]) if row["speedup_high"] != "inf" else float("inf")
        ok = low <= speedup <= high
        inside += ok
        print("batch %d, excess %g: PyTorch on seeds %d-%d: plain SGD %g, momentum %g steps, speed-up %.3f; the study said %s [%s, %s]: %s"
              % (batch, excess, args.seeds[0], args.seeds[-1], medians["sgd"], medians["momentum"], speedup, row["speedup"], row["speedup_low"],
                 row["speedup_high"], "inside" if ok else "OUTSIDE"))
    print("%d of %d inside the study's intervals" % (inside, len(batches)))
    return 0 if inside == len(batches) else 1


if __name__ == "__main__":
    sys.exit(main())
