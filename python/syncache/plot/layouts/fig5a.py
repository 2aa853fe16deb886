"""Figure 5A: energy vs test accuracy of the MNIST network (classic learning), one curve
per learning rate eta; learning curves beside it. Where the points average several seeds,
SE bars on the energy-vs-accuracy curves and SE bands on the
learning curves."""
import matplotlib.pyplot as plt
import numpy as np

from common import mnist_curve_axes, se_marks, spread_text


def _eta(series):
    return float(series.split("=", 1)[1])


def draw(data, scale):
    names = sorted(data.series_names("energy"), key=_eta)
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, max(len(names), 1)))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for series, color in zip(names, colors):
        samples, acc, acc_se, acc_n = data.series("accuracy", series)
        x_e, energy, energy_se, energy_n = data.series("energy", series)
        assert samples == x_e
        label = "$\\eta$ = %g" % _eta(series)
        axes[0].plot(acc, energy, "o-", color=color, markersize=2.5, linewidth=1, label=label)
        axes[1].plot(samples, acc, "-", color=color, label=label)
        if max(acc_n + energy_n, default=0) > 1:
            se_marks(axes[0], axes[1], samples, acc, acc_se, energy, energy_se, color)
    mnist_curve_axes(fig, axes, "A  energy vs accuracy, classic learning", data, scale)
    spread = spread_text(data, "accuracy", names)
    if spread:
        axes[1].get_legend().set_title(spread, prop={"size": 7})
    return fig
