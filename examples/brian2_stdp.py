"""Song, Miller & Abbott's STDP (Nat. Neurosci. 2000) in Brian2, metered and cached.

Brian2's own example (examples/synapses/STDP.py of its documentation): 1000 Poisson
inputs at 15 Hz drive one conductance-based integrate-and-fire neuron through
excitatory synapses with additive, clipped pair-based STDP; the weights end up
bimodal. The same network runs twice with the same seed, its weight variable w attached
to a syncache store (syncache.brian2.attach):

* metered: rule "classic" (a PlainStore), every net change per check is paid;
* cached: rule "neuron" (the single neuron consolidates all its synapses once one
  |s| > theta), with decay tau and maintenance c per ms (by default none, as in the
  paper's spiking neuron: then w follows the same path and only the energy differs).

Prints the energies, and draws energy against time and the final weight histograms.

Run:  PYTHONPATH=build/python python3 examples/brian2_stdp.py [--duration 100] [--short]
      [--every 1] [--theta 0.1] [--tau inf] [--c 0] [--target cython] [--plot FILE]
      [--plain]  (also times the plain Brian2 run: the overhead of attach)
"""

import argparse
import math
import time

import brian2 as b2
import numpy as np
from brian2 import Hz, ms, mV, second

import syncache.brian2 as sb

# The parameters of Brian2's example (Song, Miller & Abbott 2000).
N = 1000
TAU_M, TAU_PRE, TAU_POST, TAU_E = 10 * ms, 20 * ms, 20 * ms, 5 * ms
E_E, V_T, V_R, E_L = 0 * mV, -54 * mV, -60 * mV, -74 * mV
RATE = 15 * Hz
GMAX = 0.01
DA_PRE = 0.01 * GMAX
DA_POST = -0.01 * TAU_PRE / TAU_POST * 1.05 * GMAX


def network(seed):
    """The example's network with w = rand() * gmax; returns (objects, synapses)."""
    b2.seed(seed)
    inputs = b2.PoissonGroup(N, rates=RATE)
    neuron = b2.NeuronGroup(1, """dv/dt = (ge * (E_E - v) + E_L - v) / TAU_M : volt
                                  dge/dt = -ge / TAU_E : 1""",
                            threshold="v > V_T", reset="v = V_R", method="euler")
    neuron.v = V_R
    S = b2.Synapses(inputs, neuron,
                    """w : 1
                       dApre/dt = -Apre / TAU_PRE : 1 (event-driven)
                       dApost/dt = -Apost / TAU_POST : 1 (event-driven)""",
                    on_pre="""ge += w
                              Apre += DA_PRE
                              w = clip(w + Apost, 0, GMAX)""",
                    on_post="""Apost += DA_POST
                               w = clip(w + Apre, 0, GMAX)""")
    S.connect()
    S.w = "rand() * GMAX"
    return [inputs, neuron, S], S


def simulate(duration, seed, samples, store=None):
    """Runs the network for `duration` (seconds) with w attached to a store made by
    store(S) (none: plain Brian2); returns (synapses, times, energy records, CPU seconds
    of the run: Brian2 and the store run in this one thread)."""
    objects, S = network(seed)
    times, records = [], []
    if store is not None:
        st = store(S)

        @b2.network_operation(dt=duration / samples * second, when="end")
        def record():  # the store's energy so far (changes since the last check excluded)
            times.append(float(record.clock.t_[:]))
            records.append(st.energy)

        objects += [st, record]
    net = b2.Network(*objects)
    start = time.process_time()
    net.run(duration * second, namespace=dict(globals()))
    elapsed = time.process_time() - start
    if store is not None:
        st.finish()
        times.append(duration)
        records.append(st.energy)
    return S, np.array(times), records, elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=100.0, help="simulated seconds")
    ap.add_argument("--short", action="store_true", help="1 simulated second (a smoke test)")
    ap.add_argument("--every", type=float, default=1.0, help="check interval, ms")
    ap.add_argument("--theta", type=float, default=0.1,
                    help="consolidation threshold, in units of gmax")
    ap.add_argument("--tau", type=float, default=math.inf, help="decay time constant, s")
    ap.add_argument("--c", type=float, default=0.0, help="maintenance cost per |s| per ms")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", default="cython", choices=["cython", "numpy"],
                    help="Brian2's code generation target")
    ap.add_argument("--plot", default="brian2_stdp.png", help="figure file ('' for none)")
    ap.add_argument("--plain", action="store_true",
                    help="also time the plain Brian2 run (no store)")
    args = ap.parse_args()
    duration = 1.0 if args.short else args.duration
    b2.prefs.codegen.target = args.target
    samples = 50
    kw = dict(every=args.every * ms)
    metered = simulate(duration, args.seed, samples,
                       lambda S: sb.attach(S, "w", rule="classic", **kw))
    tau = math.inf if math.isinf(args.tau) else args.tau * second
    cached = simulate(duration, args.seed, samples,
                      lambda S: sb.attach(S, "w", rule="neuron", theta=args.theta * GMAX,
                                          tau=tau, c=args.c, **kw))
    em, ec = metered[2][-1], cached[2][-1]
    print(f"Song, Miller & Abbott STDP: {N} inputs, {duration:g} s, checks every "
          f"{args.every:g} ms, target {args.target}")
    print(f"{'':22s} {'energy':>10s} {'minimal':>10s} {'consol.':>10s} {'maint.':>10s} "
          f"{'CPU (s)':>8s}")
    for name, run in (("metered (classic)", metered), ("cached (neuron rule)", cached)):
        e = run[2][-1]
        print(f"{name:22s} {e['total']:10.6g} {e['minimal']:10.6g} {e['consolidation']:10.6g} "
              f"{e['maintenance']:10.6g} {run[3]:8.2f}")
    print(f"saved by caching       {100 * (1 - ec['total'] / em['total']):.1f} %")
    print("final weights (w / gmax): mean, fraction below 1/10, fraction above 9/10")
    for name, run in (("metered", metered), ("cached", cached)):
        w = np.asarray(run[0].w[:]) / GMAX
        print(f"weights {name:14s} {w.mean():10.4f} {np.mean(w < 0.1):10.4f} "
              f"{np.mean(w > 0.9):10.4f}")
    if args.plain:
        plain = simulate(duration, args.seed, samples)
        print(f"plain Brian2 (no store)  CPU {plain[3]:.2f} s; attach costs "
              f"{(metered[3] - plain[3]) / duration:.3f} (metered), "
              f"{(cached[3] - plain[3]) / duration:.3f} (cached) CPU s per simulated second")
    if args.plot:
        draw(args.plot, metered, cached)
        print(f"figure: {args.plot}")


def draw(path, metered, cached):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, h) = plt.subplots(1, 2, figsize=(10, 4))
    t, rec = metered[1], metered[2]
    a.plot(t, [r["total"] for r in rec], label="metered (classic)")
    t, rec = cached[1], cached[2]
    a.plot(t, [r["total"] for r in rec], label="cached: consolidation + maintenance + pending")
    a.plot(t, [r["minimal"] for r in rec], "k--", label="minimal |w(t) - w(0)|")
    a.set_xlabel("time (s)")
    a.set_ylabel("energy (sum |dw|)")
    a.legend(fontsize=8)
    bins = np.linspace(0, 1, 41)
    for name, run, line in (("metered", metered, "-"), ("cached", cached, "--")):
        h.hist(np.asarray(run[0].w[:]) / GMAX, bins=bins, histtype="step", linestyle=line,
               linewidth=1.5, label=name)
    h.set_xlabel("w / gmax")
    h.set_ylabel("synapses")
    h.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
