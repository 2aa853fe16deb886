"""Benchmark (not a test): a learning loop driven from Python through syncache.CachedStore
against the same cached-store semantics written in plain NumPy.

One row of 1000 synapses, the neuron rule, linear decay (finite tau), maintenance c > 0.
Each step: begin_step() (decay, then maintenance c sum|s|); add(dw) (dw drawn beforehand,
the same for both loops); apply_rule() (if max|s| > theta the row consolidates:
l += s, M_cons += sum|s|, s = 0). Both loops run the same number of steps; repetitions
alternate between them and the medians are reported, with the energies of both as a
check that they compute the same thing. Two NumPy versions: "direct" (the model as
written: sum|s| recomputed for the maintenance) and "tuned" (the row's sum|s| and max|s|
kept from the last change and scaled by the decay, as the C++ store does).

Then the call overhead of each method (timeit, medians of repeats).

Run:  PYTHONPATH=build/python /usr/bin/python3 bench/python_store.py [--steps 5000] [--reps 11]
"""

import argparse
import math
import os
import platform
import statistics
import time
import timeit

import numpy as np

import syncache


def run_syncache(dws, theta, tau, c):
    store = syncache.CachedStore(1, dws.shape[-1], rule="neuron", theta=theta, tau=tau, c=c)
    begin_step, add, apply_rule = store.begin_step, store.add, store.apply_rule
    t0 = time.perf_counter()
    for dw in dws:
        begin_step()
        add(dw)
        apply_rule()
    t = time.perf_counter() - t0
    store.finish()
    e = store.energy
    return t, (e["classic"], e["consolidation"], e["maintenance"], e["consolidation_events"])


def run_numpy_direct(dws, theta, tau, c):
    cols = dws.shape[-1]
    l, s = np.zeros(cols), np.zeros(cols)
    factor = 1.0 - 1.0 / tau
    classic = cons = maint = 0.0
    events = 0
    absolute, add_to, multiply = np.abs, np.add, np.multiply
    t0 = time.perf_counter()
    for dw in dws:
        dw = dw[0]
        multiply(s, factor, out=s)                  # decay
        maint += c * absolute(s).sum()              # maintenance
        classic += absolute(dw).sum()               # what classic learning would pay
        add_to(s, dw, out=s)                        # the change goes to s
        a = absolute(s)                             # the rule: max_i |s_i| > theta
        if a.max() > theta:
            cons += a.sum()
            events += int(np.count_nonzero(s))
            add_to(l, s, out=l)
            s[:] = 0.0
    t = time.perf_counter() - t0
    a = np.abs(s)                                   # finish
    cons += a.sum()
    events += int(np.count_nonzero(s))
    l += s
    return t, (classic, cons, maint, events)


def run_numpy_tuned(dws, theta, tau, c):
    cols = dws.shape[-1]
    l, s = np.zeros(cols), np.zeros(cols)
    factor = 1.0 - 1.0 / tau
    classic = cons = maint = 0.0
    events = 0
    row_sum = row_max = 0.0  # sum and max of |s|, kept from the last change
    absolute, add_to, multiply = np.abs, np.add, np.multiply
    t0 = time.perf_counter()
    for dw in dws:
        dw = dw[0]
        if row_max != 0.0:
            multiply(s, factor, out=s)
            row_sum *= factor
            row_max *= factor
            maint += c * row_sum
        classic += absolute(dw).sum()
        add_to(s, dw, out=s)
        a = absolute(s)
        row_sum, row_max = a.sum(), a.max()
        if row_max > theta:
            cons += row_sum
            events += int(np.count_nonzero(s))
            add_to(l, s, out=l)
            s[:] = 0.0
            row_sum = row_max = 0.0
    t = time.perf_counter() - t0
    cons += np.abs(s).sum()
    events += int(np.count_nonzero(s))
    l += s
    return t, (classic, cons, maint, events)


def method_overheads(cols, theta, tau, c, number, repeat):
    """Median µs per call of each method, on a store with a few steps behind it."""
    rng = np.random.default_rng(2)
    store = syncache.CachedStore(1, cols, rule="neuron", theta=theta, tau=tau, c=c)
    dw = rng.normal(0.0, 0.01, size=(1, cols))
    for _ in range(20):
        store.update(dw)
    g = {"store": store, "dw": dw}
    cases = [
        ("rows (property, baseline)", "store.rows"),
        ("begin_step()", "store.begin_step()"),
        ("add(dw)", "store.add(dw)"),
        ("apply_rule() (no row changed)", "store.apply_rule()"),
        ("update(dw)", "store.update(dw)"),
        ("energy (dict)", "store.energy"),
        ("weights (copy)", "store.weights"),
    ]
    out = []
    for name, stmt in cases:
        times = timeit.repeat(stmt, globals=g, number=number, repeat=repeat)
        out.append((name, 1e6 * statistics.median(times) / number,
                    1e6 * min(times) / number))
    return out


