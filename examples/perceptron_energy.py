"""Classic vs cached perceptron energy against the load P/N, with the paper's theory.

For each load and seed, one perceptron learns P random patterns of N +-1 inputs twice:
classically (rule "classic") and with synaptic caching (rule "neuron", maintenance cost
c, no decay) at the theory's optimal threshold theta_opt for that N, P and c. The table
gives the means over seeds of the energies and of the inefficiencies M / M_min, beside the
theory (syncache.theory.perceptron): Eq. 3 for classic learning and the caching gain
min(sqrt(2 pi/3 (1 + cT)), sqrt(pi K / 2)).

Run:  PYTHONPATH=build/python python3 examples/perceptron_energy.py [--N 400] [--seeds 4]
      [--c 0.001] [--plot perceptron_energy.png]
"""

import argparse
import time

import numpy as np

import syncache


def measure(N, P, c, seeds):
    """Means over seeds of the classic and the cached runs, and the theory."""
    th = syncache.theory.perceptron(N=N, P=P, c=c)
    rows = []
    for seed in seeds:
        classic = syncache.perceptron(N=N, P=P, seed=seed, rule="classic")
        cached = syncache.perceptron(N=N, P=P, seed=seed, rule="neuron",
                                     theta=th["theta_opt"], c=c)
        for r in (classic, cached):
            if not r["converged"]:
                raise SystemExit(f"N={N} P={P} seed={seed}: did not converge")
        rows.append((classic["energy"]["total"], cached["energy"]["total"],
                     classic["energy"]["minimal"], cached["energy"]["minimal"],
                     classic["epochs"]))
    a = np.array(rows, dtype=float)
    return {
        "classic": a[:, 0].mean(),
        "cached": a[:, 1].mean(),
        "minimal": a[:, 2].mean(),
        "ineff_classic": (a[:, 0] / a[:, 2]).mean(),
        "ineff_cached": (a[:, 1] / a[:, 3]).mean(),
        "epochs": a[:, 4].mean(),
        "theory": th,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=400)
    ap.add_argument("--loads", type=float, nargs="+", default=[0.2, 0.5, 1.0, 1.5, 1.8])
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--c", type=float, default=0.001, help="maintenance cost per |s| per step")
    ap.add_argument("--plot", metavar="FILE", help="save a figure (PNG, SVG, PDF)")
    args = ap.parse_args()

    start = time.perf_counter()
    seeds = range(1, args.seeds + 1)
    print(f"perceptron N={args.N}, c={args.c:g}, means over {args.seeds} seeds; cached: "
          f"rule neuron at the theory's theta_opt, no decay")
    print(f"{'P/N':>5} {'P':>5} {'epochs':>7} {'classic':>11} {'cached':>9} {'minimal':>8} "
          f"{'theta':>7} | {'M/Mmin classic':>14} {'theory':>7} | {'M/Mmin cached':>13} "
          f"{'theory':>7} | {'saving':>6}")
    results = []
    for load in args.loads:
        P = int(round(load * args.N))
        m = measure(args.N, P, args.c, seeds)
        th = m["theory"]
        results.append((P / args.N, m))
        print(f"{P / args.N:5.2f} {P:5d} {m['epochs']:7.1f} {m['classic']:11.0f} "
              f"{m['cached']:9.0f} {m['minimal']:8.0f} {th['theta_opt']:7.2f} | "
              f"{m['ineff_classic']:14.2f} {th['inefficiency']:7.2f} | "
              f"{m['ineff_cached']:13.2f} {th['caching_inefficiency']:7.2f} | "
              f"{100 * (1 - m['cached'] / m['classic']):5.1f}%")
    print(f"elapsed {time.perf_counter() - start:.2f} s")

    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        loads = np.array([x for x, _ in results])
        grid = np.linspace(0.05, 1.9, 200)
        theory = [syncache.theory.perceptron(N=args.N, P=max(1, x * args.N), c=args.c)
                  for x in grid]
        fig, ax = plt.subplots(figsize=(5.5, 4))
        ax.semilogy(loads, [m["ineff_classic"] for _, m in results], "o", color="C0",
                    label="classic, simulation")
        ax.semilogy(grid, [t["inefficiency"] for t in theory], "-", color="C0",
                    label="classic, theory (Eq. 3)")
        ax.semilogy(loads, [m["ineff_cached"] for _, m in results], "s", color="C1",
                    label=f"cached (c={args.c:g}), simulation")
        ax.semilogy(grid, [t["caching_inefficiency"] for t in theory], "-", color="C1",
                    label="cached, theory")
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("load P/N")
        ax.set_ylabel("inefficiency M / M_min")
        ax.set_title(f"perceptron, N = {args.N}")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(args.plot)
        print(f"figure: {args.plot}")


if __name__ == "__main__":
    main()
