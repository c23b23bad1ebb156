#!/usr/bin/python3
"""PyTorch 1.13 ports of the public references of momentum's family, the peers of TorchMomentum's optimizers.

Each class follows its reference's order of operations, line for line, so that float32 results can be compared
step by step; only what PyTorch 1.13 no longer accepts is changed (the deprecated add_(scalar, tensor) becomes
add_(tensor, alpha=scalar)), and each takes only the options the race uses (no weight-decay variants beyond the
reference's own). The references:

  QHM         facebookresearch/qhoptim   qhoptim/pyt/qhm.py                  (Ma and Yarats 2019)
  AggMo       AtheMathmo/AggMo           src/aggmo.py                        (Lucas et al. 2019)
  AccSGD      rahulkidambi/AccSGD        AccSGD.py                           (Kidambi et al. 2018)
  schedule-free SGD  facebookresearch/schedule_free  schedulefree/sgd_schedulefree_reference.py  (Defazio et al. 2024)
  Lion        google/automl              lion/lion_pytorch.py                (Chen et al. 2023)
  EMA         torch.optim.swa_utils.AveragedModel with PyTorch's documented EMA avg_fn (1.13 has no built-in one)

KNOBS holds each contestant's settings and defaults, as the C# contestant table (src/TorchMomentum/Training/
ContestantKinds.cs) has them; build(name, params, args, settings) makes the optimizer.
"""
import copy

import torch
from torch.optim.optimizer import Optimizer


