"""Beyond the paper: energy (alpha = 1), persistent changes and synaptic updates (alpha = 0)
and training samples to reach a target test accuracy, for back-propagation, lazy learning
and the competitive restrictions, each without and with synaptic caching: bars per
algorithm when there is one H, curves against H otherwise; and each algorithm's theta scan."""
import textwrap

import matplotlib.pyplot as plt

from common import readable_log_axis, scale_note

ALGOS = ["backprop", "lazy", "synapse", "neuron", "path", "lazy+synapse"]
PANELS = [("energy", "energy to target (alpha = 1)"),
          ("persistent_updates", "persistent changes to target (alpha = 0)"),
          ("updates", "synaptic updates to target (alpha = 0)"),
          ("samples", "training samples to target")]


def _bars(ax, data, panel):
    width = 0.38
    for k, (cached, color, label) in enumerate(((False, "C3", "without caching"),
                                                 (True, "C0", "with caching"))):
        for i, algo in enumerate(ALGOS):
            _, y, se, n = data.series(panel, algo + (" caching" if cached else ""))
            x = i + (k - 0.5) * width
            if y and n[0] > 0:
                ax.bar(x, y[0], width, yerr=se[0], color=color, capsize=2,
                       label=label if i == 0 else None)
            else:  # no run reached the target
                ax.plot(x, 0, "x", color=color, transform=ax.get_xaxis_transform(),
                        clip_on=False)
    ax.set_xticks(range(len(ALGOS)))
    ax.set_xticklabels(ALGOS, rotation=30, fontsize=7)


def _curves(ax, data, panel):
    for i, algo in enumerate(ALGOS):
        for cached, style in ((False, "--"), (True, "-")):
            series = algo + (" caching" if cached else "")
            h, y, se, n = data.series(panel, series)
            ok = [j for j, k in enumerate(n) if k > 0]
            if ok:
                ax.errorbar([h[j] for j in ok], [y[j] for j in ok], yerr=[se[j] for j in ok],
                            linestyle=style, marker="o" if cached else "s", markersize=4,
                            capsize=2, color="C%d" % i, label=series)
    ax.set_xscale("log")
    ax.set_xlabel("hidden units H")


def draw(data, scale):
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    axes = axes.ravel()
    hidden = sorted({x for x in data.series("reached", "backprop")[0]})
    for ax, (panel, label) in zip(axes, PANELS):
        if len(hidden) <= 1:
            _bars(ax, data, panel)
        else:
            _curves(ax, data, panel)
        ax.set_yscale("log")
        ax.set_ylabel(label, fontsize=8)
        ax.set_title(label + ("" if len(hidden) != 1 else ", H = %d" % hidden[0]), fontsize=9)
    axes[0].legend(fontsize=6, ncol=2)
    ax = axes[4]
    for i, algo in enumerate(ALGOS):
        th, e, se, n = data.series("theta_scan", algo)
        ok = [j for j, k in enumerate(n) if k > 0]
        if ok:
            ax.errorbar([th[j] for j in ok], [e[j] for j in ok], yerr=[se[j] for j in ok],
                        marker="o", markersize=4, capsize=2, color="C%d" % i, label=algo)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("consolidation threshold theta")
    ax.set_ylabel("energy to target with caching", fontsize=8)
    ax.set_title("theta scan at the first H (the lowest is used)", fontsize=9)
    ax.legend(fontsize=6)
    for ax in axes[:5]:
        readable_log_axis(ax)
    axes[5].axis("off")
    notes = []
    for note in data.notes:
        notes.extend(textwrap.wrap(note, 90))
    axes[5].text(0.0, 1.0, "\n".join(notes), fontsize=7.5, color="0.3", ha="left", va="top",
                 transform=axes[5].transAxes)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    scale_note(fig, data, scale)
    return fig
