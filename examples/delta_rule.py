"""The delta rule (LMS) written in NumPy, its energy metered by syncache's weight stores.

A small linear regression task: ``rows`` outputs read ``cols`` Gaussian inputs through
unknown weights W* (plus output noise). The network learns online, one sample per step,
with the delta rule  dW = eta (y - W x) x^T.  The same loop runs three times:

* ``PlainStore``: classic learning, every change is a persistent change (energy M);
* ``CachedStore`` with the ``synapse`` rule, no decay and a small maintenance cost c:
  changes accumulate in transient weights and consolidate past the threshold theta;
* the same with decaying transient weights (tau), which also changes what is learnt.

Run:  PYTHONPATH=build/python python3 examples/delta_rule.py [--steps 3000] [--seed 1]
"""

import argparse
import math
import time

import numpy as np

import syncache


def make_task(rows, cols, seed, noise):
    """The unknown weights W* and the output noise SD."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0 / math.sqrt(cols), size=(rows, cols)), noise


def learn(store, steps, eta, task, seed):
    """The delta rule driven through `store`; returns the final test error (MSE) and the
    final weights."""
    w_true, noise = task
    rng = np.random.default_rng(seed + 1)  # the same samples for every store
    rows, cols = w_true.shape
    for _ in range(steps):
        x = rng.normal(size=cols)
        y = w_true @ x + noise * rng.normal(size=rows)
        store.begin_step()                 # decay and maintenance (nothing for PlainStore)
        w = store.weights                  # w = l + s, what the network uses
        err = y - w @ x
        store.add(eta * np.outer(err, x))  # the rule's change, metered
        store.apply_rule()                 # consolidation check (nothing for PlainStore)
    store.finish()                         # remaining transient weights consolidate
    test = np.random.default_rng(seed + 2).normal(size=(2000, cols))
    y_test = test @ w_true.T
    w = store.weights
    return float(np.mean((test @ w.T - y_test) ** 2)), w


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--eta", type=float, default=0.01)
    ap.add_argument("--noise", type=float, default=0.3, help="output noise SD")
    ap.add_argument("--theta", type=float, default=0.1, help="consolidation threshold")
    ap.add_argument("--c", type=float, default=1e-4, help="maintenance cost per |s| per step")
    ap.add_argument("--tau", type=float, default=500.0, help="decay time constant (third run)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    task = make_task(args.rows, args.cols, args.seed, args.noise)
    shape = (args.rows, args.cols)
    runs = [
        ("classic (PlainStore)", syncache.PlainStore(*shape)),
        (f"cached, synapse rule, theta={args.theta:g}, tau=inf, c={args.c:g}",
         syncache.CachedStore(*shape, rule="synapse", theta=args.theta, c=args.c)),
        (f"cached, synapse rule, theta={args.theta:g}, tau={args.tau:g}, c={args.c:g}",
         syncache.CachedStore(*shape, rule="synapse", theta=args.theta, tau=args.tau, c=args.c)),
    ]
    start = time.perf_counter()
    print(f"delta rule: {args.rows} x {args.cols} synapses, {args.steps} steps, "
          f"eta={args.eta:g}, output noise SD {args.noise:g}")
    print(f"test MSE of the noiseless outputs W* x: 0 is perfect, "
          f"{np.mean(np.sum(task[0] ** 2, axis=1)):.3f} for w = 0")
    print(f"{'store':<50} {'total':>9} {'consol.':>9} {'maint.':>8} {'minimal':>8} "
          f"{'ineff.':>7} {'test MSE':>9}")
    results = {}
    for name, store in runs:
        mse, w = learn(store, args.steps, args.eta, task, args.seed)
        e = store.energy
        results[name] = (e, w)
        print(f"{name:<50} {e['total']:9.2f} {e['consolidation']:9.2f} {e['maintenance']:8.3f} "
              f"{e['minimal']:8.2f} {e['total'] / e['minimal']:7.2f} {mse:9.5f}")
    (_, (classic, w_classic)), (_, (cached, w_cached)) = list(results.items())[:2]
    saving = 1.0 - cached["total"] / classic["total"]
    print(f"classic energy {classic['total']:.2f}, cached {cached['total']:.2f}: "
          f"caching saves {100 * saving:.1f} %")
    print(f"without decay the cached weights w = l + s follow the classic trajectory: "
          f"max |w_cached - w_classic| = {np.max(np.abs(w_cached - w_classic)):.1e}")
    print(f"elapsed {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
