"""Figure 2-supplement 1: the spiking neuron with STDP, with and without caching."""
import matplotlib.pyplot as plt

from common import curve, scale_note


def _trial(ax, data):
    t, v, _, _ = data.series("trial", "v")
    if not t:
        return
    ax.plot(t, v, color="0.2", linewidth=0.8, label="membrane potential")
    top = max(v) + 2
    x_out, _, _, _ = data.series("trial", "output")
    ax.vlines(x_out, top, top + 6, color="k", linewidth=1.0, label="output spikes")
    inputs = [s for s in data.series_names("trial") if s.startswith("auditory")]
    for k, name in enumerate(inputs):
        x, _, _, _ = data.series("trial", name)
        base = top + 8 + 5 * k
        ax.vlines(x, base, base + 4, color="C%d" % (k + 1), linewidth=0.6, label=name + " input")
    x_vis, _, _, _ = data.series("trial", "visual")
    base = top + 8 + 5 * len(inputs)
    ax.vlines(x_vis, base, base + 4, color="C4", linewidth=0.6, label="visual input")
    ax.set_xlabel("time in trial (ms)")
    ax.set_ylabel("V (mV); spikes above")
    ax.set_title("D  one trial after learning")
    ax.legend(fontsize=6, loc="lower right")


def draw(data, scale):
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    ax = axes[0][0]
    curve(ax, data, "energy", "classic", label="without caching", color="C3")
    curve(ax, data, "energy", "caching", label="with caching", color="C2")
    curve(ax, data, "energy", "minimal", label="minimal energy", color="0.3", linestyle=":")
    ax.set_xlabel("number of patterns P")
    ax.set_ylabel("energy (nS, sum of |weight changes|)")
    ax.set_title("A  energy to learn (successful runs)")
    ax.legend(fontsize=7)
    ax = axes[0][1]
    curve(ax, data, "saving", "caching", label="1 - E(caching) / E(classic), paired by seed",
          color="C2")
    ax.set_ylim(0, 1)
    ax.set_xlabel("number of patterns P")
    ax.set_ylabel("share of the energy saved")
    ax.set_title("B  saved by caching")
    ax.legend(fontsize=7)
    ax = axes[1][0]
    curve(ax, data, "success", "caching", label="success rate (two-class pattern sets)",
          color="C0")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("number of patterns P")
    ax.set_ylabel("fraction of runs")
    ax.set_title("C  success rate")
    ax.legend(fontsize=7)
    _trial(axes[1][1], data)
    for i, note in enumerate(data.notes[1:]):
        fig.text(0.01, 0.005 + 0.014 * i, note, fontsize=6, color="0.4", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    scale_note(fig, data, scale)
    return fig
