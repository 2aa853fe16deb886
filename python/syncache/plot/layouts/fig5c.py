"""Figure 5C: energy to reach a target test accuracy vs the number of hidden units H, with
and without caching; H where some runs never reached the target are marked."""
import matplotlib.pyplot as plt

from common import note_clauses, readable_log_axis, scale_note


def _targets(data):
    return sorted({p.split("_", 1)[1] for p in data.panels() if p.startswith("energy_")},
                  key=float)


def draw(data, scale):
    targets = _targets(data)
    fig, axes = plt.subplots(1, max(len(targets), 1), figsize=(5.2 * max(len(targets), 1), 4.3),
                             squeeze=False)
    styles = {"classic": ("C3", "without caching"), "caching": ("C0", "with caching")}
    for ax, target in zip(axes[0], targets):
        for series, (color, label) in styles.items():
            h, e, se, n = data.series("energy_" + target, series)
            hr, frac, _, runs = data.series("reached_" + target, series)
            ok = [i for i, k in enumerate(n) if k > 0]
            if ok:
                ax.errorbar([h[i] for i in ok], [e[i] for i in ok], yerr=[se[i] for i in ok],
                            marker="o", markersize=4, capsize=2, color=color, label=label)
                best = min(ok, key=lambda i: e[i])
                ax.plot(h[best], e[best], "*", markersize=14, color=color, markeredgecolor="k",
                        zorder=5)
            # Points averaged over only some runs: circled; H where no run got there: x.
            for x, f, k in zip(hr, frac, runs):
                if f < 1.0:
                    i = h.index(x) if x in h else None
                    if i is not None and n[i] > 0:
                        ax.plot(x, e[i], "o", markersize=9, markerfacecolor="none",
                                markeredgecolor=color)
                    else:
                        ax.plot(x, 0.0, "x", markersize=9, color=color, clip_on=False,
                                transform=ax.get_xaxis_transform())
                    ax.annotate("%d/%d" % (round(f * k), k), (x, 0.0),
                                xycoords=("data", "axes fraction"), textcoords="offset points",
                                ha="center", xytext=(0, 7 if color == "C3" else 16),
                                fontsize=7, color=color)
        ax.set_yscale("log")
        ax.set_xlabel("hidden units H")
        ax.set_ylabel("energy to reach accuracy %s" % target)
        ax.set_title("C  target test accuracy %s" % target)
        ax.plot([], [], "*", color="0.5", markeredgecolor="k", markersize=11,
                label="lowest energy")
        ax.plot([], [], "x", color="0.3", label="no run reached it (k/n: runs that did)")
        ax.legend(fontsize=7, loc="best")
        readable_log_axis(ax)
    fig.tight_layout()
    scale_note(fig, data, scale, note_clauses(data, "784-", 2))
    return fig
