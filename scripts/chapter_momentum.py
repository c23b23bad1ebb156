#!/usr/bin/python3
"""The chapter's PyTorch program (sections 5.5 and 5.6), runnable, as the reference for `torchmomentum train`.

Trains plain SGD, torch.optim.SGD(momentum) and the chapter's hand-written sgd_momentum side by side on the
same batches and writes losses.csv in the same format as the C# app (step,epoch,sgd,momentum,handwritten),
so the two files can be compared line by line. --contestants races the chapter's commented-out net_RMSprop and
net_Adam too (and nesterov, sgd-effective), with the lines of section 5.6 uncommented: the nets of sgd,
momentum, rmsprop and adam are drawn in the chapter's order, those the list needs; handwritten, nesterov and
sgd-effective (plain SGD at lr/(1 - momentum)) copy net_Momentum and draw nothing. Fixes the chapter's bugs on the way: `Data` vs `Dataa`,
the undefined `train_data`, and `net` vs `net_Momentum`; the hand-written net starts from a copy of
net_Momentum's weights so that it draws nothing from the generator.

Needs Debian's python3-torch:  apt-get install python3-torch
Run:  /usr/bin/python3 scripts/chapter_momentum.py --out runs/pytorch
"""
import argparse
import copy
import os

import torch
import torch.nn.functional as F
import torch.utils.data as Data

import momentum_family


class Net(torch.nn.Module):
    def __init__(self, hidden=20):
        super(Net, self).__init__()
        self.hidden = torch.nn.Linear(1, hidden)
        self.predict = torch.nn.Linear(hidden, 1)

    def forward(self, x):
        x = F.relu(self.hidden(x))
        return self.predict(x)


def chapter_data(samples, label_noise=0.1):
    """Section 5.5.1, step 3: x = linspace(-1, 1) as a column, y = x^2 + 0.1*eps with eps ~ N(0, 1) (0.1: the label noise)."""
    x = torch.unsqueeze(torch.linspace(-1, 1, samples), dim=1)
    y = x.pow(2) + label_noise * torch.randn(*x.size())
    return x, y


ALL = ["sgd", "momentum", "handwritten", "nesterov", "rmsprop", "adam", "sgd-effective"] + list(momentum_family.KNOBS)


def sgd_momentum(parameters, vs, lr, gamma):
    for param, v in zip(parameters, vs):
        v[:] = gamma * v + lr * param.grad.data
        param.data = param.data - v


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--hidden", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--contestants", default="sgd,momentum,handwritten", help="comma-separated, from " + "|".join(ALL))
    parser.add_argument("--contestant-settings", default="", help="contestant.knob=value, comma-separated, as train's")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--out", required=True, help="folder for losses.csv (must not exist or be empty)")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    x, y = chapter_data(args.samples)
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    x, y = x.to(dtype), y.to(dtype)  # drawn in float32, as train does, then converted
    loader = Data.DataLoader(dataset=Data.TensorDataset(x, y), batch_size=args.batch_size, shuffle=True)

    names = args.contestants.split(",")
    copies_momentum = {"handwritten", "nesterov", "sgd-effective"} | set(momentum_family.KNOBS)
    if any(n not in ALL for n in names) or len(set(names)) != len(names):
        raise SystemExit("--contestants must be distinct names from %s (got '%s')" % ("|".join(ALL), args.contestants))
    # Section 5.6: net_SGD, net_Momentum, net_RMSprop, net_Adam = Net(), Net(), Net(), Net(), those the race needs.
    drawn = {}
    for name in ["sgd", "momentum", "rmsprop", "adam"]:
        if name in names or (name == "momentum" and copies_momentum & set(names)):
            drawn[name] = Net(args.hidden).to(dtype)
    nets = [drawn[n] if n in drawn else copy.deepcopy(drawn["momentum"]) for n in names]
    settings = momentum_family.parse_settings(args.contestant_settings)
    optimizers = {}

    def step_of(name, net):
        p = net.parameters()
        if name in momentum_family.KNOBS:
            optimizers[name] = momentum_family.build(name, p, args, settings)
            return optimizers[name].step
        if name == "handwritten":
            vs = [torch.zeros_like(q.data) for q in net.parameters()]
            return lambda: sgd_momentum(net.parameters(), vs, args.lr, args.momentum)
        return {"sgd": lambda: torch.optim.SGD(p, lr=args.lr),
                "momentum": lambda: torch.optim.SGD(p, lr=args.lr, momentum=args.momentum),
                "nesterov": lambda: torch.optim.SGD(p, lr=args.lr, momentum=args.momentum, nesterov=True),
                "rmsprop": lambda: torch.optim.RMSprop(p, lr=args.lr, alpha=0.9),
                "adam": lambda: torch.optim.Adam(p, lr=args.lr, betas=(0.9, 0.99)),
                "sgd-effective": lambda: torch.optim.SGD(p, lr=args.lr / (1 - args.momentum))}[name]().step
    contestants = [(net, step_of(name, net)) for name, net in zip(names, nets)]
    # ema is judged at an exponential average of its net's weights: its column is the average's loss before the step.
    averages = {i: momentum_family.ema(net, momentum_family.knobs("ema", args, settings)["decay"])
                for i, (name, net) in enumerate(zip(names, nets)) if name == "ema"}

    loss_func = torch.nn.MSELoss()
    rows = []
    for epoch in range(args.epochs):
        for batch_x, batch_y in loader:
            losses = []
            for i, (net, step) in enumerate(contestants):
                loss = loss_func(net(batch_x), batch_y)
                if i in averages:
                    with torch.no_grad():
                        reported = loss_func(averages[i](batch_x), batch_y)
                net.zero_grad()
                loss.backward()
                step()
                if i in averages:
                    averages[i].update_parameters(net)
                    loss = reported
                losses.append(loss.item())
            rows.append("%d,%d,%s" % (len(rows), epoch, ",".join(repr(l) for l in losses)))

    os.makedirs(args.out, exist_ok=True)
    if os.listdir(args.out):
        raise SystemExit("--out must be a new or empty folder (got '%s')" % args.out)
    with open(os.path.join(args.out, "losses.csv"), "w") as f:
        f.write("step,epoch,%s\n" % ",".join(names))
        f.write("\n".join(rows) + "\n")
    # The full-data loss at the end, at the weights each is judged at: schedule-free's x, ema's average.
    if "schedule-free" in optimizers:
        optimizers["schedule-free"].eval()
    with torch.no_grad():
        judged = [averages[i].module if i in averages else net for i, net in enumerate(nets)]
        final = [loss_func(net(x), y).item() for net in judged]
    with open(os.path.join(args.out, "final.csv"), "w") as f:
        f.write("contestant,full_data_loss\n" + "".join("%s,%r\n" % pair for pair in zip(names, final)))
    print("wrote %s" % os.path.join(args.out, "losses.csv"))


if __name__ == "__main__":
    main()
