#!/usr/bin/python3
"""Draw one figure from its tidy CSV: plot.py NAME CSV OUTBASE [SCALE].

Each figure's layout lives in scripts/plots/NAME.py as a function draw(data, scale)
returning a matplotlib Figure; this driver reads the CSV, calls it, and writes
OUTBASE.png and OUTBASE.svg (each written to a temporary file, then renamed).
"""
import importlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "plots"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import common  # noqa: E402


def main(argv):
    if len(argv) not in (4, 5):
        sys.stderr.write("usage: plot.py NAME CSV OUTBASE [SCALE]\n")
        return 2
    name, csv_path, outbase = argv[1], argv[2], argv[3]
    scale = argv[4] if len(argv) == 5 else "quick"
    try:
        module = importlib.import_module(name)
    except ImportError:
        sys.stderr.write("plot.py: no layout scripts/plots/%s.py\n" % name)
        return 2
    data = common.read_csv(csv_path)
    fig = module.draw(data, scale)
    common.save(fig, outbase)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
