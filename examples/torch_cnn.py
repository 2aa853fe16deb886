"""A LeNet-5-sized convolutional network on MNIST with minibatches and Adam, with and
without synaptic caching (syncache.torch), and a small GRU on sequential MNIST rows
metered per layer.

Every ``--eval-every`` steps the test accuracy and the energy are recorded: ``Metered``'s
classic energy, and ``Cached``'s total (consolidation + maintenance + what is still
transient, as if consolidated now) for each ``--theta``. The last lines print the energy
per layer of each run.

    python3 examples/torch_cnn.py --epochs 1 --theta 0.001 0.003 0.01
    python3 examples/torch_cnn.py --train 300 --test 100 --gru     # seconds
"""

import os
import sys
import time

import numpy as np
import torch

import syncache
import syncache.torch as sct

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_mlp  # noqa: E402  (the shared options)


class LeNet(torch.nn.Module):
    """conv 5x5 (6) - pool - conv 5x5 (16) - pool - 120 - 84 - 10, ReLU."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(16 * 5 * 5, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x.view(-1, 1, 28, 28))), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc3(torch.relu(self.fc2(x)))


class RowGRU(torch.nn.Module):
    """A GRU reading an image row by row (28 steps of 28 pixels), then a Linear readout."""

    def __init__(self, hidden=32):
        super().__init__()
        self.gru = torch.nn.GRU(28, hidden, batch_first=True)
        self.out = torch.nn.Linear(hidden, 10)

    def forward(self, x):
        _, h = self.gru(x.view(-1, 28, 28))
        return self.out(h[0])


def train(make_net, data, *, cached=None, seed=1, epochs=1, batch=32, lr=1e-3, eval_every=200):
    """One run; `cached`: None (Metered) or the Cached keywords. Returns (curve, opt,
    seconds): curve a list of (steps, accuracy, energy dict)."""
    torch.manual_seed(seed)
    net = make_net()
    inner = torch.optim.Adam(net.parameters(), lr=lr)
    if cached is None:
        opt = sct.Metered(inner, model=net)
    else:
        opt = sct.Cached(inner, model=net, **cached)
    x_train = torch.from_numpy(data["train_images"])
    y_train = torch.from_numpy(data["train_labels"].astype(np.int64))
    x_test = torch.from_numpy(data["test_images"])
    y_test = torch.from_numpy(data["test_labels"].astype(np.int64))
    g = torch.Generator().manual_seed(seed)
    curve, steps = [], 0
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(y_train), generator=g)
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x_train[idx]), y_train[idx]).backward()
            opt.step()
            steps += 1
            if steps % eval_every == 0:
                curve.append((steps, _accuracy(net, x_test, y_test), opt.energy))
    if not curve or curve[-1][0] != steps:
        curve.append((steps, _accuracy(net, x_test, y_test), opt.energy))
    seconds = time.perf_counter() - start
    opt.finish()
    return curve, opt, seconds


def _accuracy(net, x, y):
    with torch.no_grad():
        return float((net(x).argmax(dim=1) == y).double().mean())


def _per_layer(opt):
    layers = {}
    for name, e in opt.energy_by_parameter.items():
        layer = name.rsplit(".", 1)[0]
        layers[layer] = layers.get(layer, 0.0) + e["total"]
    return " ".join(f"{k}={v:.4g}" for k, v in layers.items())


def main(argv=None):
    ap = torch_mlp.parser(__doc__)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--eval-every", type=int, default=200, help="steps between evaluations")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rule", default="neuron")
    ap.add_argument("--theta", type=float, nargs="*", default=[0.003],
                    help="thresholds of the cached runs (none: only the metered run)")
    ap.add_argument("--tau", type=float, default=1000.0, help="decay time constant, steps")
    ap.add_argument("--c", type=float, default=0.001, help="maintenance cost per |s| per step")
    ap.add_argument("--gru", action="store_true", help="also meter a GRU on the image rows")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = syncache.mnist.load(args.data, train=args.train, test=args.test)
    common = dict(seed=args.seed, epochs=args.epochs, batch=args.batch, lr=args.lr,
                  eval_every=args.eval_every)
    runs = [("lenet", "classic", LeNet, None)]
    runs += [("lenet", f"cached theta={t:g}", LeNet,
              dict(rule=args.rule, theta=t, tau=args.tau, c=args.c)) for t in args.theta]
    if args.gru:
        runs.append(("gru", "classic", RowGRU, None))
    print("net,run,steps,accuracy,energy_total,energy_minimal,seconds")
    layers = []
    for net_name, run, make, cached in runs:
        curve, opt, seconds = train(make, data, cached=cached, **common)
        steps, acc, _ = curve[-1]
        e = opt.energy  # after finish(): everything consolidated
        print(f"{net_name},{run},{steps},{acc:.4f},{e['total']:.6g},{e['minimal']:.6g},"
              f"{seconds:.1f}")
        sys.stdout.flush()
        layers.append(f"# {net_name} {run}: {_per_layer(opt)}")
    print("\n".join(layers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
