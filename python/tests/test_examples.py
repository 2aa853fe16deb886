"""The examples run and say something sensible: each script in examples/ (a subprocess of
/usr/bin/python3 with this environment and MPLBACKEND=Agg) and the tutorial notebook
(executed top to bottom by nbclient on the python3 kernel), and the PyTorch tutorial
notebook (on the first 2 000 MNIST images, when MNIST is in the user cache).

Run:  PYTHONPATH=build/python /usr/bin/python3 -m pytest -q python/tests/test_examples.py
"""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import syncache

# Each example runs for seconds: `make check` runs them, `make test` does not.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|inf|nan)"


def child_env():
    """This process's environment, with the syncache it imported first on PYTHONPATH (so
    that a child imports the same build) and matplotlib off screen."""
    env = dict(os.environ)
    package_parent = str(Path(syncache.__file__).resolve().parents[1])
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_parent not in paths:
        paths.insert(0, package_parent)
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["MPLBACKEND"] = "Agg"
    return env


def run_example(name, *args, timeout=60):
    proc = subprocess.run([PYTHON, str(EXAMPLES / name), *args], cwd=ROOT, env=child_env(),
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{name} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def table_row(out, label):
    """The numbers of the output line that starts with `label`."""
    for line in out.splitlines():
        if line.startswith(label):
            values = [float(v) for v in re.findall(NUMBER, line[len(label):])]
            assert all(math.isfinite(v) for v in values), line
            return values
    raise AssertionError(f"no line starting with {label!r} in\n{out}")


def test_delta_rule():
    out = run_example("delta_rule.py")
    classic = table_row(out, "classic (PlainStore)")
    cached = table_row(out, "cached, synapse rule, theta=0.1, tau=inf")[1:]  # after c=
    decay = table_row(out, "cached, synapse rule, theta=0.1, tau=500")[1:]
    # total, consolidation, maintenance, minimal, inefficiency, test MSE
    assert len(classic) == len(cached) == len(decay) == 6, out
    assert 0 < cached[0] < classic[0] / 5, out
    assert 0 < decay[0] < classic[0] / 5, out
    for row in (classic, cached, decay):
        assert row[3] > 0 and row[4] >= 1.0 - 1e-9, out   # M >= M_min
        assert row[5] < 0.1, out                         # learnt: test MSE << Var(y) ~ 1
    assert classic[5] == pytest.approx(cached[5])  # no decay: the same weights
    assert classic[2] == 0.0 and cached[2] > 0.0
    saving = float(re.search(r"caching saves (" + NUMBER + r") %", out).group(1))
    assert 50 < saving < 100
    diff = float(re.search(r"max \|w_cached - w_classic\| = (" + NUMBER + ")", out).group(1))
    assert diff < 1e-9


def test_oja():
    out = run_example("oja.py")
    start = float(re.search(r"alignment \|cos\(w, u1\)\| = (" + NUMBER + ")", out).group(1))
    classic = table_row(out, "classic (PlainStore)")
    cached = table_row(out, "cached, neuron rule, theta=0.1, tau=inf")
    decay = table_row(out, "cached, neuron rule, theta=0.1, tau=1000")
    # total, consolidation, maintenance, minimal, inefficiency, events, |w|, alignment
    assert len(classic) == len(cached) == len(decay) == 8, out
    assert start < 0.5
    for row in (classic, cached, decay):
        assert row[7] > 0.95, out                  # found the first principal component
        assert abs(row[6] - 1.0) < 0.1, out        # Oja keeps |w| near 1
        assert row[4] >= 1.0 - 1e-9, out
    assert cached[0] < classic[0] / 5 and decay[0] < classic[0] / 5, out
    assert classic[5] == 0 and cached[5] > 0, out
    saving = float(re.search(r"saves (" + NUMBER + r") %", out).group(1))
    assert 50 < saving < 100


def test_perceptron_energy(tmp_path):
    png = tmp_path / "perceptron.png"
    out = run_example("perceptron_energy.py", "--N", "200", "--seeds", "2", "--plot", str(png))
    rows = []
    for line in out.splitlines():
        if re.match(r"\s*\d\.\d\d\s+\d+\s", line):
            values = [float(v) for v in re.findall(NUMBER, line)]
            assert all(math.isfinite(v) for v in values), line
            rows.append(values)
    # P/N, P, epochs, classic, cached, minimal, theta, ineff classic, theory, ineff cached,
    # theory, saving
    assert len(rows) == 5, out
    for r in rows:
        assert len(r) == 12, r
        assert 0 < r[5] < r[4] < r[3], r            # minimal < cached < classic
        assert r[7] > 1 and r[9] >= 1 - 1e-9, r
        assert r[8] > 1 and r[10] > 1, r            # theory
        assert r[7] / 4 < r[8] < 4 * r[7], r        # classic: the theory's magnitude
    ineff = [r[7] for r in rows]
    assert ineff == sorted(ineff), out              # grows with the load
    assert png.is_file() and png.stat().st_size > 1000


def run_notebook(name, monkeypatch, timeout=120):
    """Executes examples/NAME top to bottom on the python3 kernel (nbclient); returns the
    text of its stream outputs and the number of images it drew."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = EXAMPLES / name
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in nb.cells:  # committed with outputs cleared
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    # The kernel inherits this environment: the same syncache, and quiet about frozen
    # modules. The kernel's own matplotlib backend (inline) is kept.
    env = child_env()
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=timeout,
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    client.execute()  # raises CellExecutionError on any cell error
    text, images = [], 0
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            assert o.output_type != "error", o
            if o.output_type == "stream":
                text.append(o.text)
            if "image/png" in o.get("data", {}):
                images += 1
    return "".join(text), images


def test_tutorial_notebook(monkeypatch):
    out, images = run_notebook("tutorial.ipynb", monkeypatch)
    assert f"syncache {syncache.__version__}" in out
    assert images >= 3, out
    saving = float(re.search(r"caching saves (" + NUMBER + r") %", out).group(1))
    assert 50 < saving < 100


def test_torch_tutorial_notebook(monkeypatch):
    pytest.importorskip("torch")
    out, images = run_notebook("torch_tutorial.ipynb", monkeypatch)
    assert f"syncache {syncache.__version__}" in out
    assert images >= 1, out
    energy = re.search(r"energy: metered (" + NUMBER + r"), cached (" + NUMBER + r"), minimal ("
                       + NUMBER + r") \(metered run's minimal (" + NUMBER + r")\)", out)
    assert energy, out
    metered, cached, minimal, metered_minimal = (float(v) for v in energy.groups())
    assert 0 < minimal < cached < metered, out  # caching saves, down to no less than the minimum
    assert 0 < metered_minimal < metered, out
    saving = float(re.search(r"caching saves (" + NUMBER + r") %", out).group(1))
    assert saving == pytest.approx(100 * (1 - cached / metered), abs=0.06)
    assert 50 < saving < 100, out
    # Every tensor of the 784-64-10 network has its row, each cached below metered.
    rows = {}
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        line = next((l for l in out.splitlines() if l.startswith(name + " ")), None)
        assert line, out
        values = [float(v) for v in re.findall(NUMBER, line.split(None, 2)[2])]
        rows[name] = values  # metered, cached, maintenance, minimal, saved %
        assert 0 < values[3] <= values[1] < values[0], line
    assert sum(r[0] for r in rows.values()) == pytest.approx(metered, abs=0.05)
    assert sum(r[1] for r in rows.values()) == pytest.approx(cached, abs=0.05)
    assert "same energies True, same weights True" in out  # the checkpoint round trip
    accuracies = re.search(r"test accuracy: metered (" + NUMBER + r"), cached (" + NUMBER + ")",
                           out).groups()
    assert all(float(a) > 0.7 for a in accuracies), out  # it learnt (10 classes: 0.1 by chance)
    assert re.search(r"layer 0: classic", out) and re.search(r"layer 2: classic", out), out


def test_brian2_stdp(tmp_path):
    pytest.importorskip("brian2")
    png = tmp_path / "stdp.png"
    out = run_example("brian2_stdp.py", "--short", "--target", "numpy", "--plot", str(png),
                      timeout=300)
    # energy, minimal, consolidation, maintenance, run time
    metered = table_row(out, "metered (classic)")
    cached = table_row(out, "cached (neuron rule)")
    assert metered[1] == pytest.approx(cached[1], rel=1e-9)  # no decay: the same weights
    assert metered[1] > 0 and metered[0] > 3 * metered[1]  # STDP's changes cancel a lot
    assert metered[1] <= cached[0] < metered[0]  # caching saves, down to the minimal
    assert table_row(out, "weights metered") == table_row(out, "weights cached")
    assert png.stat().st_size > 10_000


@pytest.mark.parametrize("rule", [[], ["--rule", "neuron", "--theta", "0.05"],
                                  ["--rule", "synapse", "--theta", "0.02"]])
def test_brian2_fig2s1_replay(rule):
    pytest.importorskip("brian2")
    cli = os.environ.get("SYNCACHE", str(ROOT / "build" / "bin" / "syncache"))
    out = run_example("brian2_fig2s1.py", "--patterns", "3", "--seed", "2", "--max-rounds", "2",
                      "--syncache", cli, *rule, timeout=300)
    lines = out.splitlines()
    header = next(k for k, line in enumerate(lines) if line.startswith("trial"))
    rows = [line.split() for line in lines[header + 1:header + 4]]
    assert [r[0] for r in rows] == ["0", "1", "2"]
    assert sum(int(r[1]) for r in rows) > 0  # output spikes to compare
    assert sum(int(r[6]) for r in rows) > 0  # consolidations (classic: every change)
    for r in rows:
        assert r[2] == "True"  # the same output spike steps
        assert float(r[3]) <= 1e-9  # |dV| in mV
        assert float(r[4]) <= 1e-12 and float(r[5]) <= 1e-12  # weights, energies (relative)
        assert len(r) == 7  # no "(differ)": the same consolidation events at every step
