"""The paper's MNIST network (784-100-10, Figure 5B) in PyTorch, metered and cached by
syncache.torch.

The network of ``syncache mlp``: logistic hidden and output units, no biases, weights
from N(0, 0.01^2), targets 0.99 for the label and 0.01 otherwise, trained one sample at a
time in file order by SGD with eta = 0.1 on E = 1/2 sum_k (t_k - o_k)^2 (a summed, not
averaged, loss: the step is then Delta w = eta delta x, the step of ``syncache mlp``).
``Metered`` meters classic learning; ``Cached`` (Figure 5B: rule neuron, theta = 0.02,
tau = 1000, c = 0.001, exponential decay) caches it. Every ``--eval-every`` samples the
test accuracy and the energy "as if consolidated now" (total) are recorded; the output is
the energy at which each ``--targets`` accuracy is first reached.

    python3 examples/torch_mlp.py --mode both --seeds 1 2 3
    python3 examples/torch_mlp.py --train 300 --test 100 --eval-every 100   # seconds
"""

import argparse
import math
import sys
import time

import numpy as np
import torch

import syncache
import syncache.torch as sct


def network(seed, hidden=100, dtype=torch.float64):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(784, hidden, bias=False), torch.nn.Sigmoid(),
                              torch.nn.Linear(hidden, 10, bias=False), torch.nn.Sigmoid())
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 0.01)  # w(0) ~ N(0, 0.01^2)
    return net.to(dtype)


def accuracy(net, images, labels):
    with torch.no_grad():
        return float((net(images).argmax(dim=1) == labels).double().mean())


def train(mode, data, *, seed=1, hidden=100, eta=0.1, epochs=1, eval_every=1000, rule="neuron",
          theta=0.02, tau=1000.0, c=0.001, stop_at=None, dtype=torch.float64):
    """One run; returns its learning curve: a list of (samples, accuracy, energy dict)."""
    net = network(seed, hidden, dtype)
    inner = torch.optim.SGD(net.parameters(), lr=eta)
    if mode == "classic":
        opt = sct.Metered(inner, model=net)
    else:
        opt = sct.Cached(inner, model=net, rule=rule, theta=theta, tau=tau, c=c,
                         decay="exponential")
    x_train = torch.from_numpy(data["train_images"])
    y_train = data["train_labels"].astype(np.int64)
    x_test = torch.from_numpy(data["test_images"]).to(dtype)
    y_test = torch.from_numpy(data["test_labels"].astype(np.int64))
    targets = torch.full((len(y_train), 10), 0.01, dtype=dtype)
    targets[np.arange(len(y_train)), y_train] = 0.99
    curve, samples = [], 0
    for _ in range(epochs):
        for i in range(len(y_train)):
            x = x_train[i:i + 1].to(dtype)
            opt.zero_grad()
            loss = 0.5 * ((net(x) - targets[i:i + 1]) ** 2).sum()  # E = 1/2 sum (t - o)^2
            loss.backward()
            opt.step()
            samples += 1
            if samples % eval_every == 0:
                curve.append((samples, accuracy(net, x_test, y_test), opt.energy))
                if stop_at is not None and curve[-1][1] >= stop_at:
                    return curve
    return curve


def energy_at(curve, target, key="total"):
    """The energy at the first evaluation whose accuracy reaches target (nan if none)."""
    for samples, acc, e in curve:
        if acc >= target:
            return e[key], samples
    return math.nan, 0


def parser(doc):
    """The options of both torch examples: the data (--train / --test: the small-data
    option) and the number of epochs."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--data", default=None, help="MNIST folder (default: syncache's)")
    ap.add_argument("--train", type=int, default=0, help="first n training images (0 = all)")
    ap.add_argument("--test", type=int, default=0, help="first n test images (0 = all)")
    ap.add_argument("--epochs", type=int, default=1)
    return ap


def main(argv=None):
    ap = parser(__doc__)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--mode", choices=["classic", "cached", "both"], default="both")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--theta", type=float, default=0.02)
    ap.add_argument("--tau", type=float, default=1000.0)
    ap.add_argument("--c", type=float, default=0.001)
    ap.add_argument("--rule", default="neuron")
    ap.add_argument("--targets", type=float, nargs="+", default=[0.90, 0.93])
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = syncache.mnist.load(args.data, train=args.train, test=args.test)
    modes = ["classic", "cached"] if args.mode == "both" else [args.mode]
    print("mode,seed,samples,accuracy,energy_total,energy_minimal,seconds,"
          + ",".join(f"energy_at_{t},samples_at_{t}" for t in args.targets))
    for mode in modes:
        for seed in args.seeds:
            start = time.perf_counter()
            curve = train(mode, data, seed=seed, epochs=args.epochs, eval_every=args.eval_every,
                          rule=args.rule, theta=args.theta, tau=args.tau, c=args.c,
                          stop_at=max(args.targets))
            seconds = time.perf_counter() - start
            samples, acc, e = curve[-1] if curve else (0, math.nan, {"total": 0, "minimal": 0})
            at = [energy_at(curve, t) for t in args.targets]
            print(f"{mode},{seed},{samples},{acc:.4f},{e['total']:.6g},{e['minimal']:.6g},"
                  f"{seconds:.1f}," + ",".join(f"{v:.6g},{n}" for v, n in at))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
