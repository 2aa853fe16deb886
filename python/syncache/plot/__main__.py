"""Draw one figure from its tidy CSV: ``python3 -m syncache.plot NAME CSV OUTBASE [SCALE]``.

Each figure's layout lives in ``layouts/NAME.py`` beside this file as a function
``draw(data, scale)`` returning a matplotlib Figure; this driver reads the CSV, calls it,
and writes OUTBASE.png and OUTBASE.svg (each written to a temporary file, then renamed).

The folder runs without the rest of the package (``python3 path/to/plot NAME ...``), which
is how the ``syncache`` command line calls it from its installed ``share/syncache/plot``.
Exit codes: 0 drawn, 2 bad arguments or no such layout, 3 matplotlib missing.
"""
import importlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "layouts"))


def main(argv):
    if len(argv) not in (4, 5):
        sys.stderr.write("usage: python3 -m syncache.plot NAME CSV OUTBASE [SCALE]\n")
        return 2
    name, csv_path, outbase = argv[1], argv[2], argv[3]
    scale = argv[4] if len(argv) == 5 else "quick"
    try:
        import matplotlib
    except ImportError:
        sys.stderr.write("syncache.plot: matplotlib is not installed for %s (Debian: "
                         "python3-matplotlib)\n" % sys.executable)
        return 3
    matplotlib.use("Agg")
    import common

    if not name.replace("_", "").isalnum() or name == "common":
        sys.stderr.write("syncache.plot: no layout for the figure '%s'\n" % name)
        return 2
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError:
        sys.stderr.write("syncache.plot: no layout for the figure '%s'\n" % name)
        return 2
    data = common.read_csv(csv_path)
    fig = module.draw(data, scale)
    common.save(fig, outbase)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
