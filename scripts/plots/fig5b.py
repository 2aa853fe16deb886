"""Figure 5B: energy vs test accuracy for the MNIST network, with/without caching."""
import matplotlib.pyplot as plt

from common import mnist_curve_axes


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
    mnist_curve_axes(fig, axes, "B  energy vs accuracy", data, scale)
    return fig
