"""Oja's rule written in NumPy, its energy metered by syncache's weight stores.

One neuron with ``cols`` synapses sees Gaussian inputs whose covariance has one dominant
principal component u1 (variance ``lam1``; every other direction ``lam_rest``). Oja's rule

    y = w . x,    dw = eta y (x - y w)

turns w from a random unit vector towards +-u1 (and keeps |w| near 1). The same loop runs
with classic learning (``PlainStore``) and with synaptic caching (``CachedStore``, the
``neuron`` rule: when one transient weight passes theta the whole neuron consolidates),
without and with decay of the transient weights.

Run:  PYTHONPATH=build/python python3 examples/oja.py [--steps 4000] [--seed 1]
"""

import argparse
import time

import numpy as np

import syncache


def make_inputs(cols, steps, lam1, lam_rest, seed):
    """Inputs x_t (steps, cols) with covariance lam_rest I + (lam1 - lam_rest) u1 u1^T."""
    rng = np.random.default_rng(seed)
    u1 = rng.normal(size=cols)
    u1 /= np.linalg.norm(u1)
    z = rng.normal(size=(steps, cols)) * np.sqrt(lam_rest)
    z += np.outer(rng.normal(size=steps) * np.sqrt(lam1 - lam_rest) , u1)
    w0 = rng.normal(size=cols)
    w0 /= np.linalg.norm(w0)
    return z, u1, w0


def alignment(w, u1):
    return abs(float(w @ u1)) / float(np.linalg.norm(w))


def learn(store, xs, eta):
    for x in xs:
        store.begin_step()
        w = store.weights[0]
        y = w @ x
        store.add(eta * y * (x - y * w), row=0)
        store.apply_rule()
    store.finish()
    return store.weights[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--eta", type=float, default=0.002)
    ap.add_argument("--lam1", type=float, default=5.0, help="variance along u1")
    ap.add_argument("--lam-rest", type=float, default=0.5, help="variance of other directions")
    ap.add_argument("--theta", type=float, default=0.1, help="consolidation threshold")
    ap.add_argument("--c", type=float, default=1e-4, help="maintenance cost per |s| per step")
    ap.add_argument("--tau", type=float, default=1000.0, help="decay time constant (third run)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    xs, u1, w0 = make_inputs(args.cols, args.steps, args.lam1, args.lam_rest, args.seed)
    init = w0[None, :]
    runs = [
        ("classic (PlainStore)", syncache.PlainStore(1, args.cols, initial=init)),
        (f"cached, neuron rule, theta={args.theta:g}, tau=inf",
         syncache.CachedStore(1, args.cols, rule="neuron", theta=args.theta, c=args.c,
                              initial=init)),
        (f"cached, neuron rule, theta={args.theta:g}, tau={args.tau:g}",
         syncache.CachedStore(1, args.cols, rule="neuron", theta=args.theta, tau=args.tau,
                              c=args.c, initial=init)),
    ]
    start = time.perf_counter()
    print(f"Oja's rule: 1 x {args.cols} synapses, {args.steps} steps, eta={args.eta:g}, "
          f"variance {args.lam1:g} along u1 and {args.lam_rest:g} elsewhere, c={args.c:g}")
    print(f"start: |w| = {np.linalg.norm(w0):.3f}, alignment |cos(w, u1)| = "
          f"{alignment(w0, u1):.3f}")
    print(f"{'store':<38} {'total':>8} {'consol.':>8} {'maint.':>7} {'minimal':>8} "
          f"{'ineff.':>7} {'events':>7} {'|w|':>6} {'align':>6}")
    energies = []
    for name, store in runs:
        w = learn(store, xs, args.eta)
        e = store.energy
        energies.append(e)
        print(f"{name:<38} {e['total']:8.2f} {e['consolidation']:8.2f} {e['maintenance']:7.3f} "
              f"{e['minimal']:8.2f} {e['total'] / e['minimal']:7.2f} "
              f"{e['consolidation_events']:7d} {np.linalg.norm(w):6.3f} {alignment(w, u1):6.3f}")
    classic, cached = energies[0]["total"], energies[1]["total"]
    print(f"caching (tau=inf) saves {100 * (1 - cached / classic):.1f} % of the classic energy "
          f"{classic:.2f}")
    print(f"elapsed {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
