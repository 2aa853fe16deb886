"""Hardening of the Python surface (issue 23): stores used before construction, the
argument conversion layer, sweeps from dicts and the results store."""

import copy
import pickle

import numpy as np
import pytest

import syncache

# ---- stores whose __init__ never ran ----

# Every method and property of both stores (python/src/module.cpp, bind_store), called
# with arguments that would be valid on a constructed 2 x 3 store.
_DW = np.zeros((2, 3))
STORE_CALLS = {
    "begin_step": lambda s: s.begin_step(),
    "add": lambda s: s.add(_DW),
    "add_row": lambda s: s.add(np.zeros(3), row=0),
    "add_change": lambda s: s.add_change(np.zeros(6), np.zeros(6)),
    "apply_rule": lambda s: s.apply_rule(),
    "update": lambda s: s.update(_DW),
    "finish": lambda s: s.finish(),
    "decay": lambda s: s.decay(),
    "charge_maintenance": lambda s: s.charge_maintenance(),
    "write_weights": lambda s: s.write_weights(np.zeros(6)),
    "get_state": lambda s: s.get_state(),
    "set_state": lambda s: s.set_state({}),
    "_arguments": lambda s: s._arguments(),
    "rows": lambda s: s.rows,
    "cols": lambda s: s.cols,
    "weights": lambda s: s.weights,
    "persistent": lambda s: s.persistent,
    "transient": lambda s: s.transient,
    "energy": lambda s: s.energy,
    "repr": repr,
    "pickle": pickle.dumps,
    "deepcopy": copy.deepcopy,
}

STORE_CLASSES = [syncache.CachedStore, syncache.PlainStore,
                 syncache._core.CachedStore, syncache._core.PlainStore]


def test_the_call_table_covers_every_public_member():
    public = {n for n in dir(syncache._core.CachedStore) if not n.startswith("__")}
    assert public <= set(STORE_CALLS), public - set(STORE_CALLS)
    assert public == {n for n in dir(syncache._core.PlainStore) if not n.startswith("__")}


# pickling is the package's (its __reduce__); the core classes are not picklable at all
_PICKLING = {"pickle", "deepcopy"}


@pytest.mark.parametrize("cls, name", [
    (cls, name) for cls in STORE_CLASSES for name in STORE_CALLS
    if cls.__module__ == "syncache" or name not in _PICKLING
], ids=lambda v: v if isinstance(v, str) else v.__module__ + "." + v.__name__)
def test_a_store_used_before_construction_raises(cls, name):
    store = cls.__new__(cls)
    with pytest.raises(RuntimeError) as info:
        STORE_CALLS[name](store)
    assert type(info.value) is RuntimeError
    assert str(info.value) == f"{cls.__name__}: not initialised (its __init__ was not called)"


@pytest.mark.parametrize("cls", STORE_CLASSES[:2], ids=lambda c: c.__name__)
def test_a_store_built_after_new_works(cls):
    kw = dict(theta=1.0) if cls is syncache.CachedStore else {}
    store = cls.__new__(cls)
    cls.__init__(store, 2, 3, **kw)
    store.update(np.full((2, 3), 0.5))
    assert store.rows == 2 and store.cols == 3
    assert store.energy["classic"] == 3.0  # six changes of 0.5, alpha = 1


# ---- the argument conversion layer (syncache/_args.py, numeric_array in module.cpp) ----

_STR_ROWS = [["1", "2", "3"], ["4", "5", "6"]]


def _new(**kw):
    return syncache.CachedStore(2, 3, **{"theta": 1.0, **kw})


def _made(**kw):
    store = syncache.CachedStore(2, 3, theta=1.0)
    return lambda f: f(store)


