#!/usr/bin/python3
"""The exact Hessian of the chapter's loss on its net, in PyTorch, as the reference for `torchmomentum curvature`.

For each seed: the chapter's data and `train`'s momentum net (the second Net() drawn, after net_SGD, section 5.6),
at its initial weights and after the chapter's run (12 epochs, batch 32, lr 0.01, momentum 0.8, torch.optim.SGD
as `train`'s momentum column), converted to float64; the full-data MSE's Hessian by autograd
(torch.autograd.functional.hessian over the flattened parameters) and its eigenvalues (torch.linalg.eigvalsh),
largest first.

Needs Debian's python3-torch:  apt-get install python3-torch
Run:  /usr/bin/python3 scripts/hessian_reference.py --out hessian-eigenvalues.json
      (scripts/make_fixtures.py runs it for the committed fixture)
"""
import argparse
import json
import os
import sys

import torch
import torch.utils.data as Data

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chapter_momentum import Net, chapter_data  # noqa: E402

SEEDS = [1, 2]


def hessian_eigenvalues(net, x, y):
    """Eigenvalues of the full-data MSE's Hessian over the net's parameters, float64, largest first."""
    params = [p.detach().double() for p in net.parameters()]
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]
    flat = torch.cat([p.reshape(-1) for p in params])
    x, y = x.double(), y.double()

    def loss(theta):
        w1, b1, w2, b2 = [t.reshape(s) for t, s in zip(torch.split(theta, sizes), shapes)]
        out = torch.relu(x @ w1.t() + b1) @ w2.t() + b2
        return ((out - y) ** 2).mean()

    h = torch.autograd.functional.hessian(loss, flat)
    return sorted(torch.linalg.eigvalsh(h).tolist(), reverse=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="the JSON file to write (must not exist)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if os.path.exists(args.out):
        raise SystemExit("--out must not exist (got '%s')" % args.out)
    cases = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        x, y = chapter_data(1000)
        loader = Data.DataLoader(dataset=Data.TensorDataset(x, y), batch_size=32, shuffle=True)
        Net()  # net_SGD, drawn first
        net = Net()
        initial = hessian_eigenvalues(net, x, y)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.8)
        loss_func = torch.nn.MSELoss()
        for _ in range(12):
            for batch_x, batch_y in loader:
                loss = loss_func(net(batch_x), batch_y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        cases.append(dict(seed=seed, initial=initial, trained=hessian_eigenvalues(net, x, y)))
    with open(args.out, "w") as f:
        f.write('{"torch": %s, "cases": [\n%s\n]}\n' % (json.dumps(torch.__version__), ",\n".join(json.dumps(c) for c in cases)))
    print("wrote %s" % args.out)


if __name__ == "__main__":
    main()
