"""Every command of the package returns what the command line prints for the same
arguments; bad arguments raise the right exception naming the keyword; Ctrl-C stops a
long call within about a second and leaves the results store consistent."""

import csv
import io
import json
import math
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import syncache

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("SYNCACHE", os.path.join(ROOT, "build", "bin", "syncache"))
MNIST = syncache.mnist.default_folder()  # filled by scripts/bootstrap


def cli(*args, cwd=None):
    out = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return out.stdout


def cli_json(*args):
    return infinite(json.loads(cli(*args)))


def infinite(value):
    """The CLI writes infinity as the string "inf"; the package returns math.inf."""
    if isinstance(value, dict):
        return {k: infinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [infinite(v) for v in value]
    return math.inf if value == "inf" else value


def options(**kw):
    args = []
    for key, value in kw.items():
        option = "--" + key if len(key) == 1 else "--" + key.replace("_", "-")
        if value is True:
            args.append(option)
        else:
            args += [option, "inf" if value == math.inf else value]
    return args


# ---- the same results as the command line ----


@pytest.mark.parametrize("kw", [
    dict(N=200, P=200, seed=3),
    dict(N=150, P=220, seed=5, rule="neuron", theta=4.0),
    dict(N=100, P=120, seed=2, rule="synapse", theta=2.5, tau=200.0, c=0.01, b=0.1),
    dict(N=100, P=100, seed=9, rule="sum", theta=30.0, alpha=2.0, eta=0.5),
    dict(N=80, P=60, seed=4, zero_mean=True, potentiation_only=True),
])
def test_perceptron_equals_cli(kw):
    assert syncache.perceptron(**kw) == cli_json("perceptron", *options(**kw))


def test_perceptron_arrays_equal_a_pattern_file(tmp_path):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 25))
    d = np.where(rng.random(40) < 0.5, -1.0, 1.0)
    path = tmp_path / "patterns.csv"
    with open(path, "w") as f:
        for row, t in zip(x, d):
            f.write(",".join(repr(float(v)) for v in row) + f",{int(t)}\n")
    kw = dict(rule="neuron", theta=1.5)
    from_arrays = syncache.perceptron(patterns=x, targets=d, **kw)
    assert from_arrays == syncache.perceptron(patterns=str(path), **kw)
    assert from_arrays == cli_json("perceptron", "--patterns", path, *options(**kw))
    assert (from_arrays["N"], from_arrays["P"]) == (25, 40)


def test_spiking_equals_cli():
    kw = dict(patterns=20, seed=2, rule="synapse", theta=0.5, tau=100.0, max_rounds=30)
    assert syncache.spiking(**kw) == cli_json("spiking", *options(**kw))


@pytest.mark.parametrize("kw", [dict(N=1000, P=1500), dict(N=500, P=100, c=0.01, eta=0.5)])
def test_theory_perceptron_equals_cli(kw):
    got = syncache.theory.perceptron(**kw)
    assert got == cli_json("theory", "perceptron", *options(**kw))
    # Eq. 3 by hand: sqrt(pi P) / (2 - P/N).
    N, P = kw["N"], kw["P"]
    assert got["inefficiency"] == pytest.approx(math.sqrt(math.pi * P) / (2 - P / N), rel=1e-12)


@pytest.mark.parametrize("kw", [dict(theta=2.0, tau=math.inf, p=0.3, eta=0.5, N=100, c=0.1),
                                dict(theta=1.0, tau=50.0, p=0.5)])
def test_theory_transient_equals_cli(kw):
    assert syncache.theory.transient(**kw) == cli_json("theory", "transient", *options(**kw))


def test_mlp_equals_cli():
    kw = dict(hidden=20, train_limit=600, test_limit=200, epochs=1, eval_every=200,
              rule="neuron", theta=0.1, seed=3)
    got = syncache.mlp(data=MNIST, **kw)
    rows = list(csv.DictReader(io.StringIO(cli("mlp", "--data", MNIST, *options(**kw)))))
    assert list(got) == list(rows[0])
    assert all(len(v) == len(rows) for v in got.values())
    assert got["samples"].dtype == np.int64 and got["accuracy"].dtype == np.float64
    for name, column in got.items():
        # The CLI writes shortest round-trip numbers: parsing them gives the same doubles.
        assert column.tolist() == [type(column[0].item())(r[name]) for r in rows], name


@pytest.mark.skipif(not os.path.isdir(MNIST), reason="MNIST not fetched (scripts/bootstrap)")
def test_mlp_keep_per_layer_equals_cli():
    # keep=(hidden, output) is --keep F0,F1; F = 1 leaves all 10 x 20 output synapses
    # changing on each of the 200 samples.
    kw = dict(hidden=20, train_limit=200, test_limit=100, epochs=1, eval_every=200,
              restrict="neuron", keep_rounding="authors")
    got = syncache.mlp(data=MNIST, keep=(0.3, 1), **kw)
    rows = list(csv.DictReader(io.StringIO(
        cli("mlp", "--data", MNIST, "--keep", "0.3,1", *options(**kw)))))
    assert got["output_updates"].tolist() == [int(r["output_updates"]) for r in rows] == [40000]
    assert got["hidden_updates"].tolist() == [int(r["hidden_updates"]) for r in rows]


