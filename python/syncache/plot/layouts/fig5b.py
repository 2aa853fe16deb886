"""Figure 5B: energy vs test accuracy for the MNIST network, with/without caching. Where the
points average several seeds, SE bars on the energy-vs-accuracy curves
(at most 12 per curve) and SE bands on the learning curves."""
import matplotlib.pyplot as plt

from common import mnist_curve_axes, se_marks, spread_text


def _curve(data, series):
    x_acc, acc, acc_se, acc_n = data.series("accuracy", series)
    x_e, energy, energy_se, energy_n = data.series("energy", series)
    x_m, minimal, _, _ = data.series("minimal", series)
    assert x_acc == x_e == x_m
    return x_acc, acc, energy, minimal, acc_se, energy_se, max(acc_n + energy_n, default=0)


def draw(data, scale):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"classic": "C3", "caching": "C0"}
    for series, color in styles.items():
        samples, acc, energy, minimal, acc_se, energy_se, seeds = _curve(data, series)
        if not samples:
            continue
        label = "without caching" if series == "classic" else "with caching"
        axes[0].plot(acc, energy, "o-", color=color, markersize=3, label=label)
        axes[0].plot(acc, minimal, ":", color=color, label="minimal energy, " + label)
        axes[1].plot(samples, acc, "o-", color=color, markersize=3, label=label)
        if seeds > 1:
            se_marks(axes[0], axes[1], samples, acc, acc_se, energy, energy_se, color)
    mnist_curve_axes(fig, axes, "B  energy vs accuracy", data, scale)
    spread = spread_text(data, "accuracy", list(styles))
    if spread:
        axes[1].get_legend().set_title(spread, prop={"size": 7})
    return fig
