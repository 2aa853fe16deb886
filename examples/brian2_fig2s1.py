"""Replays the paper's spiking neuron (Figure 2—supplement 1) in Brian2 through
syncache.brian2, from the trials that `syncache spiking --record` wrote.

The command's record holds every step of the last round: the spike counts of the
pattern's two active auditory inputs, of the visual pool and of the background, the
membrane potential and the output spike, the two weights after the step, the store's
energies at the start of the step, and at a trial's first step l and s of all 100
auditory synapses. Every trial starts from rest (V = E_L, g_K = 0, traces and synaptic
variables 0; docs/spiking.md), so the counts (through TimedArrays) and l, s are all a
replay needs. The step order of docs/spiking.md is written as explicit update code
(run_regularly operations, ordered within Brian2's time step); the weight changes of a
step are summed and clipped once to [0, g_max]. Classic learning is metered by a store
attached to w (syncache.brian2.attach), caching (the rules synapse, neuron, sum; no decay
and no maintenance, the command's defaults, as in the paper) runs through
syncache.brian2.equations, both at every = dt. Units as in the C++ model: mV, nS, ms, nF,
as plain numbers.

Run:  PYTHONPATH=build/python python3 examples/brian2_fig2s1.py [--patterns 3] [--seed 1]
      [--max-rounds 3] [--rule classic|synapse|neuron|sum] [--theta 0.5]
      [--syncache build/bin/syncache]
"""

import argparse
import csv
import io
import os
import shutil
import subprocess
import tempfile

import brian2 as b2
import numpy as np

import syncache.brian2 as sb

# The neuron's parameters (docs/model.md section 4; include/syncache/models/spiking.hpp).
DT, C, E_L, G_L, V_TH = 0.1, 0.5, -70.0, 20.0, -50.0
E_K, DG_K, TAU_K = -70.0, 80.0, 110.0
E_EX, TAU_SYN, G_B, G_V = 0.0, 10.0, 1.0, 3.0
TAU_PLUS, TAU_MINUS, SCALE, A_PLUS, G_MAX = 50.0, 70.0, 1.25, 0.001, 2.5
A_MINUS = 1.05 * A_PLUS * TAU_PLUS / TAU_MINUS
K = DT / C * 1e-3  # dV = K * I, I in nS mV (ms nS mV / nF -> mV)
CONSTANTS = dict(
    E_L=E_L, G_L=G_L, V_TH=V_TH, E_K=E_K, DG_K=DG_K, E_EX=E_EX, G_B=G_B, G_V=G_V, G_MAX=G_MAX,
    K=K, DECAY_K=np.exp(-DT / TAU_K), DECAY_SYN=np.exp(-DT / TAU_SYN),
    DECAY_PLUS=np.exp(-DT / TAU_PLUS), DECAY_MINUS=np.exp(-DT / TAU_MINUS),
    A_PLUS_NS=SCALE * A_PLUS, A_MINUS_NS=SCALE * A_MINUS)


