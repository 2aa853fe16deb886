"""Figure 2B: consolidation, maintenance and total energy vs theta (log-log)."""
import matplotlib.pyplot as plt

from common import curve, scale_note


def positive_curve(ax, data, panel, series, **kw):
    """Simulation with SE bars; zero energies (no maintenance below theta = eta) are left
    off the log axis."""
    x, y, se, _ = data.series(panel, series)
    pts = [(a, b, c) for a, b, c in zip(x, y, se) if b > 0]
    if pts:
        ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts],
                    marker="o", markersize=3, capsize=2, **kw)


def draw(data, scale):
    fig, ax = plt.subplots(1, 1, figsize=(7.6, 4.2))
    styles = [("consolidation", "C0", "consolidation $M_{cons}$"),
              ("maintenance", "C1", "maintenance $M_{trans}$"),
              ("total", "k", "total $M_{cons} + M_{trans}$")]
    for name, color, label in styles:
        positive_curve(ax, data, "energy", name, label=label, color=color)
    for name, color, _ in styles:
        curve(ax, data, "energy", "theory " + name, label="theory " + name + " (no decay, local rule)",
              theory=True, color=color, alpha=0.6)
    x, y, _, _ = data.series("energy", "no caching")
    if x:
        ax.axhline(sum(y) / len(y), color="C3", linestyle=":", label="no caching")
    x, y, _, _ = data.series("energy", "minimal")
    if x:
        ax.axhline(sum(y) / len(y), color="C2", linestyle=":", label="minimal $M_{min}$")
    x, y, _, _ = data.series("optimum", "theta_hat")
    if x:
        ax.plot(x, y, "v", color="k", markersize=10, zorder=6,
                label="optimum $\\hat\\theta$ = %.3g" % x[0])
    x, y, _, _ = data.series("optimum", "theory theta_hat")
    if x:
        ax.plot(x, y, "v", color="0.6", markersize=10, zorder=5,
                label="theory $\\hat\\theta = \\eta\\sqrt{3K/(1+cT)}$ = %.3g" % x[0])
    ax.set_xscale("log")
    ax.set_yscale("log")
    lo = [r["mean"] for r in data.rows if r["panel"] == "energy" and r["mean"] > 0]
    if lo:
        ax.set_ylim(bottom=0.5 * min(lo))
    ax.set_xlabel("consolidation threshold $\\theta$")
    ax.set_ylabel("energy (sum of |weight changes|)")
    note = [n for n in data.notes if n.startswith("N = ")]
    ax.set_title("B  energy vs consolidation threshold" +
                 ("\n" + note[0].split(";")[0] if note else ""), fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    fig.tight_layout()
    scale_note(fig, data, scale)
    return fig