def test_sweep_dict_equals_cli_file(tmp_path):
    spec = {"name": "small", "repeats": 2, "master_seed": 5,
            "fixed": {"N": 60, "rule": "neuron", "theta": 3.0, "max_epochs": 2000},
            "grid": {"P": [30, 90], "c": [0.0, 0.01]}}
    got = syncache.sweep(spec)
    text = ('name = "small"\nrepeats = 2\nmaster_seed = 5\n[fixed]\nN = 60\nrule = "neuron"\n'
            'theta = 3.0\nmax_epochs = 2000\n[grid]\nP = [30, 90]\nc = [0.0, 0.01]\n')
    path = tmp_path / "small.toml"
    path.write_text(text)
    assert_columns_equal(got, syncache.sweep(str(path)))
    rows = [r for r in csv.reader(io.StringIO(cli("sweep", path, "--store", "none")))
            if not r[0].startswith("#")]
    assert list(got) == rows[0]
    for k, name in enumerate(rows[0]):
        values = [r[k] for r in rows[1:]]
        if got[name].dtype.kind == "f":
            assert got[name].tolist() == [float(v) for v in values], name
        else:
            assert got[name].tolist() == values, name


def assert_columns_equal(a, b):
    assert list(a) == list(b)
    for name in a:
        assert a[name].tolist() == b[name].tolist(), name


def test_figure_writes_the_cli_csv(tmp_path):
    path = syncache.figure("fig2a", out=tmp_path / "py", plot=False, store=None)
    assert path == os.path.join(str(tmp_path / "py"), "fig2a.csv")
    cli("figure", "fig2a", "--out", tmp_path / "cli", "--no-plot", "--store", "none")
    ours = [l for l in open(path) if not l.startswith("#")]
    theirs = [l for l in open(tmp_path / "cli" / "fig2a.csv") if not l.startswith("#")]
    assert ours == theirs and len(ours) > 1


def test_nothing_on_stdout(capfd, tmp_path):
    syncache.perceptron(N=50, P=50)
    syncache.theory.perceptron(N=10, P=5)
    syncache.sweep({"name": "q", "repeats": 1, "fixed": {"N": 20, "max_epochs": 100},
                    "grid": {"P": [10]}})
    syncache.figure("fig2a", out=tmp_path, plot=False, store=None)
    assert capfd.readouterr().out == ""


# ---- bad arguments ----


