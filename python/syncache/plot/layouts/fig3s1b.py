"""Figure 3-supplement 1B: learning time vs energy of the MNIST network, parametric in the
consolidation threshold theta, for c = 0 (black) and c = 0.001 (red); classic learning as
the reference point."""
import matplotlib.pyplot as plt

from common import label_points, meta, readable_log_axis, scale_note


def draw(data, scale):
    series = sorted((s for s in data.series_names("energy") if s.startswith("c=")),
                    key=lambda s: float(s[2:]))
    colors = ["k", "C3", "C0", "C2", "C1"]
    per_epoch = meta(data, "train_count") or 60000.0
    repeats = meta(data, "repeats")
    fig, ax = plt.subplots(figsize=(7.0, 5.2))
    labels = []  # (energy, epochs, text, color): threshold labels, placed once laid out
    for i, s in enumerate(series):
        col = colors[i % len(colors)]
        th, e, e_se, n = data.series("energy", s)
        th2, t, t_se, _ = data.series("samples", s)
        tpts = dict(zip(th2, zip(t, t_se)))
        xs = [j for j, x in enumerate(th) if n[j] > 0 and x in tpts]
        if not xs:
            continue
        ex = [e[j] for j in xs]
        ey = [tpts[th[j]][0] / per_epoch for j in xs]
        ax.errorbar(ex, ey, xerr=[e_se[j] for j in xs],
                    yerr=[tpts[th[j]][1] / per_epoch for j in xs], color=col, marker="o",
                    markersize=4, capsize=1.5, linewidth=1.0, elinewidth=0.6,
                    label=s.replace("c=", "c = "))
        part = [j for j in xs if repeats is not None and n[j] < repeats]
        if part:
            ax.plot([e[j] for j in part], [tpts[th[j]][0] / per_epoch for j in part], "o",
                    markersize=9, markerfacecolor="none", markeredgecolor="r")
        best = min(range(len(xs)), key=lambda j: ex[j])
        ax.plot(ex[best], ey[best], "*", markersize=13, color=col, markeredgecolor="k", zorder=5)
        labels += [(x, y, "%g" % th[xs[j]], col) for j, (x, y) in enumerate(zip(ex, ey))
                   if i == 0 or j in (0, len(ex) - 1)]
    _, y, yse, n = data.series("energy", "classic")
    _, t, tse, _ = data.series("samples", "classic")
    if y and n[0] > 0:
        ax.errorbar(y, [v / per_epoch for v in t], xerr=yse, yerr=[v / per_epoch for v in tse],
                    marker="s", markersize=7, color="0.4", linestyle="none", capsize=2,
                    label="no caching (classic)")
    ax.plot([], [], "*", color="0.5", markeredgecolor="k", markersize=11,
            label="lowest energy of each c")
    ax.set_xscale("log")
    ax.set_xlabel("energy to reach the target (sum of |weight changes|)")
    ax.set_ylabel("learning time (epochs of %d samples)" % per_epoch)
    ax.set_title("Learning time vs energy as $\\theta$ varies (labels: $\\theta$), "
                 "$\\tau$ = %g, target accuracy %g" % (meta(data, "tau"), meta(data, "target")),
                 fontsize=9.5)
    ax.legend(fontsize=7.5)
    readable_log_axis(ax, "x")
    fig.tight_layout()
    label_points(ax, labels)
    missed, total = meta(data, "missed_runs"), meta(data, "total_runs")
    note = ("%d of %d runs never reached the target, left out of the means (circled red)"
            % (missed, total))
    scale_note(fig, data, scale, note)
    return fig
