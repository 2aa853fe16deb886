"""Figure 2C: energy with caching (no decay) vs maintenance cost c, theory dashed, minimal
and classic energy as horizontal lines; lower panel theta_hat vs c with the theory."""
import math
import re

import matplotlib.pyplot as plt

from common import curve, scale_note


def draw(data, scale):
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(5.6, 7.2), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    ax = top
    x, y, _, _ = data.series("energy", "classic")
    if x:
        ax.axhline(y[0], color="C3", lw=1.2, label="no caching (classic)")
    x, y, _, _ = data.series("energy", "minimal")
    if x:
        ax.axhline(y[0], color="C2", lw=1.2, label="minimal energy $M_{min}$")
    curve(ax, data, "energy", "caching", label="caching, optimised $\\hat\\theta$", color="k")
    curve(ax, data, "energy", "theory (fit K, T)",
          label="theory (paper's fits of K, T)", theory=True, color="0.45")
    curve(ax, data, "energy", "theory (measured K, T)",
          label="theory (measured K, T)", theory=True, color="C0")
    x0, y0, se0, _ = data.series("c0", "total/minimal")
    if x0:
        ax.text(0.03, 0.9, "c = 0: $M_{cache}/M_{min}$ = %.3f $\\pm$ %.3f (theory %.2f)"
                % (y0[0], se0[0], (2 * math.pi / 3) ** 0.5),
                transform=ax.transAxes, fontsize=8, va="top")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylabel("energy $M_{cons}+M_{trans}$ (units of $\\eta$)")
    ax.set_title("C  caching without decay, N = P = 1000")
    ax.legend(fontsize=7, loc="lower right")

    ax = bottom
    x, lo, _, _ = data.series("theta_hat", "flat_lo")
    _, hi, _, _ = data.series("theta_hat", "flat_hi")
    tol = "1"
    for note in data.notes:
        m = re.search(r"within ([0-9.e+-]+) % of the minimum", note)
        if m:
            tol = m.group(1)
    if x:
        ax.fill_between(x, lo, hi, color="0.85",
                        label="$\\theta$ within %s %% of the minimal energy" % tol)
    x, y, _, _ = data.series("theta_hat", "simulation")
    ax.plot(x, y, "o-", color="k", markersize=4, label="simulation $\\hat\\theta$")
    curve(ax, data, "theta_hat", "theory (fit K, T)",
          label="$\\sqrt{3K\\eta^2/(1+cT)}$, paper's fits", theory=True, color="0.45")
    curve(ax, data, "theta_hat", "theory (measured K, T)",
          label="$\\sqrt{3K\\eta^2/(1+cT)}$, measured K, T", theory=True, color="C0")
    x, y, _, _ = data.series("theta_hat", "update size eta")
    if x:
        ax.axhline(y[0], color="C1", lw=1, ls=":", label="update size $\\eta$")
    ax.text(0.98, 0.42, "$\\hat\\theta < \\eta$: consolidation\nafter every update",
            transform=ax.transAxes, fontsize=7, ha="right", va="top", color="C1")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("maintenance cost c (per unit transient weight per time step)")
    ax.set_ylabel("optimal threshold $\\hat\\theta$")
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    scale_note(fig, data, scale)
    return fig