@pytest.mark.parametrize("call, kw, exc, key", [
    (syncache.perceptron, dict(N=0), ValueError, "N"),
    (syncache.perceptron, dict(P=-3), ValueError, "P"),
    (syncache.perceptron, dict(theta=-1, rule="neuron"), ValueError, "theta"),
    (syncache.perceptron, dict(rule="bogus"), ValueError, "rule"),
    (syncache.perceptron, dict(alpha=7), ValueError, "alpha"),
    (syncache.perceptron, dict(eta=math.nan), ValueError, "eta"),
    (syncache.perceptron, dict(max_epochs=1.5), TypeError, "max_epochs"),
    (syncache.perceptron, dict(N="many"), TypeError, "N"),
    (syncache.perceptron, dict(N=None), TypeError, "N"),
    (syncache.perceptron, dict(nonsense=1), ValueError, "nonsense"),
    (syncache.perceptron, dict(N=2**70), ValueError, "N"),
    (syncache.perceptron, dict(tau=0.5, rule="neuron", theta=1), ValueError, "tau"),
    (syncache.perceptron, dict(patterns=np.ones((3, 2)), targets=np.array([1, 0, 1])),
     ValueError, "targets"),
    (syncache.perceptron, dict(patterns=np.ones((3, 2)), targets=np.ones(2)), ValueError, "targets"),
    (syncache.perceptron, dict(patterns=np.ones((3, 2))), ValueError, "targets"),
    (syncache.perceptron, dict(targets=np.ones(3)), ValueError, "patterns"),
    (syncache.perceptron, dict(patterns=np.ones((3, 2)), targets=np.ones(3), N=5),
     ValueError, "N"),
    (syncache.perceptron, dict(patterns=[[1, math.inf]], targets=[1]), ValueError, "patterns"),
    (syncache.perceptron, dict(patterns="/no/such/file.csv"), FileNotFoundError, "patterns"),
    (syncache.spiking, dict(patterns=0), ValueError, "patterns"),
    (syncache.spiking, dict(rule="layer", theta=1), ValueError, "rule"),
    (syncache.spiking, dict(background="loud"), ValueError, "background"),
    (syncache.theory.perceptron, dict(N=10), ValueError, "P"),
    (syncache.theory.perceptron, dict(N=10, P=20), ValueError, "P"),
    (syncache.theory.perceptron, dict(N=-1, P=1), ValueError, "N"),
    (syncache.theory.perceptron, dict(N=10, P=5, c=-1), ValueError, "c"),
    (syncache.theory.transient, dict(theta=0, tau=1, p=0.5), ValueError, "theta"),
    (syncache.theory.transient, dict(theta=1, tau=1, p=2), ValueError, "p"),
    (syncache.mlp, dict(data="/no/such/folder"), FileNotFoundError, "data"),
    (syncache.mlp, dict(hidden=0), ValueError, "hidden"),
    (syncache.mlp, dict(epochs=0), ValueError, "epochs"),
    (syncache.mlp, dict(train_limit=-1), ValueError, "train_limit"),
    (syncache.mlp, dict(bogus=1), ValueError, "bogus"),
    (syncache.sweep, dict(spec="/no/such.toml"), FileNotFoundError, "spec"),
    (syncache.sweep, dict(spec=42), TypeError, "spec"),
    (syncache.sweep, dict(spec={"name": "x", "repeats": 1, "grid": {}}), ValueError, "grid"),
    (syncache.sweep, dict(spec={"name": "x", "repeats": 0, "grid": {"P": [1]}}), ValueError,
     "repeats"),
    (syncache.sweep, dict(spec={"name": "x", "repeats": 1, "grid": {"P": [5]}}, threads=-1),
     ValueError, "threads"),
    (syncache.figure, dict(name="fig99"), ValueError, "name"),
    (syncache.figure, dict(name="fig1", scale="huge"), ValueError, "scale"),
])
def test_bad_arguments_name_their_keyword(call, kw, exc, key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # figure() makes its output folder here
    with pytest.raises(exc) as err:
        call(**kw)
    message = str(err.value)
    assert key in message.split(":")[0] or f"'{key}'" in message, message
    assert "--" not in message.split(":")[0], message  # never a command-line spelling
    assert len(message) < 300 and "\n" not in message, message


# ---- Ctrl-C ----


def interrupt_after(seconds):
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_stops_a_long_perceptron():
    # N = 3000 and P = 5900 (load 1.97) take many minutes to learn.
    timer = interrupt_after(0.5)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        syncache.perceptron(N=3000, P=5900, max_epochs=10**9)
    timer.join()
    assert time.monotonic() - start < 10  # generous: the check comes once per epoch
    # The library works normally afterwards (the interrupt request was cleared).
    assert syncache.perceptron(N=50, P=50)["converged"]


def test_ctrl_c_leaves_the_store_consistent(tmp_path):
    store = tmp_path / "runs.sqlite"
    spec = {"name": "long", "repeats": 6, "master_seed": 2,
            "fixed": {"N": 400, "max_epochs": 100000}, "grid": {"P": [700, 760, 780]}}
    timer = interrupt_after(1.0)
    with pytest.raises(KeyboardInterrupt):
        syncache.sweep(spec, threads=2, store=store)
    timer.join()
    # A repeated call resumes from the store and gives what a fresh computation gives.
    resumed = syncache.sweep(spec, threads=2, store=store)
    assert_columns_equal(resumed, syncache.sweep(spec, threads=2))


# ---- one description per model: keywords, options and TOML keys cannot drift apart ----


def help_options(*command):
    text = cli(*command, "--help")
    names = set()
    for line in text.splitlines():
        for word in line.split():
            if word.startswith("--") and len(word) > 2:
                names.add(word[2:].rstrip(",").split("=")[0].replace("-", "_"))
    return names - {"help", "record"}


@pytest.mark.parametrize("command, tables", [
    (("perceptron",), ["perceptron"]),
    (("spiking",), ["spiking"]),
    (("mlp",), ["mlp", "training", "mlp_data"]),
    (("theory", "perceptron"), ["theory_perceptron"]),
    (("theory", "transient"), ["theory_transient"]),
])
def test_keywords_are_the_command_line_options(command, tables):
    keywords = {row[0] for t in tables for row in syncache._core.tables[t]}
    assert keywords == help_options(*command)


@pytest.mark.parametrize("row", syncache._core.tables["perceptron"], ids=lambda r: r[0])
def test_every_perceptron_keyword_is_read_and_checked(row):
    name, kind = row[0], row[1]
    bad, exc = {"integer": (-5, ValueError), "seed": (-1, ValueError), "real": ("x", TypeError),
                "flag": ("x", TypeError), "text": ("", (ValueError, FileNotFoundError))}[kind]
    with pytest.raises(exc) as err:
        syncache.perceptron(**{name: bad})
    assert str(err.value).startswith(name + ":"), str(err.value)
