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
