#!/usr/bin/python3
"""Regenerates the PyTorch reference results the C# tests compare against, so that `dotnet test` needs no
PyTorch: tests/TorchMomentum.Tests/Fixtures/pytorch/

  sgd-reference.json   torch.optim.SGD on f(p) = sum(0.5*c*p^2 + d*p) in float64 for each case below
                       (scripts/sgd_reference.py): final parameters and momentum buffer, exact
  chapter-losses.csv   the chapter's program with its defaults (scripts/chapter_momentum.py)
  race-losses.csv      the same with section 5.6's four nets (--contestants sgd,momentum,rmsprop,adam)
  steps-to-target.csv  steps to three full-data losses for twelve cells of the batch-size study
                       (scripts/steps_to_target.py)
  steps-to-target-noise.csv  the study's three measures for its label-noise cells: label noise 0, 0.3 and 1,
                       targets above each seed's noise floor, seeds 1 to 3 (steps_to_target.py --label-noise-study)
  family-parity.json   momentum's family (scripts/momentum_family.py) on the chapter's problem: every step's loss at
                       four settings in float32 and float64, with the data, weights and orders (scripts/family_parity.py)
  hessian-eigenvalues.json  the full-data loss's Hessian's eigenvalues on train's momentum net, at its initial
                       weights and after the chapter's run, seeds 1 and 2 (scripts/hessian_reference.py)

Needs Debian's python3-torch (apt-get install python3-torch). Run from the repository root:
  /usr/bin/python3 scripts/make_fixtures.py              rewrites the committed fixtures
  /usr/bin/python3 scripts/make_fixtures.py --out DIR    writes them into DIR instead (a test does this
                                                         and checks they equal the committed ones)
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chapter_momentum  # noqa: E402
import sgd_reference  # noqa: E402
import steps_to_target  # noqa: E402
import hessian_reference  # noqa: E402
import family_parity  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "TorchMomentum.Tests", "Fixtures", "pytorch")

# Every SGD option and their interactions: plain momentum, dampening with weight decay, Nesterov,
# maximize, all of them, a StepLR schedule, and momentum 0 (no buffer).
SGD_CASES = [
    dict(lr=0.05, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, maximize=False, step_size=0),
    dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01, nesterov=False, maximize=False, step_size=0),
    dict(lr=0.05, momentum=0.9, dampening=0, weight_decay=0.01, nesterov=True, maximize=False, step_size=0),
    dict(lr=0.02, momentum=0.9, dampening=0, weight_decay=0.01, nesterov=False, maximize=True, step_size=0),
    dict(lr=0.02, momentum=0.8, dampening=0, weight_decay=0.1, nesterov=True, maximize=True, step_size=0),
    dict(lr=0.05, momentum=0.9, dampening=0, weight_decay=0, nesterov=False, maximize=False, step_size=4),
    dict(lr=0.05, momentum=0, dampening=0, weight_decay=0.01, nesterov=False, maximize=False, step_size=0),
]
PROBLEM = dict(p0=[1, -2, 3, 0.5], c=[1, 10, 0.5, 3], d=[0.1, 0, -0.3, 1], steps=12, gamma=0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=FIXTURES, help="folder to write into (default: the committed fixtures)")
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)

    cases = []
    for case in SGD_CASES:
        config = dict(PROBLEM, **case)
        cases.append(dict(config=config, **sgd_reference.run(config)))
    with open(os.path.join(out, "sgd-reference.json"), "w") as f:
        # One case per line: a reviewer sees which case a regeneration changed.
        f.write('{"torch": %s, "cases": [\n%s\n]}\n' % (json.dumps(torch.__version__), ",\n".join(json.dumps(c) for c in cases)))

    for name, options in [("chapter-losses.csv", []), ("race-losses.csv", ["--contestants", "sgd,momentum,rmsprop,adam"])]:
        with tempfile.TemporaryDirectory() as run:
            chapter_momentum.main(["--out", run] + options)
            shutil.copyfile(os.path.join(run, "losses.csv"), os.path.join(out, name))
    steps = os.path.join(out, "steps-to-target.csv")
    if os.path.exists(steps):
        os.remove(steps)
    steps_to_target.main(["--out", steps])
    noise = os.path.join(out, "steps-to-target-noise.csv")
    if os.path.exists(noise):
        os.remove(noise)
    steps_to_target.main(["--label-noise-study", "--out", noise])
    family_parity.main(["--out", os.path.join(out, "family-parity.json")])
    hessian = os.path.join(out, "hessian-eigenvalues.json")
    if os.path.exists(hessian):
        os.remove(hessian)
    hessian_reference.main(["--out", hessian])
    print("wrote sgd-reference.json (%d cases), chapter-losses.csv, race-losses.csv, steps-to-target.csv, steps-to-target-noise.csv and hessian-eigenvalues.json to %s"
          % (len(cases), os.path.normpath(out)))


if __name__ == "__main__":
    main()