class QHM(Optimizer):
    """b = beta*b + (1 - beta)*g; p = p - lr*nu*b - lr*(1 - nu)*g."""

    def __init__(self, params, lr, momentum, nu, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, nu=nu, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, nu, momentum, weight_decay = group["lr"], group["nu"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad
                if weight_decay != 0:
                    d_p = d_p.add(p, alpha=weight_decay)
                state = self.state[p]
                if len(state) == 0:
                    state["momentum_buffer"] = torch.zeros_like(p)
                buf = state["momentum_buffer"]
                buf.mul_(momentum).add_(d_p, alpha=1.0 - momentum)
                p.add_(buf, alpha=-lr * nu)
                p.add_(d_p, alpha=-lr * (1.0 - nu))


class AggMo(Optimizer):
    """For each beta: v = beta*v + g; p = p - (lr/K)*v, buffer by buffer."""

    def __init__(self, params, lr, betas=(0.0, 0.9, 0.99), weight_decay=0):
        super().__init__(params, dict(lr=lr, betas=list(betas), weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            weight_decay, betas = group["weight_decay"], group["betas"]
            total_mom = float(len(betas))
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad
                if weight_decay != 0:
                    d_p = d_p.add(p, alpha=weight_decay)
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = [torch.zeros_like(p) for _ in betas]
                for beta, buf in zip(betas, state["momentum_buffer"]):
                    buf.mul_(beta).add_(d_p)
                    p.sub_(buf, alpha=group["lr"] / total_mom)


class AccSGD(Optimizer):
    """The reference's long step L = lr*kappa/c, B = 1 - (1 - c^2 xi/kappa), zeta = c/(c + B)."""

    def __init__(self, params, lr, kappa=1000.0, xi=10.0, smallConst=0.7, weight_decay=0):
        super().__init__(params, dict(lr=lr, kappa=kappa, xi=xi, smallConst=smallConst, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            weight_decay = group["weight_decay"]
            large_lr = (group["lr"] * group["kappa"]) / (group["smallConst"])
            Alpha = 1.0 - ((group["smallConst"] * group["smallConst"] * group["xi"]) / group["kappa"])
            Beta = 1.0 - Alpha
            zeta = group["smallConst"] / (group["smallConst"] + Beta)
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad
                if weight_decay != 0:
                    d_p = d_p.add(p, alpha=weight_decay)
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = copy.deepcopy(p.data)
                buf = state["momentum_buffer"]
                buf.mul_((1.0 / Beta) - 1.0)
                buf.add_(d_p, alpha=-large_lr)
                buf.add_(p)
                buf.mul_(Beta)
                p.add_(d_p, alpha=-group["lr"])
                p.mul_(zeta)
                p.add_(buf, alpha=1.0 - zeta)


class SGDScheduleFreeReference(Optimizer):
    """z = z - lr*g(y); x = (1 - c)*x + c*z; y = momentum*x + (1 - momentum)*z, with the reference's weights c."""

    def __init__(self, params, lr=1.0, momentum=0.9, weight_decay=0, warmup_steps=0, r=0.0, weight_lr_power=2):
        super().__init__(params, dict(lr=lr, momentum=momentum, r=r, k=0, warmup_steps=warmup_steps, train_mode=True,
                                      weight_sum=0.0, lr_max=-1.0, scheduled_lr=0.0, weight_lr_power=weight_lr_power,
                                      weight_decay=weight_decay))

    @torch.no_grad()
    def eval(self):
        for group in self.param_groups:
            if group["train_mode"]:
                for p in group["params"]:
                    if "x" in self.state[p]:
                        p.copy_(self.state[p]["x"])
                group["train_mode"] = False

    @torch.no_grad()
    def train(self):
        for group in self.param_groups:
            if not group["train_mode"]:
                for p in group["params"]:
                    if "y" in self.state[p]:
                        p.copy_(self.state[p]["y"])
                group["train_mode"] = True

    @torch.no_grad()
    def step(self):
        if not self.param_groups[0]["train_mode"]:
            raise Exception("not in train mode")
        for group in self.param_groups:
            momentum, weight_decay, k, warmup_steps = group["momentum"], group["weight_decay"], group["k"], group["warmup_steps"]
            sched = (k + 1) / warmup_steps if k < warmup_steps else 1.0
            lr = group["lr"] * sched
            group["scheduled_lr"] = lr
            lr_max = group["lr_max"] = max(lr, group["lr_max"])
            weight = ((k + 1) ** group["r"]) * (lr_max ** group["weight_lr_power"])
            weight_sum = group["weight_sum"] = group["weight_sum"] + weight
            try:
                ckp1 = weight / weight_sum
            except ZeroDivisionError:
                ckp1 = 0
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if "z" not in state:
                    state["z"] = torch.clone(p)
                    state["x"] = torch.clone(p)
                    state["y"] = torch.clone(p)
                z, x, y = state["z"], state["x"], state["y"]
                if weight_decay != 0:
                    grad = grad.add(y, alpha=weight_decay)
                z.sub_(grad, alpha=lr)
                x.mul_(1 - ckp1).add_(z, alpha=ckp1)
                y.copy_(x.mul(momentum).add_(z, alpha=1 - momentum))
                p.copy_(y)
            group["k"] = k + 1


class Lion(Optimizer):
    """c = b1*m + (1 - b1)*g; p = p*(1 - lr*wd) - lr*sign(c); m = b2*m + (1 - b2)*g."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data.mul_(1 - group["lr"] * group["weight_decay"])
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p)
                exp_avg = state["exp_avg"]
                beta1, beta2 = group["betas"]
                update = exp_avg * beta1 + grad * (1 - beta1)
                p.add_(update.sign_(), alpha=-group["lr"])
                exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)


def ema(model, decay):
    """torch.optim.swa_utils.AveragedModel with the exponential average of PyTorch's documentation."""
    return torch.optim.swa_utils.AveragedModel(model, avg_fn=lambda averaged, current, n: decay * averaged + (1 - decay) * current)


# Each contestant's knobs and defaults (args: the run's lr and momentum), as the C# contestant table has them.
KNOBS = {
    "qhm": {"lr": lambda a: a.lr / (1 - a.momentum), "beta": 0.9, "nu": 0.7},
    "aggmo": {"lr": lambda a: a.lr, "betas": [0.0, 0.9, 0.99]},
    "accsgd": {"lr": lambda a: a.lr, "kappa": 1000.0, "xi": 10.0, "small_const": 0.7},
    "schedule-free": {"lr": 0.1, "momentum": 0.9, "warmup_steps": 0, "r": 0.0, "weight_lr_power": 2.0},
    "lion": {"lr": 0.001, "beta1": 0.9, "beta2": 0.99, "weight_decay": 0.0},
    "ema": {"decay": 0.99},
    "adamw": {"lr": lambda a: a.lr},
}


def parse_settings(text):
    """'qhm.nu=0.5,aggmo.betas=0:0.9:0.99' as {('qhm', 'nu'): 0.5, ('aggmo', 'betas'): [0, 0.9, 0.99]}."""
    values = {}
    for item in filter(None, text.split(",")):
        key, value = item.split("=")
        name, knob = key.split(".", 1)
        numbers = [float(v) for v in value.split(":")]
        values[(name, knob)] = numbers if isinstance(KNOBS[name][knob], list) else numbers[0]
    return values


def knobs(name, args, settings):
    """The knobs of contestant `name`: its defaults, overridden by `settings` (parse_settings)."""
    own = {}
    for knob, default in KNOBS[name].items():
        own[knob] = settings.get((name, knob), default(args) if callable(default) else default)
    return own


def build(name, params, args, settings):
    """The optimizer of family contestant `name` or momentum (ema: heavy ball; its average is made by `ema`)."""
    if name == "momentum":  # heavy ball, the family's reference point
        return torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)
    k = knobs(name, args, settings)
    if name == "qhm":
        return QHM(params, lr=k["lr"], momentum=k["beta"], nu=k["nu"])
    if name == "aggmo":
        return AggMo(params, lr=k["lr"], betas=k["betas"])
    if name == "accsgd":
        return AccSGD(params, lr=k["lr"], kappa=k["kappa"], xi=k["xi"], smallConst=k["small_const"])
    if name == "schedule-free":
        optimizer = SGDScheduleFreeReference(params, lr=k["lr"], momentum=k["momentum"], warmup_steps=int(k["warmup_steps"]),
                                             r=k["r"], weight_lr_power=k["weight_lr_power"])
        optimizer.train()
        return optimizer
    if name == "lion":
        return Lion(params, lr=k["lr"], betas=(k["beta1"], k["beta2"]), weight_decay=k["weight_decay"])
    if name == "ema":
        return torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)
    if name == "adamw":
        # PyTorch's defaults (betas 0.9, 0.999, eps 1e-8, weight_decay 0.01), but lr 0.01.
        return torch.optim.AdamW(params, lr=k["lr"])
    raise ValueError(name)
