"""Beyond the paper: energy (alpha = 1), updates (alpha = 0) and training samples to reach a
target test accuracy vs hidden units H, for back-propagation, lazy learning and the
competitive restrictions, each without (dashed) and with (solid) synaptic caching; and the
caching threshold scan of each algorithm."""
import textwrap

import matplotlib.pyplot as plt

from common import scale_note

ALGOS = ["backprop", "lazy", "synapse", "neuron", "path", "lazy+synapse"]
PANELS = [("energy", "energy to target (alpha = 1)"),
          ("persistent_updates", "persistent changes to target (alpha = 0)"),
          ("updates", "synaptic updates to target (alpha = 0)"),
          ("samples", "training samples to target")]


def draw(data, scale):
    fig, axes = plt.subplots(1, 5, figsize=(24, 4.6))
    for ax, (panel, label) in zip(axes, PANELS):
        for i, algo in enumerate(ALGOS):
            for cached, style in ((False, "--"), (True, "-")):
                series = algo + (" caching" if cached else "")
                h, y, se, n = data.series(panel, series)
                ok = [j for j, k in enumerate(n) if k > 0]
                if not ok:
                    continue
                ax.errorbar([h[j] for j in ok], [y[j] for j in ok], yerr=[se[j] for j in ok],
                            linestyle=style, marker="o" if cached else "s", markersize=4,
                            capsize=2, color="C%d" % i,
                            label=series if panel == "energy" else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("hidden units H")
        ax.set_ylabel(label)
        ax.set_title(label)
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
    ax.set_ylabel("energy to target with caching")
    ax.set_title("theta scan (first H)")
    ax.legend(fontsize=6)
    notes = []
    for note in data.notes:
        notes.extend(textwrap.wrap(note, 230))
    fig.text(0.01, 0.01, "\n".join(notes), fontsize=6, color="0.3", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03 + 0.02 * len(notes), 1, 1))
    scale_note(fig, data, scale)
    return fig
