"""Figure 5B: energy vs test accuracy for the MNIST network, with/without caching."""
import matplotlib.pyplot as plt

from common import scale_note


def _curve(data, series):
    x_acc, acc, _, _ = data.series("accuracy", series)
    x_e, energy, _, _ = data.series("energy", series)
    x_m, minimal, _, _ = data.series("minimal", series)
    assert x_acc == x_e == x_m
    return x_acc, acc, energy, minimal


def draw(data, scale):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"classic": "C3", "caching": "C0"}
    for series, color in styles.items():
        samples, acc, energy, minimal = _curve(data, series)
        if not samples:
            continue
        label = "without caching" if series == "classic" else "with caching"
        axes[0].plot(acc, energy, "o-", color=color, markersize=3, label=label)
        axes[0].plot(acc, minimal, ":", color=color, label="minimal energy, " + label)
        axes[1].plot(samples, acc, "o-", color=color, markersize=3, label=label)
    ax = axes[0]
    ax.set_yscale("log")
    ax.set_xlabel("test accuracy")
    ax.set_ylabel("energy (sum of |weight changes|)")
    ax.set_title("B  energy vs accuracy")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.set_xlabel("training samples")
    ax.set_ylabel("test accuracy")
    ax.set_title("learning curves")
    ax.legend(fontsize=7)
    if data.notes:
        fig.text(0.01, 0.005, data.notes[-1], fontsize=6, color="0.4", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    scale_note(fig, data, scale)
    return fig
