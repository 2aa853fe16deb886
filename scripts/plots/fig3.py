"""Figure 3: energy, optimal threshold and learning time vs the decay rate 1/tau, one curve
per maintenance cost c (dark: small c); classic learning dashed."""

import matplotlib.pyplot as plt
import numpy as np

from common import curve, meta, rule_from_notes, scale_note


def draw(data, scale):
    series = [s for s in data.series_names("energy") if s.startswith("c=")]
    series.sort(key=lambda s: float(s[2:]))
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, max(len(series), 1)))
    fig, axes = plt.subplots(3, 1, figsize=(6.2, 10.5), sharex=True)

    ax = axes[0]
    for s, col in zip(series, colors):
        curve(ax, data, "energy", s, label="caching, " + s.replace("c=", "c = "), color=col)
    curve(ax, data, "energy", "classic", label="no caching", theory=True, color="k")
    x, y, _, _ = data.series("energy", "minimal (classic)")
    if x:
        ax.plot(x, y, linestyle=":", color="C2", label="minimal (classic run)")
    ax.set_yscale("log")
    ax.set_ylabel("energy $M$ (sum of |weight changes|)")
    ax.set_title("energy with the optimal threshold")
    ax.legend(fontsize=7, loc="lower right")

    ax = axes[1]
    for s, col in zip(series, colors):
        x, y, _, _ = data.series("theta_hat", s)
        ax.plot(x, y, marker="o", markersize=3, color=col, label=s.replace("c=", "c = "))
        xl, lo, _, _ = data.series("theta_bracket_lo", s)
        xh, hi, _, _ = data.series("theta_bracket_hi", s)
        if xl and xl == xh:
            ax.fill_between(xl, lo, hi, color=col, alpha=0.12, linewidth=0)
    ax.axhline(1.0, color="0.6", linewidth=0.8, linestyle=":")
    ax.text(0.01, 1.0, "update size $\\eta$", fontsize=7, color="0.4", va="bottom",
            transform=ax.get_yaxis_transform())
    ax.set_yscale("log")
    ax.set_ylabel("optimal threshold $\\hat\\theta$")
    ax.set_title("optimal threshold (band: grid neighbours)")
    ax.legend(fontsize=7)

    ax = axes[2]
    for s, col in zip(series, colors):
        curve(ax, data, "epochs", s, label=s.replace("c=", "c = "), color=col)
    curve(ax, data, "epochs", "classic", label="no caching", theory=True, color="k")
    ax.set_yscale("log")
    ax.set_ylabel("learning time (epochs)")
    ax.set_title("learning time at the optimal threshold")
    ax.legend(fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("decay rate $1/\\tau$ (per presentation)")

    cap = meta(data, "max_epochs")
    capped = meta(data, "capped_runs")
    total = meta(data, "total_runs")
    at_hat = meta(data, "capped_at_theta_hat")
    if cap is not None:
        msg = ("epoch cap %d: runs hitting it are not solutions and are excluded from the "
               "optimisation\n(%d of %d (theta, seed) runs hit it, mostly large theta at "
               "strong decay; %d at $\\hat\\theta$)" % (cap, capped, total, at_hat))
        fig.text(0.01, 0.005, msg, ha="left", va="bottom", fontsize=6.5, color="0.3")
    fig.suptitle("Caching with decaying transient weights, N = %d, P = %d, %s rule"
                 % (meta(data, "N"), meta(data, "P"), rule_from_notes(data)))
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    scale_note(fig, data, scale)
    return fig