# (call, exception class, keyword the message starts with)
BAD_ARGUMENTS = [
    # numbers
    (lambda: _new(theta=10**400), ValueError, "theta"),
    (lambda: _new(theta=-(10**400)), ValueError, "theta"),
    (lambda: _new(theta=True), TypeError, "theta"),
    (lambda: _new(theta=np.bool_(False)), TypeError, "theta"),
    (lambda: _new(theta="1"), TypeError, "theta"),
    (lambda: _new(theta=None), TypeError, "theta"),
    (lambda: _new(alpha=1 + 0j), TypeError, "alpha"),
    (lambda: _new(c=np.array([1.0])), TypeError, "c"),  # 1-d, not a scalar
    (lambda: _new(c=np.array("1")), TypeError, "c"),
    # counts
    (lambda: syncache.PlainStore(2.0, 3), TypeError, "rows"),
    (lambda: syncache.PlainStore(np.array(2.0), 3), TypeError, "rows"),
    (lambda: syncache.PlainStore(2, np.bool_(True)), TypeError, "cols"),
    (lambda: syncache.PlainStore(2, np.int8(0)), ValueError, "cols"),
    (lambda: syncache.CachedStore(2**70, 3, theta=1.0), ValueError, "rows"),
    (lambda: syncache.PlainStore(3, 2**64), ValueError, "cols"),
    # flags and texts
    (lambda: _new(rule="neu\0ron"), ValueError, "rule"),
    (lambda: syncache.perceptron(rule="neuron\0"), ValueError, "rule"),
    (lambda: _new(potentiation_only="yes"), TypeError, "potentiation_only"),
    (lambda: _new(potentiation_only=np.array(True)), TypeError, "potentiation_only"),
    (lambda: _new(rule=b"neuron"), TypeError, "rule"),
    # arrays
    (lambda: _new(initial=_STR_ROWS), TypeError, "initial"),
    (lambda: _new(initial=np.array(_STR_ROWS, dtype=object)), TypeError, "initial"),
    (lambda: _new(initial=np.zeros((2, 3), dtype=complex)), TypeError, "initial"),
    (lambda: _new(initial=np.zeros((2, 3), dtype=bool)), TypeError, "initial"),
    (lambda: _new(initial=[[0, 0, 0], [0, 0]]), TypeError, "initial"),  # ragged
    (lambda: _made()(lambda s: s.add([["1.5", "2", "3"], ["0", "0", "0"]])), TypeError, "dw"),
    (lambda: _made()(lambda s: s.add(["1.5", "2", "3"], row=0)), TypeError, "dw"),
    (lambda: _made()(lambda s: s.update(None)), TypeError, "dw"),
    (lambda: _made()(lambda s: s.add({"a": 1})), TypeError, "dw"),
    (lambda: _made()(lambda s: s.add(np.zeros((2, 3), dtype="datetime64[s]"))), TypeError, "dw"),
    (lambda: _made()(lambda s: s.set_state({**s.get_state(), "row_sum": ["0", "0"]})),
     TypeError, "state['row_sum']"),
    (lambda: _made()(lambda s: s.set_state({**s.get_state(), "persistent": _STR_ROWS})),
     TypeError, "state['persistent']"),
    (lambda: syncache.perceptron(patterns=[["1", "2"]], targets=[1]), TypeError, "patterns"),
    (lambda: syncache.perceptron(patterns=np.ones((2, 2)) * 1j, targets=[1, -1]), TypeError,
     "patterns"),
    (lambda: syncache.perceptron(patterns=np.ones((2, 2)), targets=["1", "-1"]), TypeError,
     "targets"),
    (lambda: syncache.perceptron(patterns=b"/some/file.csv", targets=[1]), TypeError, "patterns"),
    # command keywords, by the kind of their parameter table
    (lambda: syncache.perceptron(N="abc"), TypeError, "N"),
    (lambda: syncache.perceptron(N=50.0), TypeError, "N"),
    (lambda: syncache.perceptron(P=np.array(5.0)), TypeError, "P"),
    (lambda: syncache.perceptron(theta=10**400, rule="neuron"), ValueError, "theta"),
    (lambda: syncache.perceptron(eta=np.bool_(True)), TypeError, "eta"),
    (lambda: syncache.perceptron(seed=2**64), ValueError, "seed"),
    (lambda: syncache.perceptron(seed=-1), ValueError, "seed"),
    (lambda: syncache.perceptron(seed=1.0), TypeError, "seed"),
    (lambda: syncache.perceptron(zero_mean=1), TypeError, "zero_mean"),
    (lambda: syncache.perceptron(rule=3), TypeError, "rule"),
    (lambda: syncache.perceptron(patterns="bad\0name"), ValueError, "patterns"),
    (lambda: syncache.spiking(patterns="10"), TypeError, "patterns"),
    (lambda: syncache.spiking(background=None), TypeError, "background"),
    (lambda: syncache.mlp(data=None), TypeError, "data"),
    (lambda: syncache.mlp(data=123), TypeError, "data"),
    (lambda: syncache.mlp(hidden=1.5), TypeError, "hidden"),
    (lambda: syncache.mlp(lazy="no"), TypeError, "lazy"),
    (lambda: syncache.theory.perceptron(N=True, P=1), TypeError, "N"),
    (lambda: syncache.theory.perceptron(N=10, P="5"), TypeError, "P"),
    (lambda: syncache.theory.transient(theta=10**400, tau=1, p=0.5), ValueError, "theta"),
    # paths and the other keywords of figure and sweep
    (lambda: syncache.figure("fig1", out=123), TypeError, "out"),
    (lambda: syncache.figure("fig1", out=b"results"), TypeError, "out"),
    (lambda: syncache.figure("fig1", out="r", store=123), TypeError, "store"),
    (lambda: syncache.figure("fig1", out="r", threads=1.0), TypeError, "threads"),
    (lambda: syncache.figure("fig1", out="r", threads=-1), ValueError, "threads"),
    (lambda: syncache.figure("fig1", out="r", threads=2**40), ValueError, "threads"),
    (lambda: syncache.sweep(_SWEEP, threads=1025), ValueError, "threads"),
    (lambda: syncache.figure("fig1", out="r", plot=1), TypeError, "plot"),
    (lambda: syncache.sweep(b"sweep.toml"), TypeError, "spec"),
    (lambda: syncache.sweep("sweep\0.toml"), ValueError, "spec"),
    (lambda: syncache.sweep({"name": "x", "repeats": 1, "grid": {"P": [5]}}, store=123), TypeError,
     "store"),
    (lambda: syncache.sweep({"name": "x", "repeats": 1, "grid": {"P": [5]}}, threads=True),
     TypeError, "threads"),
]


