"""Figure 4B: energy vs maintenance cost c for the consolidation rules synapse, neuron and
sum (no decay), each with its own optimised threshold; the rules' energies relative to the
neuron rule; and the optimal thresholds."""
import re

import matplotlib.pyplot as plt

from common import curve, scale_note

RULES = [("synapse", "C0", "synapse: $|s_i|>\\theta$ consolidates synapse i"),
         ("neuron", "k", "neuron: $\\max_i|s_i|>\\theta$ consolidates all"),
         ("sum", "C1", "sum: $\\sum_i|s_i|>\\theta$ consolidates all")]


def draw(data, scale):
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.3),
                             gridspec_kw={"width_ratios": [1.35, 1, 1]})
    ax = axes[0]
    x, y, _, _ = data.series("energy", "classic")
    if x:
        ax.axhline(y[0], color="C3", lw=1.2, label="no caching (classic)")
    x, y, _, _ = data.series("energy", "minimal")
    if x:
        ax.axhline(y[0], color="C2", lw=1.2, label="minimal energy $M_{min}$")
    for rule, color, label in RULES:
        curve(ax, data, "energy", rule, label=label, color=color)
    c0 = []
    for rule, _, _ in RULES:
        _, y, se, _ = data.series("c0", rule + " total/minimal")
        if y:
            c0.append("%s %.3f" % (rule, y[0]))
    if c0:
        ax.text(0.03, 0.9, "c = 0: $M_{cache}/M_{min}$ = " + ", ".join(c0),
                transform=ax.transAxes, fontsize=7, va="top")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("maintenance cost c")
    ax.set_ylabel("energy $M_{cons}+M_{trans}$ (units of $\\eta$)")
    ax.set_title("B  consolidation variants, no decay, N = P = 1000")
    ax.legend(fontsize=7, loc="lower right")

    ax = axes[1]
    for rule, color, label in RULES:
        if rule == "neuron":
            continue
        curve(ax, data, "relative to neuron", rule, label=rule + " / neuron", color=color)
    ax.axhline(1.0, color="k", lw=1, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("maintenance cost c")
    ax.set_ylabel("energy relative to the neuron rule (paired by seed)")
    ax.set_title("rules compared")
    for note in data.notes:
        if note.startswith("spread"):
            largest = note.split("largest")[-1].strip()
            ax.text(0.03, 0.03, "largest spread of the rules' mean energies:\n" + largest,
                    transform=ax.transAxes, fontsize=7, va="bottom")
    ax.legend(fontsize=7, loc="upper left")

    ax = axes[2]
    tol = "1"
    for note in data.notes:
        m = re.search(r"within ([0-9.e+-]+) % of the minimum", note)
        if m:
            tol = m.group(1)
    for rule, color, _ in RULES:
        x, lo, _, _ = data.series("theta_hat", rule + " flat_lo")
        _, hi, _, _ = data.series("theta_hat", rule + " flat_hi")
        if x:
            ax.fill_between(x, lo, hi, color=color, alpha=0.15, lw=0)
        x, y, _, _ = data.series("theta_hat", rule)
        ax.plot(x, y, "o-", color=color, markersize=4, label=rule)
    ax.axhline(1.0, color="0.5", lw=1, ls=":", label="update size $\\eta$ (one $|s_i|$)")
    ax.axhline(1001.0, color="C1", lw=1, ls=":", label="one update of $\\sum_i|s_i|$: (N+1)$\\eta$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("maintenance cost c")
    ax.set_ylabel("optimal threshold $\\hat\\theta$ (shade: within %s %% of min.)" % tol)
    ax.set_title("optimal thresholds")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    scale_note(fig, data, scale)
    return fig
