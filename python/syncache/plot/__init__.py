"""The figures' pictures: one matplotlib layout per figure (``layouts/NAME.py``), drawn from
the tidy CSV that :func:`syncache.figure` (or ``syncache figure``) writes.

``python3 -m syncache.plot NAME CSV OUTBASE [SCALE]`` draws OUTBASE.png and OUTBASE.svg.
:func:`draw` does the same from Python, in a child process of this interpreter (the
layouts import their helpers by plain names, which stay out of the caller's modules).
"""

import os
import subprocess
import sys

#: The folder that runs as a program (``python3 FOLDER NAME CSV OUTBASE [SCALE]``).
FOLDER = os.path.dirname(os.path.abspath(__file__))


class PlotError(RuntimeError):
    """Drawing a figure failed; the message is the plotter's last line and its log."""


def draw(name, csv, outbase, scale="quick", *, python=None):
    """Draws ``outbase``.png and .svg from the figure CSV ``csv`` with the interpreter
    ``python`` (default: this one). The plotter's messages go to ``outbase``.plot.log,
    which is removed on success; a failure raises :class:`PlotError` naming the log."""
    log = os.fspath(outbase) + ".plot.log"
    with open(log, "w", encoding="utf-8") as f:
        rc = subprocess.run([python or sys.executable, FOLDER, name, os.fspath(csv),
                             os.fspath(outbase), scale], stdout=f, stderr=subprocess.STDOUT,
                            check=False).returncode
    if rc != 0:
        with open(log, encoding="utf-8", errors="replace") as f:
            lines = [line.strip() for line in f if line.strip()]
        last = lines[-1] if lines else "no message"
        if len(last) > 120:
            last = last[:117] + "..."
        raise PlotError(f"{name}: plotting failed: {last} (see {log}); the CSV was written")
    os.remove(log)
