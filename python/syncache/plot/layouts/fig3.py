"""Figure 3: energy, optimal threshold and learning time vs the decay rate 1/tau, one curve
per maintenance cost c (dark: small c); classic learning dashed."""

import matplotlib.pyplot as plt
import numpy as np

from common import curve, meta, readable_log_axis, rule_from_notes, scale_note


def draw(data, scale):
    series = [s for s in data.series_names("energy") if s.startswith("c=")]
    series.sort(key=lambda s: float(s[2:]))
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, max(len(series), 1)))
    fig, axes = plt.subplots(3, 1, figsize=(6.2, 10.5), sharex=True)

    ax = axes[0]
    for s, col in zip(series, colors):
        curve(ax, data, "energy", s, label="caching, " + s.replace("c=", "c = "), color=col)
    curve(ax, data, "energy", "classic", label="no caching", theory=True, color="k")
    # The minimal energy sum_i |w_i(T) - w_i(0)| of the classic runs' own final weights: a
    # cached run ends at other weights, whose minimal energy can be lower (decay shrinks them).
    x, y, _, _ = data.series("energy", "minimal (classic)")
    if x:
        ax.plot(x, y, linestyle=":", color="C2", label="minimal energy of the classic runs'\n"
                "final weights (not a bound for caching)")
    ax.set_yscale("log")
    ax.set_ylabel("energy $M$ (sum of |weight changes|)")
    ax.set_title("energy with the optimal threshold")
    ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 0.09))

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

    for ax in axes:
        readable_log_axis(ax)
    fig.suptitle("Caching with decaying transient weights, N = %d, P = %d, %s rule"
                 % (meta(data, "N"), meta(data, "P"), rule_from_notes(data)))
    fig.tight_layout()
    cap, excluded, total = (meta(data, k)
                            for k in ("max_epochs", "excluded_thresholds", "evaluated_thresholds"))
    note = None
    if cap is not None:
        note = ("epoch cap %d: thresholds where a seed hits it are excluded "
                "(%d of %d evaluated, with those provably above the optimum)"
                % (cap, excluded, total))
    scale_note(fig, data, scale, note)
    return fig