@pytest.mark.parametrize("call, exc, key", BAD_ARGUMENTS,
                         ids=[f"{k}-{i}" for i, (_, _, k) in enumerate(BAD_ARGUMENTS)])
def test_bad_arguments(call, exc, key, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(exc) as info:
        call()
    assert type(info.value) is exc
    message = str(info.value)
    assert message.startswith(key + ":"), message
    assert len(message) < 120 and "\n" not in message, message
    assert not (tmp_path / "r").exists()  # refused before the output folder is made


# accepted forms: NumPy scalars and 0-d integer or float arrays as numbers and counts
def test_numpy_scalars_and_0d_arrays_are_numbers():
    a = syncache.CachedStore(np.int64(2), np.array(3), theta=np.float32(0.5), tau=np.array(10),
                             c=np.array(0.25))
    b = syncache.CachedStore(2, 3, theta=0.5, tau=10.0, c=0.25)
    assert a._arguments() == b._arguments()
    assert syncache.theory.perceptron(N=np.array(10.0), P=np.int16(5)) == \
        syncache.theory.perceptron(N=10, P=5)


def test_integer_arrays_are_numbers():
    a, b = syncache.PlainStore(2, 3), syncache.PlainStore(2, 3)
    a.add(np.array([[1, -2, 3], [0, 0, 4]], dtype=np.int8))
    b.add([[1.0, -2.0, 3.0], [0.0, 0.0, 4.0]])
    assert a.energy == b.energy and a.energy["classic"] == 10.0


def test_seed_range_is_the_documented_one():
    small = dict(N=20, P=10, max_epochs=50)
    top = syncache.perceptron(seed=2**64 - 1, **small)
    assert top["seed"] == 2**64 - 1
    assert syncache.perceptron(seed=np.uint64(2**64 - 1), **small) == top


def test_figure_out_that_cannot_be_made_names_out():
    with pytest.raises(OSError) as info:
        syncache.figure("fig1", out="/proc/x", plot=False)
    assert str(info.value).startswith("out: "), str(info.value)
    assert info.value.errno is not None


def test_unknown_figure_makes_no_folder(tmp_path):
    with pytest.raises(ValueError, match="^name: "):
        syncache.figure("nonesuch", out=tmp_path / "d")
    with pytest.raises(ValueError, match="^scale: "):
        syncache.figure("fig1", scale="huge", out=tmp_path / "d")
    assert not (tmp_path / "d").exists()


def test_sweep_file_not_utf8_names_spec(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_bytes(b'name = "x"\nrepeats = 1\n# \xff\xfe\n[grid]\nP = [5]\n')
    with pytest.raises(ValueError) as info:
        syncache.sweep(path)
    assert str(info.value).startswith("spec: "), str(info.value)
    assert "UTF-8" in str(info.value)


# ---- sweeps from dicts: keys are names, values typed; no TOML syntax gets through ----

_SWEEP = {"name": "x", "repeats": 1, "fixed": {"N": 20, "max_epochs": 50}, "grid": {"P": [5]}}


@pytest.mark.parametrize("where, key", [
    ("fixed", "N = 5\nrepeats"),
    ("fixed", "N=5"),
    ("grid", "P]\n[fixed"),
    ("grid", "a b"),
    ("grid", ""),
    ("fixed", "théta"),
    ("fixed", 'N"'),
    ("fixed", "N.x"),
    (None, "repeats = 5\n[grid]\nP"),
    (None, "fixed]\nN = 3\n[grid"),
])
def test_sweep_dict_keys_must_be_names(where, key):
    spec = {k: dict(v) if isinstance(v, dict) else v for k, v in _SWEEP.items()}
    if where is None:
        spec[key] = {"N": 1}
    else:
        spec[where][key] = 3
    with pytest.raises(ValueError) as info:
        syncache.sweep(spec)
    message = str(info.value)
    assert message.startswith((where or "spec") + ": key "), message
    assert "\n" not in message


@pytest.mark.parametrize("value", [{"a": 1}, None, b"x", 1 + 2j, [[1, 2]], [{"a": 1}],
                                   np.zeros((2, 2)), np.array(["a"], dtype=object), object()])
def test_sweep_dict_values_must_be_typed(value):
    spec = {**_SWEEP, "grid": {"P": value}}
    with pytest.raises(TypeError) as info:
        syncache.sweep(spec)
    assert str(info.value).startswith("grid.P: "), str(info.value)


def test_sweep_dict_renders_exactly_its_values():
    import tomllib
    nasty = 'a"b\\c\nd = 1\n[grid]\r\t\x00\x7f é ∞ \U0001F600'
    spec = {"name": nasty, "repeats": np.int64(2), "master_seed": 2**63 - 1,
            "fixed": {"rule": nasty, "theta": np.float32(0.5), "zero_mean": np.bool_(True),
                      "tau": float("inf")},
            "grid": {"P": np.array([5, 7]), "c": (0.0, 1e-300), "rule": ["neuron", nasty]}}
    got = tomllib.loads(syncache._toml(spec))
    assert got == {"name": nasty, "repeats": 2, "master_seed": 2**63 - 1,
                   "fixed": {"rule": nasty, "theta": 0.5, "zero_mean": True, "tau": "inf"},
                   "grid": {"P": [5, 7], "c": [0.0, 1e-300], "rule": ["neuron", nasty]}}


def test_sweep_dict_string_cannot_end_its_value():
    spec = {**_SWEEP, "name": 'x"\nrepeats = 0\nname = "y'}
    # the text stays the name: the sweep runs (repeats = 0 would be refused)
    out = syncache.sweep(spec)
    assert set(out["P"]) == {5.0} and set(out["n"]) == {1.0}  # one run, every quantity


# ---- the results store: marked, foreign files refused unchanged, stored rows checked ----

import json  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402

_APP_ID = 0x53594E43  # "SYNC", include/syncache/io/results.hpp
_RUNS = """CREATE TABLE runs (experiment TEXT NOT NULL, params TEXT NOT NULL,
  seed INTEGER NOT NULL, result TEXT NOT NULL, version TEXT NOT NULL, created TEXT NOT NULL,
  PRIMARY KEY (experiment, params, seed)) WITHOUT ROWID"""


def _sqlite(path, *statements):
    db = sqlite3.connect(path)
    for s in statements:
        db.execute(s)
    db.commit()
    db.close()


def _pragma(path, name):
    db = sqlite3.connect(path)
    try:
        return db.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        db.close()


def _refused(path, *words):
    with pytest.raises(syncache.ResultsStoreError) as info:
        syncache.sweep(_SWEEP, store=path)
    message = str(info.value)
    assert isinstance(info.value, OSError)
    assert message.startswith(f"results store {path}: "), message
    for w in words:
        assert w in message, message
    return message


def test_a_new_store_is_marked(tmp_path):
    path = tmp_path / "r.sqlite"
    syncache.sweep(_SWEEP, store=path)
    assert _pragma(path, "application_id") == _APP_ID
    assert _pragma(path, "user_version") == 1


def test_an_unmarked_syncache_store_is_accepted_and_marked(tmp_path):
    path = tmp_path / "old.sqlite"
    _sqlite(path, _RUNS, "PRAGMA user_version=1")
    assert _pragma(path, "application_id") == 0
    first = syncache.sweep(_SWEEP, store=path)
    assert _pragma(path, "application_id") == _APP_ID
    assert syncache.sweep(_SWEEP, store=path)["mean"].tolist() == first["mean"].tolist()


@pytest.mark.parametrize("statements, words", [
    (["CREATE TABLE people (name TEXT)"], ["not a syncache results store", "table people"]),
    ([_RUNS, "CREATE TABLE extra (x)"], ["table extra"]),
    (["CREATE TABLE runs (experiment TEXT, params TEXT, seed INTEGER, result TEXT)"],
     ["table runs"]),
    ([_RUNS, "CREATE VIEW v AS SELECT 1"], ["view v"]),
    (["PRAGMA application_id=1234"], ["application_id 0x000004D2"]),
    ([_RUNS, "PRAGMA user_version=1", "PRAGMA application_id=-1"], ["application_id 0xFFFFFFFF"]),
])
def test_a_foreign_sqlite_file_is_refused_unchanged(tmp_path, statements, words):
    path = tmp_path / "other.sqlite"
    _sqlite(path, *statements)
    before = path.read_bytes()
    _refused(path, *words)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["other.sqlite"]  # no journal, WAL or table left


def test_store_problems_are_results_store_errors(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    _refused(folder, "cannot open")
    text = tmp_path / "notes.txt"
    text.write_text("these are notes, not a database, but long enough for a header" * 3)
    before = text.read_bytes()
    _refused(text, "not a database")
    assert text.read_bytes() == before
    newer = tmp_path / "newer.sqlite"
    _sqlite(newer, _RUNS, "PRAGMA user_version=2", f"PRAGMA application_id={_APP_ID}")
    _refused(newer, "schema version 2 is newer")


def test_figure_refuses_a_foreign_store(tmp_path):
    path = tmp_path / "other.sqlite"
    _sqlite(path, "CREATE TABLE people (name TEXT)")
    with pytest.raises(syncache.ResultsStoreError, match="not a syncache results store"):
        syncache.figure("fig1", out=tmp_path / "out", store=path, plot=False)


def _corrupt(path, change):
    db = sqlite3.connect(path)
    rows = db.execute("SELECT params, seed, result FROM runs").fetchall()
    assert len(rows) == 1
    params, seed, result = rows[0]
    db.execute("UPDATE runs SET result=?", (change(json.loads(result)),))
    db.commit()
    db.close()
    return params, seed


def _without(key):
    def f(r):
        r.pop(key)
        return json.dumps(r)
    return f


def _energy(key, value):
    def f(r):
        r["energy"][key] = value
        return json.dumps(r)
    return f


@pytest.mark.parametrize("change, words", [
    (lambda r: "{}", ["missing 'converged'"]),
    (lambda r: "[]", ["not a JSON object"]),
    (lambda r: "null", ["not a JSON object"]),
    (_without("energy"), ["missing 'energy'"]),
    (_without("inefficiency"), ["missing 'inefficiency'"]),
    (_energy("total", "84"), ["'total' is not a number"]),
    (lambda r: json.dumps({**r, "converged": 1}), ["'converged' is not true or false"]),
    (lambda r: json.dumps({**r, "epochs": 2.5}), ["'epochs' is not an integer"]),
    (lambda r: json.dumps({**r, "energy": [1]}), ["'energy' is not an object"]),
    (lambda r: json.dumps({**r, "inefficiency": "x"}), ["'inefficiency' is not a number"]),
])
def test_a_bad_stored_run_names_the_store_and_the_run(tmp_path, change, words):
    path = tmp_path / "r.sqlite"
    spec = {**_SWEEP, "fixed": {"N": 20, "max_epochs": 50}}
    syncache.sweep(spec, store=path)
    params, seed = _corrupt(path, change)
    message = _refused(path, "stored run perceptron", f"seed {seed}", *words)
    assert params[:40] in message
    assert "json.exception" not in message


def test_a_stored_run_read_back_is_the_same(tmp_path):
    path = tmp_path / "r.sqlite"
    first = syncache.sweep(_SWEEP, store=path)
    _corrupt(path, json.dumps)  # rewritten unchanged: still valid
    again = syncache.sweep(_SWEEP, store=path)
    assert {k: v.tolist() for k, v in again.items()} == {k: v.tolist() for k, v in first.items()}
