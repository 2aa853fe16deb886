"""Figure 5A: energy vs test accuracy of the MNIST network (classic learning), one curve
per learning rate eta; learning curves beside it."""
import matplotlib.pyplot as plt
import numpy as np

from common import mnist_curve_axes


def _eta(series):
    return float(series.split("=", 1)[1])


def draw(data, scale):
    names = sorted(data.series_names("energy"), key=_eta)
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, max(len(names), 1)))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for series, color in zip(names, colors):
        samples, acc, _, _ = data.series("accuracy", series)
        x_e, energy, _, _ = data.series("energy", series)
        assert samples == x_e
        label = "$\\eta$ = %g" % _eta(series)
        axes[0].plot(acc, energy, "o-", color=color, markersize=2.5, linewidth=1, label=label)
        axes[1].plot(samples, acc, "-", color=color, label=label)
    mnist_curve_axes(fig, axes, "A  energy vs accuracy, classic learning", data, scale)
    return fig
