"""Figure 2-supplement 1: the spiking neuron with STDP, with and without caching."""
import re

import matplotlib.pyplot as plt

from common import curve, scale_note


def _trial(fig, cell, data):
    """Panel D in the grid cell `cell`: the spike rasters (one row per train) on their own
    axis above the membrane potential, sharing the time axis."""
    t, v, _, _ = data.series("trial", "v")
    if not t:
        return
    grid = cell.subgridspec(2, 1, height_ratios=[1.0, 1.7], hspace=0.06)
    raster = fig.add_subplot(grid[0])
    volt = fig.add_subplot(grid[1], sharex=raster)
    rows = [("visual", "visual input", "C4")]
    inputs = [s for s in data.series_names("trial") if s.startswith("auditory")]
    rows += [(name, name, "C%d" % (k + 1)) for k, name in enumerate(inputs)]
    rows.append(("output", "output spikes", "k"))
    for k, (series, _, color) in enumerate(rows):
        x, _, _, _ = data.series("trial", series)
        y = len(rows) - 1 - k
        raster.vlines(x, y - 0.35, y + 0.35, color=color,
                      linewidth=1.2 if series == "output" else 0.7)
    raster.set_yticks(range(len(rows)))
    raster.set_yticklabels([label for _, label, _ in reversed(rows)], fontsize=7)
    raster.set_ylim(-0.6, len(rows) - 0.4)
    raster.tick_params(axis="x", labelbottom=False)
    title = "D  one trial after learning"
    for note in data.notes:
        m = re.match(r"trial panel: (pattern \d+ \([^)]*\))", note)
        if m:
            title += ": " + m.group(1)
    raster.set_title(title)
    volt.plot(t, v, color="0.2", linewidth=0.8)
    volt.set_xlabel("time in trial (ms)")
    volt.set_ylabel("membrane potential V (mV)")


def draw(data, scale):
    fig = plt.figure(figsize=(11, 8))
    cells = fig.add_gridspec(2, 2)
    ax = fig.add_subplot(cells[0, 0])
    curve(ax, data, "energy", "classic", label="without caching", color="C3")
    curve(ax, data, "energy", "caching", label="with caching", color="C2")
    curve(ax, data, "energy", "minimal", label="minimal energy", color="0.3", linestyle=":")
    ax.set_xlabel("number of patterns P")
    ax.set_ylabel("energy (nS, sum of |weight changes|)")
    ax.set_title("A  energy to learn (successful runs)")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(cells[0, 1])
    curve(ax, data, "saving", "caching", label="1 - E(caching) / E(classic), paired by seed",
          color="C2")
    ax.set_ylim(0, 1)
    ax.set_xlabel("number of patterns P")
    ax.set_ylabel("share of the energy saved")
    ax.set_title("B  saved by caching")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(cells[1, 0])
    curve(ax, data, "success", "caching", label="success rate (two-class pattern sets)",
          color="C0")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("number of patterns P")
    ax.set_ylabel("fraction of runs")
    ax.set_title("C  success rate")
    ax.legend(fontsize=7)
    _trial(fig, cells[1, 1], data)
    fig.tight_layout()
    theta = None
    for note in data.notes:
        m = re.search(r"theta = ([0-9.eE+-]+) nS", note)
        if m:
            theta = m.group(1)
    note = ("caching: neuron rule, $\\theta$ = %s nS, no decay, no maintenance cost; "
            "energies over successful runs" % theta) if theta else None
    scale_note(fig, data, scale, note)
    return fig
