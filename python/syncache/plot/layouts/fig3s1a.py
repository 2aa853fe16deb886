"""Figure 3-supplement 1A: learning time vs energy, parametric in the threshold theta,
one curve per maintenance cost c (dark: small c); classic learning as a reference point."""

import matplotlib.pyplot as plt
import numpy as np

from common import label_points, meta, rule_from_notes, scale_note


def draw(data, scale):
    series = [s for s in data.series_names("energy") if s.startswith("c=")]
    series.sort(key=lambda s: float(s[2:]))
    colors = plt.cm.viridis(np.linspace(0.0, 0.85, max(len(series), 1)))
    repeats = meta(data, "repeats")
    fig, ax = plt.subplots(figsize=(7.0, 5.2))
    labels = []  # (energy, epochs, text, color): threshold labels, placed once laid out

    for i, (s, col) in enumerate(zip(series, colors)):
        th, e, e_se, n = data.series("energy", s)
        th2, t, t_se, _ = data.series("epochs", s)
        pts = {x: (y, ys, k) for x, y, ys, k in zip(th, e, e_se, n)}
        tpts = {x: (y, ys) for x, y, ys in zip(th2, t, t_se)}
        xs = [x for x in th if x in tpts]
        ex = [pts[x][0] for x in xs]
        ey = [tpts[x][0] for x in xs]
        ax.errorbar(ex, ey, xerr=[pts[x][1] for x in xs], yerr=[tpts[x][1] for x in xs],
                    color=col, marker="o", markersize=3.5, capsize=1.5, linewidth=1.2,
                    elinewidth=0.6, label=s.replace("c=", "c = "))
        # Points where some seeds hit the epoch cap: hollow (means over converged seeds only).
        part = [x for x in xs if repeats is not None and pts[x][2] < repeats]
        if part:
            ax.plot([pts[x][0] for x in part], [tpts[x][0] for x in part], "o", markersize=8,
                    markerfacecolor="none", markeredgecolor="r")
        # The energy-optimal threshold of this c.
        best = min(xs, key=lambda x: pts[x][0])
        ax.plot(pts[best][0], tpts[best][0], marker="*", markersize=13, color=col,
                markeredgecolor="k", zorder=5)
        # Threshold labels along the outer curves (smallest and largest c).
        if i in (0, len(series) - 1):
            labels += [(pts[x][0], tpts[x][0], "$\\theta$=%g" % x, "k" if i == 0 else col)
                       for x in xs if any(abs(x - v) < 1e-9 for v in (1.0, 2.0, 5.0, 10.0))]

    x, y, xse, _ = data.series("energy", "classic")
    _, t, tse, _ = data.series("epochs", "classic")
    if x and t:
        ax.errorbar(y, t, xerr=xse, yerr=tse, marker="s", markersize=7, color="k",
                    linestyle="none", capsize=2, label="no caching (classic)")
    ax.plot([], [], "*", color="0.5", markeredgecolor="k", markersize=11,
            label="lowest energy of each c")
    if x:
        ax.annotate("$\\theta$=0.5 (every update consolidates)", (y[0], t[0]),
                    textcoords="offset points", xytext=(-6, 7), ha="right", fontsize=7)
    ax.set_xscale("log")
    ticks = [4e5, 5e5, 6e5, 8e5, 1e6, 1.5e6, 2e6, 3e6]
    lo, hi = ax.get_xlim()
    ax.set_xticks([v for v in ticks if lo <= v <= hi])
    ax.set_xticks([], minor=True)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: "%g" % (v / 1e6)))
    ax.set_xlabel("energy $M$ ($10^6$, sum of |weight changes|)")
    ax.set_ylabel("learning time (epochs)")
    ax.set_title("Learning time vs energy as $\\theta$ runs 0.5 ... 10 (labels: $\\theta$)\n"
                 "N = %d, P = %d, %s rule, $\\tau$ = %g" % (meta(data, "N"), meta(data, "P"),
                                                          rule_from_notes(data), meta(data, "tau")),
                 fontsize=10)
    ax.legend(fontsize=7.5)
    fig.tight_layout()
    label_points(ax, labels)
    cap, capped, total = (meta(data, k) for k in ("max_epochs", "capped_runs", "total_runs"))
    note = None
    if cap is not None:
        note = ("epoch cap %d: %d of %d runs hit it, left out of the means (circled red)"
                % (cap, capped, total))
    scale_note(fig, data, scale, note)
    return fig
