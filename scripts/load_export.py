#!/usr/bin/python3
"""Loads a model.pt written by `torchmomentum train --export` into PyTorch and prints predictions.

Rebuilds the chapter's Net, loads its weights, rebuilds torch.optim.SGD with the exported hyperparameters
and loads its state, then prints the net's predictions on ten inputs (linspace(-1, 1, 10)) as JSON:
  {"inputs": [...], "predictions": [...], "optimizer": {"lr": ..., "momentum": ..., "buffers": 4},
   "nets": {contestant: [its net's predictions], ...}}
Needs Debian's python3-torch:  apt-get install python3-torch
Run:  /usr/bin/python3 scripts/load_export.py runs/<run>/model.pt
"""
import json
import sys

import torch

from chapter_momentum import Net  # the chapter's network, defined once


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    saved = torch.load(sys.argv[1])
    model_state = saved["model"]
    net = Net(model_state["hidden.weight"].shape[0]).to(model_state["hidden.weight"].dtype)
    net.load_state_dict(model_state)
    group = saved["optimizer"]["param_groups"][0]
    opt = torch.optim.SGD(net.parameters(), lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                          weight_decay=group["weight_decay"], nesterov=group["nesterov"])
    opt.load_state_dict(saved["optimizer"])
    x = torch.linspace(-1, 1, 10, dtype=model_state["hidden.weight"].dtype).unsqueeze(1)
    with torch.no_grad():
        y = net(x)
    nets = {}
    for name, weights in saved.get("nets", {}).items():
        other = Net(weights["hidden.weight"].shape[0]).to(weights["hidden.weight"].dtype)
        other.load_state_dict(weights)
        with torch.no_grad():
            nets[name] = other(x)[:, 0].tolist()
    print(json.dumps({
        "nets": nets,
        "inputs": x[:, 0].tolist(),
        "predictions": y[:, 0].tolist(),
        "optimizer": {"lr": opt.param_groups[0]["lr"], "momentum": opt.param_groups[0]["momentum"],
                      "buffers": sum(1 for s in opt.state.values() if "momentum_buffer" in s)},
    }))


if __name__ == "__main__":
    main()
