"""Figure 6: maintenance and consolidation power per epoch vs epoch, simulation solid
(mean +- SE band), theory (Eqs. 5-7 fed the measured p) dashed, theory with the boundary
at theta + eta/2 dotted; one panel per consolidation rule, then the update fraction p."""
import re

import matplotlib.pyplot as plt

from common import scale_note

TERMS = (("maintenance", "C0", "maintenance $m_{trans}$"),
         ("consolidation", "C3", "consolidation $m_{cons}$"))


def band(ax, data, panel, series, color, label, style="-"):
    x, y, se, _ = data.series(panel, series)
    if not x:
        return
    ax.plot(x, y, linestyle=style, color=color, label=label, lw=1.6 if style == "-" else 1.3)
    if style == "-":
        ax.fill_between(x, [a - b for a, b in zip(y, se)], [a + b for a, b in zip(y, se)],
                        color=color, alpha=0.2, lw=0)


def rule_note(data, rule):
    for note in data.notes:
        if note.startswith(rule + " rule: (simulation - theory)"):
            m = re.findall(r"(maintenance|consolidation) ([-0-9.e+]+) \+- ([0-9.e+-]+)", note)
            if len(m) >= 4:
                return ("sim/theory - 1 over learning:\n"
                        "  theory at $\\theta$: maint. %+.0f%%, cons. %+.0f%%\n"
                        "  at $\\theta+\\eta/2$: maint. %+.0f%%, cons. %+.0f%%"
                        % tuple(100 * float(v[1]) for v in m[:4]))
    return None


def draw(data, scale):
    rules = [p[len("power "):] for p in data.panels() if p.startswith("power ")]
    fig, axes = plt.subplots(1, len(rules) + 1, figsize=(4.6 * (len(rules) + 1), 4.2))
    letters = "ABCD"
    for i, rule in enumerate(rules):
        ax = axes[i]
        panel = "power " + rule
        for term, color, label in TERMS:
            band(ax, data, panel, term, color, label + ", simulation")
            band(ax, data, panel, term + " theory", color, "theory (Eqs. 6, 7)", "--")
            band(ax, data, panel, term + " theory theta+eta/2", color,
                 "theory, boundary $\\theta+\\eta/2$", ":")
        ax.set_yscale("log")
        ax.set_ylim(10, 5e6)
        ax.set_xlim(0, None)
        ax.set_xlabel("epoch")
        ax.set_ylabel("power (energy per epoch)")
        local = " (local consolidation)" if rule == "synapse" else ""
        ax.set_title("%s  rule '%s'%s" % (letters[i], rule, local), fontsize=10)
        ax.legend(fontsize=6.5, loc="upper right")
        note = rule_note(data, rule)
        if note:
            ax.text(0.97, 0.3, note, transform=ax.transAxes, fontsize=6.5, va="center",
                    ha="right", color="0.25")
    ax = axes[-1]
    twin = ax.twinx()
    for j, rule in enumerate(rules):
        x, y, se, n = data.series("update fraction " + rule, "p")
        ax.plot(x, y, color="C%d" % (j + 4), label="p, rule '%s'" % rule)
        twin.step(x, n, where="mid", color="C%d" % (j + 4), lw=0.9, ls="--",
                  label="runs still learning, '%s'" % rule)
    twin.set_ylim(0, None)
    twin.set_ylabel("runs still learning (dashed)")
    twin.legend(fontsize=7, loc="center right")
    ax.set_yscale("log")
    ax.set_xlim(0, None)
    ax.set_xlabel("epoch")
    ax.set_ylabel("update fraction p = errors / P (theory input)")
    ax.set_title("%s  measured update fraction" % letters[len(rules)], fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    fig.suptitle("Maintenance and consolidation power, N = P = 1000, "
                 "$\\tau$ = 500, c = 0.01, $\\theta$ = 5 (means over the runs still learning)",
                 fontsize=10)
    fig.tight_layout()
    scale_note(fig, data, scale, "power: per-epoch increments of the cumulative energies; the "
               "final consolidation at the end of learning is in no epoch (not shown)")
    return fig
