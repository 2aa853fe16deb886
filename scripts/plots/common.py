"""Shared helpers for the figure layouts: reading the tidy CSV and drawing series."""
import csv
import os

import matplotlib.pyplot as plt


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


def scale_note(fig, data, scale):
    """Say on the picture how many seeds the points average (quick runs use few)."""
    ns = sorted({r["n"] for r in data.rows if r["n"] > 0})
    if ns:
        seeds = "%d" % ns[-1] if len(ns) == 1 else "%d-%d" % (ns[0], ns[-1])
        fig.text(0.99, 0.005, "%s scale; mean +- SE over %s seeds" % (scale, seeds),
                 ha="right", va="bottom", fontsize=7, color="0.4")


def mnist_curve_axes(fig, axes, title, data, scale):
    """Labels of the MNIST energy-vs-accuracy panel (axes[0]) and the learning curves beside
    it (axes[1]), the figure's last note at the bottom, and the scale note."""
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
    if data.notes:
        fig.text(0.01, 0.005, data.notes[-1], fontsize=6, color="0.4", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    scale_note(fig, data, scale)


def save(fig, outbase):
    for ext in ("png", "svg"):
        tmp = "%s.%s.tmp.%d" % (outbase, ext, os.getpid())
        fig.savefig(tmp, format=ext, dpi=130, bbox_inches="tight")
        os.replace(tmp, outbase + "." + ext)
    plt.close(fig)
