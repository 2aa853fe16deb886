"""Benchmark (not a test): the cost syncache.torch adds to a training step.

One training step (zero_grad, forward, cross-entropy backward, optimizer step) of a
784-1000-10 MLP (ReLU, float32) at batch 32 with SGD (lr 0.01), in one process with
torch.set_num_threads(2): the plain optimizer, Metered, and Cached (rule neuron,
theta 0.01, tau 1000, c 0.001, exponential decay). Also the LeNet-5-sized CNN of
examples/torch_cnn.py at batch 32 with Adam. Repetitions alternate between the
variants; medians of the per-step times are reported, with the overhead relative to the
plain step. Then the wrapper's own part alone: the work of step() without the inner
optimizer (snapshot, difference, store, write back), against one Tensor.copy_ of every
parameter.

Run:  PYTHONPATH=build/python /usr/bin/python3 bench/torch_step.py [--steps 200] [--reps 7]
"""

import argparse
import os
import platform
import statistics
import sys
import time

import torch

import syncache
import syncache.torch as sct

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
from torch_cnn import LeNet  # noqa: E402


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(784, 1000), torch.nn.ReLU(),
                               torch.nn.Linear(1000, 10))


CACHE = dict(rule="neuron", theta=0.01, tau=1000.0, c=0.001, decay="exponential")


def make(kind, net_factory, optimizer):
    torch.manual_seed(0)
    net = net_factory()
    inner = optimizer(net.parameters())
    if kind == "metered":
        return net, sct.Metered(inner, model=net)
    if kind == "cached":
        return net, sct.Cached(inner, model=net, **CACHE)
    return net, inner


def time_steps(net, opt, x, y, steps):
    loss_fn = torch.nn.functional.cross_entropy
    for _ in range(5):  # warm-up
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    return (time.perf_counter() - t0) / steps


def wrapper_part(net, opt, steps):
    """step() without the inner optimizer: the wrapper's snapshot, difference, store work
    and write-back, per step (the gradients stay as they are)."""
    inner_step = opt.optimizer.step
    opt.optimizer.step = lambda closure=None: None
    try:
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.step()
        return (time.perf_counter() - t0) / steps
    finally:
        opt.optimizer.step = inner_step


def copy_all(net, steps):
    params = [p.detach() for p in net.parameters()]
    bufs = [torch.empty_like(p) for p in params]
    t0 = time.perf_counter()
    for _ in range(steps):
        for b, p in zip(bufs, params):
            b.copy_(p)
    return (time.perf_counter() - t0) / steps


def bench(name, net_factory, optimizer, x, y, steps, reps):
    kinds = ["plain", "metered", "cached"]
    times = {k: [] for k in kinds}
    own = {k: [] for k in kinds[1:]}
    copies = []
    for _ in range(reps):
        for k in kinds:
            net, opt = make(k, net_factory, optimizer)
            times[k].append(time_steps(net, opt, x, y, steps))
            if k != "plain":
                own[k].append(wrapper_part(net, opt, steps))
            else:
                copies.append(copy_all(net, steps))
    plain = statistics.median(times["plain"])
    copy = statistics.median(copies)
    n = sum(p.numel() for p in net_factory().parameters())
    print(f"{name} ({n} parameters), {steps} steps x {reps} repetitions, median ms per step:")
    for k in kinds:
        t = statistics.median(times[k])
        extra = "" if k == "plain" else f"  (+{100 * (t / plain - 1):.0f} % of plain)"
        print(f"  {k:8s} {1e3 * t:8.3f}{extra}")
    print(f"  Tensor.copy_ of every parameter: {1e3 * copy:.3f} ms")
    for k in kinds[1:]:
        t = statistics.median(own[k])
        print(f"  {k} wrapper's own part: {1e3 * t:.3f} ms ({t / copy:.1f} x the copy)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"syncache {syncache.__version__}, torch {torch.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch threads {torch.get_num_threads()}")
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 784, generator=g)
    y = torch.randint(0, 10, (32,), generator=g)
    bench("MLP 784-1000-10, SGD, batch 32", mlp, lambda ps: torch.optim.SGD(ps, lr=0.01), x, y,
          args.steps, args.reps)
    bench("LeNet-5 CNN, Adam, batch 32", LeNet, lambda ps: torch.optim.Adam(ps, lr=1e-3), x, y,
          max(args.steps // 4, 10), args.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
