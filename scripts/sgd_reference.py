#!/usr/bin/python3
"""PyTorch's own torch.optim.SGD on a small deterministic problem: the reference the C# tests hold
MomentumSgd to.

Reads one JSON object from stdin:
  {"p0": [...], "c": [...], "d": [...], "lr": 0.1, "momentum": 0.9, "dampening": 0, "weight_decay": 0,
   "nesterov": false, "maximize": false, "steps": 10, "step_size": 0, "gamma": 0.1}
minimises (or maximises) f(p) = sum(0.5 * c * p^2 + d * p) in float64 for `steps` steps, with a StepLR
schedule when step_size > 0, and prints {"params": [...], "buffer": [...] or null} as JSON.
Needs Debian's python3-torch: apt-get install python3-torch
"""
import json
import sys

import torch


def run(cfg):
    """Runs one configuration and returns {"params": [...], "buffer": [...] or None}."""
    p = torch.tensor(cfg["p0"], dtype=torch.float64, requires_grad=True)
    c = torch.tensor(cfg["c"], dtype=torch.float64)
    d = torch.tensor(cfg["d"], dtype=torch.float64)
    opt = torch.optim.SGD([p], lr=cfg["lr"], momentum=cfg["momentum"], dampening=cfg["dampening"],
                          weight_decay=cfg["weight_decay"], nesterov=cfg["nesterov"], maximize=cfg["maximize"])
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg["step_size"], gamma=cfg["gamma"]) if cfg["step_size"] > 0 else None
    for _ in range(cfg["steps"]):
        opt.zero_grad()
        (0.5 * c * p * p + d * p).sum().backward()
        opt.step()
        if sched:
            sched.step()
    buf = opt.state[p].get("momentum_buffer")
    return {"params": p.detach().tolist(), "buffer": None if buf is None else buf.tolist()}


def main():
    json.dump(run(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main()