def add_by_length(theta, tau, c, lengths=(1, 100, 1000, 10000), calls=2000, repeat=7):
    """µs per add(dw) against the row length, and the ns per synapse beyond one synapse."""
    out = []
    for cols in lengths:
        store = syncache.CachedStore(1, cols, rule="neuron", theta=theta, tau=tau, c=c)
        dw = np.full((1, cols), 1e-6)
        times = timeit.repeat("store.add(dw)", globals={"store": store, "dw": dw},
                              number=calls, repeat=repeat)
        out.append((cols, 1e6 * statistics.median(times) / calls))
    return [(cols, us, 1e3 * (us - out[0][1]) / (cols - 1) if cols > 1 else float("nan"))
            for cols, us in out]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cols", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--reps", type=int, default=11)
    ap.add_argument("--theta", type=float, default=0.1)
    ap.add_argument("--tau", type=float, default=1000.0)
    ap.add_argument("--c", type=float, default=0.001)
    ap.add_argument("--sd", type=float, default=0.01, help="SD of the random changes dw")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    dws = rng.normal(0.0, args.sd, size=(args.steps, 1, args.cols))
    loops = [("syncache.CachedStore", run_syncache), ("NumPy, direct", run_numpy_direct),
             ("NumPy, tuned", run_numpy_tuned)]
    times = {name: [] for name, _ in loops}
    energies = {}
    for name, f in loops:  # warm-up
        f(dws[:200], args.theta, args.tau, args.c)
    for _ in range(args.reps):  # alternate the loops within each repetition
        for name, f in loops:
            t, e = f(dws, args.theta, args.tau, args.c)
            times[name].append(t)
            energies[name] = e

    print(f"syncache {syncache.__version__}, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, {os.cpu_count()} CPUs")
    print(f"1 row x {args.cols} synapses, neuron rule, theta={args.theta:g}, "
          f"tau={args.tau:g} (linear), c={args.c:g}, dw ~ N(0, {args.sd:g}^2); "
          f"{args.steps} steps, medians of {args.reps} alternating repetitions")
    print()
    base = statistics.median(times["syncache.CachedStore"]) / args.steps
    print("| loop | µs per step (median) | min | NumPy / syncache |")
    print("|---|---|---|---|")
    for name, _ in loops:
        med = statistics.median(times[name]) / args.steps
        print(f"| {name} | {1e6 * med:.2f} | {1e6 * min(times[name]) / args.steps:.2f} | "
              f"{med / base:.2f}× |")
    print()
    print("energies (check: the loops compute the same thing)")
    print("| loop | classic | consolidation | maintenance | consolidation events |")
    print("|---|---|---|---|---|")
    for name, _ in loops:
        cl, co, ma, ev = energies[name]
        print(f"| {name} | {cl:.6f} | {co:.6f} | {ma:.6f} | {ev} |")
    ref = energies["syncache.CachedStore"]
    worst = max(abs(a - b) / max(abs(b), 1e-300)
                for name, _ in loops[1:] for a, b in zip(energies[name][:3], ref[:3]))
    same_events = all(energies[name][3] == ref[3] for name, _ in loops[1:])
    print(f"largest relative difference from syncache: {worst:.1e}; "
          f"same consolidation events: {same_events}")
    print()
    print("call overhead (timeit, µs per call, median and min of 7 repeats of 20 000 calls)")
    print("| method | µs per call | min |")
    print("|---|---|---|")
    for name, med, low in method_overheads(args.cols, args.theta, args.tau, args.c,
                                           number=20000, repeat=7):
        print(f"| {name} | {med:.3f} | {low:.3f} |")
    print()
    print("add(dw) against the row length (timeit, medians of 7 repeats of 2 000 calls)")
    print("| synapses | µs per add | ns per synapse beyond the first |")
    print("|---|---|---|")
    for cols, us, ns in add_by_length(args.theta, args.tau, args.c):
        print(f"| {cols} | {us:.2f} | {'–' if math.isnan(ns) else f'{ns:.2f}'} |")


if __name__ == "__main__":
    main()