def record(syncache_cli, patterns, seed, max_rounds, rule, theta):
    """Runs `syncache spiking --record` and returns its rows as dicts of strings."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "record.csv")
        extra = [] if rule == "classic" else ["--theta", repr(theta)]
        subprocess.run([syncache_cli, "spiking", "--patterns", str(patterns), "--seed", str(seed),
                        "--max-rounds", str(max_rounds), "--rule", rule, *extra,
                        "--record", path], check=True, capture_output=True, text=True)
        with open(path, encoding="utf-8") as f:
            return list(csv.DictReader(io.StringIO(f.read())))


def trials(rows):
    """The record's rows grouped by trial (a trial's first row holds l_start)."""
    out = []
    for r in rows:
        if r["l_start"]:
            out.append([])
        out[-1].append(r)
    return out


def replay(trial, rule, theta):
    """One trial in Brian2 from the recorded state at its start. Returns (V after each
    step, output spikes, weights of all synapses after each step (steps x 100), energies:
    classic, consolidation and consolidation events since the trial's start, after each
    step's changes went into the store (steps x 3))."""
    l0 = np.array([float(v) for v in trial[0]["l_start"].split()])
    s0 = np.array([float(v) for v in trial[0]["s_start"].split()])
    n, steps = len(l0), len(trial)
    counts = np.zeros((steps, n))
    for j in range(sum(1 for k in trial[0] if k.startswith("input_") and trial[0][k] != "")):
        counts[:, int(trial[0][f"input_{j + 1}"])] = [float(r[f"spikes_{j + 1}"]) for r in trial]
    visual = np.array([float(r["visual_spikes"]) for r in trial])
    background = np.array([float(r["background_spikes"]) for r in trial])

    b2.start_scope()
    b2.defaultclock.dt = DT * b2.ms
    ns = dict(CONSTANTS, counts=b2.TimedArray(counts, dt=DT * b2.ms),
              visual=b2.TimedArray(visual, dt=DT * b2.ms),
              background=b2.TimedArray(background, dt=DT * b2.ms))
    caching = None if rule == "classic" else sb.equations(
        "w", rule=rule, theta=theta, every=DT * b2.ms)  # no decay, no maintenance
    inputs = b2.NeuronGroup(n, "syn : 1\nx : 1\nhas : 1", namespace=ns)
    post = b2.NeuronGroup(1, "v : 1\ngk : 1\ny : 1\nsyn_v : 1\nsyn_b : 1\ng_in : 1\n"
                             "spiked : 1\n" + (caching.post_model if caching else ""),
                          namespace=ns)
    post.v = E_L
    S = b2.Synapses(inputs, post, "w : 1\nd : 1\ng_in_post = w * syn_pre : 1 (summed)\n" +
                    (caching.model if caching else ""), namespace=ns)
    S.connect()
    S.w = l0 + s0  # w = l + s, as the store has it
    # 1. input spikes of the step
    inputs.run_regularly("count = counts(t, i)\nhas = int(count > 0)\nsyn += count",
                         when="start", order=1)
    post.run_regularly("syn_v += visual(t)\nsyn_b += background(t)", when="start", order=1)
    # 2. depression on a pre spike, -A- y with y before this step's output spike; x += 1
    S.run_regularly("d = -A_MINUS_NS * y_post * has_pre", when="start", order=2)
    inputs.run_regularly("x += has", when="start", order=3)
    # 3-4. membrane with the weights at the start of the step (g_in: Brian2's summed
    # variable, computed in the groups slot before these); spike, reset, adaptation
    post.run_regularly("""
        current = -G_L * (v - E_L) + (G_V * syn_v + g_in) * (E_EX - v) - gk * (v - E_K)
        current += G_B * syn_b * (v - E_L)
        v += K * current
        spiked = int(v > V_TH)
        v = spiked * E_L + (1 - spiked) * v
        gk = clip((gk + spiked * DG_K) * DECAY_K, 0, inf)
        """, when="groups", order=1)
    S.run_regularly("d += A_PLUS_NS * x_pre * spiked_post", when="groups", order=2)  # 4. LTP
    post.run_regularly("y += spiked", when="groups", order=3)
    # 5. the step's change, clipped once so that w stays in [0, g_max]
    S.run_regularly("w = clip(w + d, 0, G_MAX)", when="groups", order=4)
    # 6. decay
    inputs.run_regularly("syn *= DECAY_SYN\nx *= DECAY_MINUS", when="groups", order=5)
    post.run_regularly("syn_v *= DECAY_SYN\nsyn_b *= DECAY_SYN\ny *= DECAY_PLUS",
                       when="groups", order=5)
    # Each step's change goes into the store at the start of the next step (every = dt):
    # classic learning through a store attached to w, caching through the equations
    # (their row rule consolidates in the thresholds slot of that step).
    monitor = b2.StateMonitor(post, ["v", "spiked"], record=0, when="end")
    weights = b2.StateMonitor(S, "w", record=True, when="end")
    objects = [inputs, post, S, monitor, weights]
    if caching:
        caching.install(S)
        S.w_l, S.w_s = l0, s0
        counters = b2.StateMonitor(S, ["w_classic", "w_cons", "w_events"], record=True,
                                   when="thresholds", order=10)
        objects.append(counters)
    else:
        st = sb.attach(S, "w", rule="classic", every=DT * b2.ms)
        objects.append(st)

        @b2.network_operation(when="start", order=10)
        def metered():  # after the check: the energy of the changes up to the last step
            energies.append((st.energy["classic"], st.energy["classic"], 0))

        energies = []
        objects.append(metered)
    b2.Network(*objects).run(steps * DT * b2.ms, namespace={})
    if caching:
        energies = np.array([counters.w_classic.sum(axis=0), counters.w_cons.sum(axis=0),
                             counters.w_events.sum(axis=0)]).T
    return monitor.v[0], monitor.spiked[0] > 0, np.asarray(weights.w).T, np.array(energies)


def relative(a, b):
    """max |a - b| / |b| (0 where both are 0)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    scale = np.where(b == 0, 1.0, np.abs(b))
    return float(np.max(np.abs(a - b) / scale))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patterns", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-rounds", type=int, default=3, help="rounds: the last is replayed")
    ap.add_argument("--rule", default="classic", choices=["classic", "synapse", "neuron", "sum"])
    ap.add_argument("--theta", type=float, default=0.5, help="nS (not for classic)")
    ap.add_argument("--syncache", default=os.environ.get("SYNCACHE") or shutil.which("syncache")
                    or "build/bin/syncache", help="the syncache command")
    ap.add_argument("--target", default="numpy", choices=["numpy", "cython"])
    args = ap.parse_args()
    b2.prefs.codegen.target = args.target
    rows = record(args.syncache, args.patterns, args.seed, args.max_rounds, args.rule,
                  args.theta)
    print(f"replay of {args.syncache} spiking --patterns {args.patterns} --seed {args.seed} "
          f"--max-rounds {args.max_rounds} --rule {args.rule}"
          f"{'' if args.rule == 'classic' else f' --theta {args.theta!r}'} --record "
          f"(the last round)")
    print("trial  output_spikes  same_spike_steps  max_dV_mV  max_rel_dw  rel_d_energy  "
          "events")
    worst = 0.0
    for q, trial in enumerate(trials(rows)):
        v, spikes, w, energies = replay(trial, args.rule, args.theta)
        v_rec = np.array([float(r["v_mv"]) for r in trial])
        s_rec = np.array([r["output_spike"] == "1" for r in trial])
        active = [int(trial[0][k]) for k in trial[0] if k.startswith("input_") and trial[0][k]]
        w_rec = np.array([[float(r[f"g_{j + 1}"]) for j in range(len(active))] for r in trial])
        # the store's energies at the start of each step, since the trial's start
        e_rec = np.array([[float(r["energy_classic"]), float(r["energy_consolidation"]),
                           float(r["consolidation_events"])] for r in trial])
        e_rec -= e_rec[0]
        dv = float(np.max(np.abs(v - v_rec)))
        dw = relative(w[:, active], w_rec)
        de = relative(energies[:, :2], e_rec[:, :2])
        same = bool(np.array_equal(spikes, s_rec))
        events = int(e_rec[-1, 2])
        same_events = args.rule == "classic" or np.array_equal(energies[:, 2], e_rec[:, 2])
        worst = max(worst, de, dw)
        print(f"{q:5d}  {int(s_rec.sum()):13d}  {str(same):>16s}  {dv:9.2e}  {dw:10.2e}  "
              f"{de:12.2e}  {events:6d}{'' if same_events else ' (differ)'}")
    print(f"worst relative difference of weights and energies: {worst:.2e}")


if __name__ == "__main__":
    main()
