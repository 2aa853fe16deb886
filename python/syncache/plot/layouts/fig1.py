"""Figure 1: energy (log), inefficiency with Eq. 3, epochs with the fit, vs P/N."""
import matplotlib.pyplot as plt

from common import curve, scale_note


def draw(data, scale):
    # Theory curves diverge at P/N = 2: draw them only as far as the simulations go.
    xs = data.series("inefficiency", "simulation")[0]
    xmax = max(xs) if xs else None
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    ax = axes[0]
    curve(ax, data, "energy", "classic", label="perceptron $M_{perc}$", color="C3")
    curve(ax, data, "energy", "minimal", label="minimal $M_{min}$", color="C2")
    curve(ax, data, "energy", "theory classic", label="theory $NK\\eta$", xmax=xmax, theory=True, color="C3")
    curve(ax, data, "energy", "theory minimal", label="theory $\\sqrt{2/\\pi}\\,\\eta N\\sqrt{K}$",
          xmax=xmax, theory=True, color="C2")
    ax.set_yscale("log")
    ax.set_ylabel("energy (sum of |weight changes|)")
    ax.set_title("C  energy")
    ax = axes[1]
    curve(ax, data, "inefficiency", "simulation", label="simulation", color="k")
    curve(ax, data, "inefficiency", "Eq. 3", label="Eq. 3: $\\sqrt{\\pi P}/(2-P/N)$",
          xmax=xmax, theory=True, color="C0")
    ax.set_yscale("log")
    ax.set_ylabel("inefficiency $M_{perc}/M_{min}$")
    ax.set_title("D  inefficiency")
    ax = axes[2]
    curve(ax, data, "epochs", "simulation", label="simulation", color="k")
    curve(ax, data, "epochs", "fit T/P", label="$\\sqrt{P}/(2-P/N)^2$", xmax=xmax, theory=True, color="C0")
    ax.set_yscale("log")
    ax.set_ylabel("epochs to converge")
    ax.set_title("learning time")
    for ax in axes:
        ax.set_xlabel("load P/N")
        ax.legend(fontsize=7)
    fig.suptitle("Classic perceptron learning, N = 1000")
    fig.tight_layout()
    scale_note(fig, data, scale)
    return fig
