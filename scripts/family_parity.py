#!/usr/bin/python3
"""The momentum family's PyTorch references (scripts/momentum_family.py) trained on the chapter's problem, written
as a fixture the C# optimizers are checked against step by step (FamilyParityTests).

One seed's data (the chapter's x = linspace(-1, 1), y = x^2 + 0.1 eps, drawn in float32), one net's initial weights
and twelve epochs' orders are drawn once and written into the fixture, so the C# side trains on the very same
numbers: libtorch versions may draw or round a float32 number one ulp apart, which float64 would show. Then every
family contestant, each from a copy of the same net, trains the chapter's 12 epochs (batch 32, lr 0.01, momentum
0.8) at the chapter's defaults and at three other settings of every knob, in float32 and in float64, and the fixture
keeps each one's loss before every step and its full-data loss at the end, at the weights it is judged at.

Needs Debian's python3-torch. Run from the repository root:
  /usr/bin/python3 scripts/family_parity.py --out tests/TorchMomentum.Tests/Fixtures/pytorch/family-parity.json
"""
import argparse
import copy
import json
import os
import sys
import types

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chapter_momentum  # noqa: E402
import momentum_family  # noqa: E402

CONTESTANTS = ["momentum", "qhm", "aggmo", "accsgd", "schedule-free", "lion", "ema", "adamw"]
# The chapter's defaults, then three settings that move every knob (lists with ':', as train's --contestant-settings).
SETTINGS = [
    "",
    "qhm.nu=1,qhm.beta=0.5,aggmo.betas=0.5:0.95,accsgd.kappa=100,accsgd.xi=5,accsgd.small_const=0.5,schedule-free.lr=0.05,"
    "schedule-free.warmup_steps=50,schedule-free.r=1,lion.lr=0.003,lion.weight_decay=0.1,ema.decay=0.9,adamw.lr=0.003",
    "qhm.nu=0,qhm.lr=0.02,aggmo.betas=0.9,aggmo.lr=0.005,accsgd.kappa=10000,accsgd.xi=20,accsgd.small_const=1,"
    "schedule-free.momentum=0.5,schedule-free.weight_lr_power=0,lion.beta1=0.5,lion.beta2=0.9,ema.decay=0.5,adamw.lr=0.03",
    "qhm.nu=0.9,qhm.beta=0.999,aggmo.betas=0:0.5:0.9:0.99:0.999,accsgd.lr=0.02,accsgd.xi=1,schedule-free.lr=0.3,"
    "schedule-free.warmup_steps=100,lion.lr=0.0003,lion.beta2=0.999,ema.decay=0.999,adamw.lr=0.001",
]
RUN = types.SimpleNamespace(lr=0.01, momentum=0.8, batch_size=32, epochs=12, samples=1000, seed=1)


def train(x, y, net, orders, settings, dtype):
    """Each contestant's loss before every step, and its full-data loss at the end, at its judged weights."""
    x, y = x.to(dtype), y.to(dtype)
    parsed = momentum_family.parse_settings(settings)
    nets = [copy.deepcopy(net).to(dtype) for _ in CONTESTANTS]
    optimizers = [momentum_family.build(name, n.parameters(), RUN, parsed) for name, n in zip(CONTESTANTS, nets)]
    decay = momentum_family.knobs("ema", RUN, parsed)["decay"]
    averages = {i: momentum_family.ema(n, decay) for i, (name, n) in enumerate(zip(CONTESTANTS, nets)) if name == "ema"}
    losses = [[] for _ in CONTESTANTS]
    for order in orders:
        bx, by = x[order], y[order]
        for start in range(0, len(order), RUN.batch_size):
            batch_x, batch_y = bx[start:start + RUN.batch_size], by[start:start + RUN.batch_size]
            for i, (n, optimizer) in enumerate(zip(nets, optimizers)):
                loss = F.mse_loss(n(batch_x), batch_y)
                if i in averages:
                    with torch.no_grad():
                        loss_reported = F.mse_loss(averages[i](batch_x), batch_y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if i in averages:
                    averages[i].update_parameters(n)
                    loss = loss_reported
                losses[i].append(loss.item())
    final = {}
    with torch.no_grad():
        for i, (name, n, optimizer) in enumerate(zip(CONTESTANTS, nets, optimizers)):
            if hasattr(optimizer, "eval"):
                optimizer.eval()
            final[name] = F.mse_loss((averages[i].module if i in averages else n)(x), y).item()
    return {name: l for name, l in zip(CONTESTANTS, losses)}, final


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the fixture to write (JSON)")
    out = parser.parse_args(argv).out
    torch.manual_seed(RUN.seed)
    x, y = chapter_momentum.chapter_data(RUN.samples)
    net = chapter_momentum.Net()
    orders = [torch.randperm(RUN.samples) for _ in range(RUN.epochs)]
    cases = []
    for settings in SETTINGS:
        for dtype in ["float32", "float64"]:
            losses, final = train(x, y, net, orders, settings, getattr(torch, dtype))
            cases.append(dict(settings=settings, dtype=dtype, losses=losses, final=final))
    fixture = dict(torch=torch.__version__, lr=RUN.lr, momentum=RUN.momentum, batch_size=RUN.batch_size, contestants=CONTESTANTS,
                   x=x.view(-1).tolist(), y=y.view(-1).tolist(),
                   weights={name: p.detach().view(-1).tolist() for name, p in net.named_parameters()},
                   orders=[o.tolist() for o in orders], cases=cases)
    with open(out, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
