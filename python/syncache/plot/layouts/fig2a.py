"""Figure 2A: transient, persistent and total weight of two synapses vs presentations;
consolidations as vertical dashed lines, the maintenance area (|s|) shaded."""
import re

import matplotlib.pyplot as plt

from common import footer

COLORS = {"synapse 1": "C0", "synapse 2": "m"}


def param(notes, name):
    for n in notes:
        m = re.search(r"\b%s = ([0-9.eE+-]+|inf)" % name, n)
        if m:
            return m.group(1)
    return None


def with_resets(data, name):
    """The transient trace with, at each consolidation, the value just before the reset
    (the consolidated amount Delta l_i), so threshold crossings show as spikes."""
    x, y, _, _ = data.series("transient", name)
    ex, ey, _, _ = data.series("consolidation", name)
    jump = dict(zip(ex, ey))
    px, py = [], []
    for a, b in zip(x, y):
        if a in jump:
            px.append(a)
            py.append(jump[a])
        px.append(a)
        py.append(b)
    return px, py


def draw(data, scale):
    fig, axes = plt.subplots(3, 1, figsize=(8, 6.4), sharex=True,
                             gridspec_kw={"height_ratios": [1.3, 1, 1]})
    series = [s for s in ("synapse 1", "synapse 2") if s in data.series_names("transient")]
    events, _, _, _ = data.series("consolidation", series[0]) if series else ([], 0, 0, 0)
    labels = {"transient": "transient $s_i$", "persistent": "persistent $l_i$",
              "total": "total $w_i = l_i + s_i$"}
    for ax, panel in zip(axes, ("transient", "persistent", "total")):
        for name in series:
            x, y, _, _ = data.series(panel, name)
            if panel == "transient":
                x, y = with_resets(data, name)
            ax.plot(x, y, drawstyle="steps-post", color=COLORS[name], linewidth=1.2,
                    label=name)
            if panel == "transient":
                ax.fill_between(x, 0, y, step="post", color=COLORS[name], alpha=0.2,
                                linewidth=0)
        for t in events:
            ax.axvline(t, color="0.3", linestyle="--", linewidth=0.8)
        ax.axhline(0, color="0.7", linewidth=0.6)
        ax.set_ylabel(labels[panel])
    theta = param(data.notes, "theta")
    if theta is not None:
        th = float(theta)
        axes[0].set_ylim(-1.3 * th, 1.3 * th)
        for sign in (1, -1):
            axes[0].axhline(sign * th, color="k", linestyle=":", linewidth=0.8)
        axes[0].text(1.0, th, " $\\theta$", transform=axes[0].get_yaxis_transform(),
                     va="center", fontsize=8)
        axes[0].text(1.0, -th, " $-\\theta$", transform=axes[0].get_yaxis_transform(),
                     va="center", fontsize=8)
    axes[0].plot([], [], color="0.3", linestyle="--", linewidth=0.8, label="consolidation")
    axes[0].fill_between([], [], color="0.5", alpha=0.3, label="maintenance $\\propto$ area")
    axes[0].legend(fontsize=7, ncol=4, loc="lower left", bbox_to_anchor=(0.0, 1.0),
                   frameon=False)
    axes[-1].set_xlabel("time (pattern presentations)")
    head = [n for n in data.notes if n.startswith("N = ")]
    sub = head[0].split(";")[0] if head else ""
    fig.suptitle("A  synaptic caching: weight traces of two synapses\n" + sub, fontsize=9)
    fig.tight_layout()
    footer(fig, right="%s scale; one run" % scale)
    return fig
