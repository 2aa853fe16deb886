"""Shared helpers for the figure layouts: reading the tidy CSV, drawing series, readable
log axes, point labels that do not overlap, and the one line under a figure."""
import csv
import math
import os

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from matplotlib.transforms import Bbox

# Font size of the line under a figure (short note at the left, scale at the right).
FOOTER_SIZE = 8


class Data:
    """Rows of a figure CSV (panel, series, x, mean, se, n) and its '#' notes."""

    def __init__(self, rows, notes):
        self.rows = rows
        self.notes = notes

    def series(self, panel, series):
        """(x, mean, se, n) lists of one curve, sorted by x."""
        pts = sorted((r["x"], r["mean"], r["se"], r["n"]) for r in self.rows
                     if r["panel"] == panel and r["series"] == series)
        return ([p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts],
                [p[3] for p in pts])

    def series_names(self, panel):
        seen = []
        for r in self.rows:
            if r["panel"] == panel and r["series"] not in seen:
                seen.append(r["series"])
        return seen

    def panels(self):
        seen = []
        for r in self.rows:
            if r["panel"] not in seen:
                seen.append(r["panel"])
        return seen


def meta(data, name):
    """The value of a 'meta' row (settings a figure records for its plot), or None."""
    _, y, _, _ = data.series("meta", name)
    return y[0] if y else None


def rule_from_notes(data):
    """The consolidation rule named in the CSV notes ('rule NAME'), or '?'."""
    import re
    found = [re.search(r"rule (\w+)", n) for n in data.notes]
    found = [f for f in found if f]
    return found[0].group(1) if found else "?"


def read_csv(path):
    rows, notes, lines = [], [], []
    with open(path, newline="") as f:
        for line in f:
            if line.startswith("#"):
                notes.append(line[1:].strip())
            else:
                lines.append(line)
    for r in csv.DictReader(lines):
        rows.append({"panel": r["panel"], "series": r["series"], "x": float(r["x"]),
                     "mean": float(r["mean"]), "se": float(r["se"]), "n": int(r["n"])})
    return Data(rows, notes)


def curve(ax, data, panel, series, label=None, theory=False, xmax=None, **kw):
    """Draw one series: simulation with SE error bars, theory as a dashed line.
    xmax: leave out points beyond it (e.g. a theory that diverges past the data)."""
    x, y, se, n = data.series(panel, series)
    if xmax is not None:
        keep = [i for i, v in enumerate(x) if v <= xmax]
        x, y, se, n = ([a[i] for i in keep] for a in (x, y, se, n))
    if not x:
        return
    label = series if label is None else label
    if theory or all(k == 0 for k in n):
        ax.plot(x, y, linestyle="--", label=label, **kw)
    else:
        ax.errorbar(x, y, yerr=se, marker="o", markersize=3, capsize=2, label=label, **kw)


def scale_text(data, scale):
    """How many seeds the points average (quick runs use few), e.g. 'quick scale; mean +- SE
    over 3 seeds'."""
    ns = sorted({r["n"] for r in data.rows if r["n"] > 0})
    if not ns:
        return "%s scale" % scale
    if ns == [1]:
        return "%s scale; one seed" % scale
    seeds = "%d" % ns[-1] if len(ns) == 1 else "%d-%d" % (ns[0], ns[-1])
    return "%s scale; mean +- SE over %s seeds" % (scale, seeds)


def spread_text(data, panel, names):
    """'bands/bars: \u00b1 SE over N seeds' for the curves `names` of `panel` (N the most seeds
    any of their points averages), or None where every point is one seed (SE 0: nothing extra
    is drawn)."""
    ns = [k for s in names for k in data.series(panel, s)[3]]
    if not ns or max(ns) <= 1:
        return None
    return "bands/bars: \u00b1 SE over %d seeds" % max(ns)


