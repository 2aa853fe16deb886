"""Figure 1—figure supplement 1: inefficiency (log) vs the energy exponent alpha."""
import matplotlib.pyplot as plt

from common import curve, scale_note


def draw(data, scale):
    fig, ax = plt.subplots(1, 1, figsize=(5.2, 4.0))
    curve(ax, data, "inefficiency", "all changes", label="$\\sum|\\Delta w|^\\alpha$",
          color="C2", linewidth=3)
    curve(ax, data, "inefficiency", "potentiation only",
          label="potentiation only $\\sum[\\Delta w]_+^\\alpha$", color="c", linewidth=1.2)
    curve(ax, data, "inefficiency", "random walk, measured K",
          label="theory: random walk (variance K$\\eta^2$)", theory=True, color="0.3")
    curve(ax, data, "inefficiency", "Gaussian, measured K and variance",
          label="theory: Gaussian, measured variance", theory=True, color="C1",
          zorder=5)
    x, y, _, _ = data.series("inefficiency", "Eq. 3")
    if x:
        ax.plot(x, y, "x", color="C0", markersize=8, label="Eq. 3 ($\\alpha = 1$)")
    ax.axhline(1.0, color="0.6", linewidth=0.8, linestyle=":")
    ax.axvspan(0.0, 1.0, color="0.93", zorder=0)
    ax.text(0.5, 0.03, "biologically relevant", transform=ax.get_xaxis_transform(),
            ha="center", fontsize=7, color="0.4")
    ax.set_yscale("log")
    xs, ys, _, _ = data.series("crossing", "inefficiency = 1")
    if xs:
        ax.plot(xs, ys, "o", color="k", markersize=5,
                label=f"inefficiency = 1 at $\\alpha$ = {xs[0]:.2f}")
    xa, _, _, _ = data.series("inefficiency", "all changes")
    ax.set_xlim(0, max(xa) if xa else 2)
    ax.set_xlabel("exponent $\\alpha$ of the energy function")
    ax.set_ylabel("inefficiency $M_{perc}/M_{min}$")
    ax.set_title("Inefficiency vs $\\alpha$, N = P = 1000")
    ax.legend(fontsize=7)
    fig.tight_layout()
    scale_note(fig, data, scale)
    return fig