def se_marks(ax_energy, ax_curve, samples, acc, acc_se, energy, energy_se, color, bars=12):
    """The spread over seeds of one MNIST curve: error bars in both directions on the
    energy-vs-accuracy axis at every k-th point (at most `bars`, the last point kept) and a
    band of accuracy +- SE on the learning-curve axis."""
    step = -(-len(acc) // bars)
    keep = sorted(range(len(acc) - 1, -1, -step))
    ax_energy.errorbar([acc[i] for i in keep], [energy[i] for i in keep],
                       xerr=[acc_se[i] for i in keep], yerr=[energy_se[i] for i in keep],
                       linestyle="none", color=color, elinewidth=0.8, capsize=1.5)
    ax_curve.fill_between(samples, [m - s for m, s in zip(acc, acc_se)],
                          [m + s for m, s in zip(acc, acc_se)], color=color, alpha=0.2,
                          linewidth=0)


def footer(fig, left=None, right=None):
    """The one line under a figure, below everything already drawn (call it last, after
    tight_layout): `left` a short note, `right` the scale. Longer notes belong in
    docs/reproduction.md, not under the picture."""
    renderer = fig.canvas.get_renderer()
    box = fig.get_tightbbox(renderer)  # inches
    width, height = fig.get_figwidth(), fig.get_figheight()
    y = (box.y0 - 0.06 - FOOTER_SIZE / 72.0) / height  # the baseline, one line below
    kw = dict(va="baseline", fontsize=FOOTER_SIZE, color="0.35")
    texts = []
    if left:
        texts.append(fig.text(box.x0 / width, y, left, ha="left", **kw))
    if right:
        texts.append(fig.text(box.x1 / width, y, right, ha="right", **kw))
    if len(texts) == 2:
        a, b = (t.get_window_extent(renderer) for t in texts)
        if a.x1 + 10 > b.x0:  # no room side by side: the scale goes under the note
            texts[1].set_y(y - 1.4 * FOOTER_SIZE / 72.0 / height)


def scale_note(fig, data, scale, note=None):
    """The line under a figure: an optional one-line `note` and how many seeds the points
    average."""
    footer(fig, note, scale_text(data, scale))


def note_clauses(data, start, count):
    """The first `count` '; '-separated clauses of the CSV note starting with `start` (a short
    summary of the settings for the line under a figure), or None."""
    for note in data.notes:
        if note.startswith(start):
            return "; ".join(note.split("; ")[:count])
    return None


def _tick_number(v, sci):
    """A tick label: plain ('2000') or, on axes reaching 10^5 or below 10^-3, a x 10^k."""
    if v <= 0:
        return ""
    if not sci:
        return "%g" % float("%.3g" % v)
    exp = int(math.floor(math.log10(v) + 1e-9))
    mant = float("%.2g" % (v / 10 ** exp))
    return "$10^{%d}$" % exp if mant == 1 else "$%g\\times10^{%d}$" % (mant, exp)


def readable_log_axis(ax, which="y"):
    """Enough labelled ticks on a log axis that spans under 2.5 decades (matplotlib labels
    only powers of ten there, often just one): at 1, 2, 5 x 10^k, or where that gives fewer
    than four ticks 1, 2, 3, 5 x 10^k, or every integer multiple. Call after everything is
    drawn (it reads the limits)."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    lo, hi = ax.get_ylim() if which == "y" else ax.get_xlim()
    if lo <= 0 or hi <= lo or math.log10(hi / lo) >= 2.5:
        return
    decades = range(int(math.floor(math.log10(lo))), int(math.ceil(math.log10(hi))) + 1)
    for subs in ((1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), tuple(float(k) for k in range(1, 10))):
        if sum(1 for e in decades for m in subs if lo <= m * 10.0 ** e <= hi) >= 4:
            break
    sci = hi >= 1e5 or lo < 1e-3
    axis.set_major_locator(LogLocator(base=10.0, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: _tick_number(v, sci)))
    axis.set_minor_formatter(NullFormatter())


def _overlaps(box, boxes):
    return sum(1 for b in boxes if box.overlaps(b))


# Where a point label may go, in points from the point (first choices first).
_OFFSETS = [(5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"),
            (-5, -3, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"),
            (9, 0, "left", "center"), (-9, 0, "right", "center"), (12, 10, "left", "bottom"),
            (-12, 10, "right", "bottom"), (12, -10, "left", "top"), (-12, -10, "right", "top"),
            (0, 16, "center", "bottom"), (0, -16, "center", "top")]


def label_points(ax, labels, fontsize=7):
    """Write each (x, y, text, color) of `labels` beside its point where it overlaps no other
    label, no drawn point, line or text of the axes, no legend and stays inside the axes; where
    every place collides, the one with fewest collisions. Call after the layout is final
    (after tight_layout): the placement is in screen coordinates."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    # Obstacles: the drawn points and lines (sampled along each segment), the legend.
    obstacles = []
    for line in ax.get_lines():
        xy = line.get_xydata()
        if len(xy) == 0:
            continue
        pts = line.get_transform().transform(xy)
        size = max(line.get_markersize(), 4.0) * fig.dpi / 72.0 / 2
        samples = [tuple(p) for p in pts]
        if line.get_linestyle() not in ("None", "none", "", " "):
            for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
                n = int(math.hypot(x1 - x0, y1 - y0) // 4)
                samples += [(x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n)]
        for x, y in samples:
            if all(math.isfinite(v) for v in (x, y)):
                obstacles.append(Bbox.from_extents(x - size / 2, y - size / 2,
                                                    x + size / 2, y + size / 2))
    legend = ax.get_legend()
    if legend is not None:
        obstacles.append(legend.get_window_extent(renderer))
    obstacles += [t.get_window_extent(renderer) for t in ax.texts]
    placed = []
    for x, y, text, color in labels:
        best = None
        for dx, dy, ha, va in _OFFSETS:
            ann = ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy),
                              ha=ha, va=va, fontsize=fontsize, color=color)
            box = ann.get_window_extent(renderer)
            out = not (inside.x0 <= box.x0 and box.x1 <= inside.x1 and
                       inside.y0 <= box.y0 and box.y1 <= inside.y1)
            score = 100 * out + 10 * _overlaps(box, placed) + _overlaps(box, obstacles)
            if best is None or score < best[0]:
                if best is not None:
                    best[1].remove()
                best = (score, ann, box)
            else:
                ann.remove()
            if score == 0:
                break
        placed.append(best[2])


def mnist_curve_axes(fig, axes, title, data, scale):
    """Labels of the MNIST energy-vs-accuracy panel (axes[0]) and the learning curves beside
    it (axes[1]); under the figure the network and its settings, and the scale."""
    ax = axes[0]
    ax.set_yscale("log")
    ax.set_xlabel("test accuracy")
    ax.set_ylabel("energy (sum of |weight changes|)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.set_xlabel("training samples")
    ax.set_ylabel("test accuracy")
    ax.set_title("learning curves")
    ax.legend(fontsize=7)
    fig.tight_layout()
    scale_note(fig, data, scale, note_clauses(data, "784-", 2))


def save(fig, outbase):
    for ext in ("png", "svg"):
        tmp = "%s.%s.tmp.%d" % (outbase, ext, os.getpid())
        fig.savefig(tmp, format=ext, dpi=130, bbox_inches="tight")
        os.replace(tmp, outbase + "." + ext)
    plt.close(fig)
