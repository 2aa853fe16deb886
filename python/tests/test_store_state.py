"""Checkpoints of the stores (get_state / set_state / pickling), writing w = l + s into a
caller's buffer (write_weights), the two halves of begin_step (decay, charge_maintenance),
and MNIST through syncache's IDX reader (syncache.mnist.load).

Expected values come from the stores' documented semantics (test_store.py's docstring)
or from a second store driven without interruption, never from the code under test's
own output for the same call.
"""

import math
import os
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import syncache

MNIST = syncache.mnist.default_folder()  # filled by scripts/bootstrap
FLOAT_KEYS = ("classic", "consolidation", "maintenance", "change", "pending", "total", "minimal")


def _cached(**kw):
    args = dict(rule="neuron", theta=0.7, tau=5.0, c=0.01, b=0.1, decay="exponential")
    args.update(kw)
    return syncache.CachedStore(3, 4, **args)


def _drive(store, changes):
    """The MNIST network's order per step: add, apply_rule, maintenance, decay."""
    for dw in changes:
        store.add(dw)
        store.apply_rule()
        store.charge_maintenance()
        store.decay()


def _changes(seed, steps, shape=(3, 4)):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.3, size=shape) for _ in range(steps)]


def _same(a, b):
    assert a.energy == b.energy
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.transient, b.transient)
    np.testing.assert_array_equal(a.persistent, b.persistent)


@settings(max_examples=40, deadline=None, database=None)
@given(seed=st.integers(0, 2**32 - 1), split=st.integers(0, 12),
       rule=st.sampled_from(["synapse", "neuron", "sum", "layer"]),
       decay=st.sampled_from(["linear", "exponential"]),
       alpha=st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_restored_state_continues_bit_for_bit(seed, split, rule, decay, alpha):
    changes = _changes(seed, 12)
    initial = np.random.default_rng(seed + 1).normal(size=(3, 4))
    kw = dict(rule=rule, decay=decay, alpha=alpha, initial=initial)
    whole = _cached(**kw)
    _drive(whole, changes)
    first = _cached(**kw)
    _drive(first, changes[:split])
    # a fresh store with other starting weights takes the whole state over
    resumed = _cached(**dict(kw, initial=None))
    resumed.set_state(first.get_state())
    _drive(resumed, changes[split:])
    _same(whole, resumed)
    whole.finish()
    resumed.finish()
    _same(whole, resumed)


def test_state_holds_the_documented_values():
    store = _cached(rule="synapse", theta=0.5, tau=3.0)
    dw = np.array([[0.25, -0.75, 0.0, 0.125], [0.0, 0.0, 0.0, 0.0], [-0.5, 0.5, 0.25, 0.0]])
    store.add(dw)
    store.apply_rule()
    store.decay()
    state = store.get_state()
    # |-0.75| > 0.5 consolidated alone; the rest stays transient and decayed by exp(-1/3)
    l = np.zeros((3, 4))
    l[0, 1] = -0.75
    np.testing.assert_array_equal(state["persistent"], l)
    s = np.where(l == 0, dw, 0.0) * math.exp(-1 / 3)
    np.testing.assert_allclose(state["gain"] * state["scaled_transient"], s, rtol=1e-15)
    np.testing.assert_array_equal(state["row_max"], np.abs(state["scaled_transient"]).max(axis=1))
    np.testing.assert_allclose(state["row_sum"], np.abs(state["scaled_transient"]).sum(axis=1))
    assert state["energy"]["consolidation"] == 0.75
    assert state["energy"]["classic"] == np.abs(dw).sum()
    assert state["consolidation_events"] == 1
    np.testing.assert_array_equal(state["initial"], np.zeros((3, 4)))


def test_plain_state_round_trip():
    changes = _changes(7, 6)
    whole = syncache.PlainStore(3, 4, alpha=0.5)
    for dw in changes:
        whole.add(dw)
    first = syncache.PlainStore(3, 4, alpha=0.5)
    for dw in changes[:2]:
        first.add(dw)
    state = first.get_state()
    assert set(state) == {"weights", "energy", "initial"}
    resumed = syncache.PlainStore(3, 4, alpha=0.5)
    resumed.set_state(state)
    for dw in changes[2:]:
        resumed.add(dw)
    _same(whole, resumed)


@pytest.mark.parametrize("make", [lambda: _cached(), lambda: syncache.PlainStore(3, 4, alpha=2.0)],
                         ids=["cached", "plain"])
def test_pickle_continues_bit_for_bit(make):
    changes = _changes(3, 8)
    whole, first = make(), make()
    _drive(whole, changes)
    _drive(first, changes[:3])
    resumed = pickle.loads(pickle.dumps(first))
    assert type(resumed) is type(first)
    assert repr(resumed) == repr(first)
    _drive(resumed, changes[3:])
    _same(whole, resumed)


def _state_with(store, **changes):
    state = store.get_state()
    for key, value in changes.items():
        if key.startswith("energy."):
            state["energy"] = dict(state["energy"], **{key[7:]: value})
        elif value is None:
            del state[key]
        else:
            state[key] = value
    return state


def _decayed():
    store = _cached()
    _drive(store, _changes(1, 3))
    return store


BAD_STATES = [
    (lambda s: [], TypeError, "state"),
    (lambda s: _state_with(s, gain=None), ValueError, "state"),
    (lambda s: _state_with(s, gain=0.0), ValueError, "state['gain']"),
    (lambda s: _state_with(s, gain=math.inf), ValueError, "state['gain']"),
    (lambda s: _state_with(s, gain="1"), TypeError, "state['gain']"),
    (lambda s: _state_with(s, persistent=np.zeros((4, 3))), ValueError, "state['persistent']"),
    (lambda s: _state_with(s, scaled_transient=np.full((3, 4), math.nan)), ValueError,
     "state['scaled_transient']"),
    (lambda s: _state_with(s, row_max=np.zeros(3) + 5.0), ValueError, "state['row_max']"),
    (lambda s: _state_with(s, row_sum=np.zeros(3) + 5.0), ValueError, "state['row_sum']"),
    (lambda s: _state_with(s, row_sum=np.zeros(4)), ValueError, "state['row_sum']"),
    (lambda s: _state_with(s, **{"energy.classic": -1.0}), ValueError,
     "state['energy']['classic']"),
    (lambda s: _state_with(s, consolidation_events=-1), ValueError,
     "state['consolidation_events']"),
    (lambda s: _state_with(s, consolidation_events=1.5), TypeError,
     "state['consolidation_events']"),
    (lambda s: _state_with(s, initial=np.zeros(12)), ValueError, "state['initial']"),
]


@pytest.mark.parametrize("make_state, exc, key", BAD_STATES,
                         ids=[f"{i}-{k}" for i, (_, _, k) in enumerate(BAD_STATES)])
def test_bad_state_is_refused_and_leaves_the_store(make_state, exc, key):
    store = _decayed()
    before = store.get_state()
    energy = store.energy
    with pytest.raises(exc) as info:
        store.set_state(make_state(store))
    assert type(info.value) is exc
    assert str(info.value).startswith(key), str(info.value)
    assert store.energy == energy
    np.testing.assert_array_equal(store.get_state()["scaled_transient"],
                                  before["scaled_transient"])


def test_write_weights_into_float64_and_float32_buffers():
    store = _decayed()
    w = store.persistent + store.transient  # w = l + s
    out = np.full((3, 4), math.nan)
    store.write_weights(out)
    np.testing.assert_array_equal(out, store.weights)
    np.testing.assert_allclose(out, w, rtol=1e-15)
    out32 = np.zeros((2, 6), dtype=np.float32)  # any shape of rows * cols values
    store.write_weights(out32)
    np.testing.assert_array_equal(out32, store.weights.astype(np.float32).reshape(2, 6))
    plain = syncache.PlainStore(3, 4, initial=w)
    out4 = np.zeros((3, 2, 2, 1))
    plain.write_weights(out4)
    np.testing.assert_array_equal(out4.reshape(3, 4), w)


BAD_OUT = [
    (lambda: [0.0] * 12, TypeError),
    (lambda: np.zeros((3, 4), dtype=np.int64), TypeError),
    (lambda: np.zeros((3, 4), dtype=np.float16), TypeError),
    (lambda: np.zeros((3, 5)), ValueError),
    (lambda: np.zeros((4, 3)).T, ValueError),  # not C-contiguous
    (lambda: np.zeros((3, 8))[:, ::2], ValueError),
    (lambda: np.lib.stride_tricks.as_strided(np.zeros(12), writeable=False), ValueError),
]


@pytest.mark.parametrize("make_out, exc", BAD_OUT)
@pytest.mark.parametrize("kind", ["cached", "plain"])
def test_bad_out_is_refused(make_out, exc, kind):
    store = _decayed() if kind == "cached" else syncache.PlainStore(3, 4)
    out = make_out()
    before = np.array(out, copy=True)
    with pytest.raises(exc) as info:
        store.write_weights(out)
    assert str(info.value).startswith("out:"), str(info.value)
    np.testing.assert_array_equal(np.asarray(out), before)


def test_decay_and_maintenance_halves():
    tau, c = 4.0, 0.5
    dw = np.array([[0.25, -0.5, 0.0, 0.0], [0.0] * 4, [0.0, 0.0, 0.125, 0.0]])
    a = _cached(theta=math.inf, tau=tau, c=c, b=0.0)
    a.add(dw)
    a.apply_rule()
    a.charge_maintenance()  # c sum|s| before the decay
    a.decay()
    assert a.energy["maintenance"] == c * 0.875
    np.testing.assert_allclose(a.transient, dw * math.exp(-1 / tau), rtol=1e-15)
    # begin_step is decay then maintenance: c sum|s| after the decay
    b = _cached(theta=math.inf, tau=tau, c=c, b=0.0)
    b.add(dw)
    b.apply_rule()
    b.begin_step()
    assert b.energy["maintenance"] == pytest.approx(c * 0.875 * math.exp(-1 / tau), rel=1e-15)
    p = syncache.PlainStore(3, 4)  # a plain store has nothing to decay or maintain
    p.add(dw)
    p.decay()
    p.charge_maintenance()
    assert p.energy["maintenance"] == 0.0
    np.testing.assert_array_equal(p.weights, dw)


def _idx(path, offset):
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def test_mnist_load_matches_the_idx_files():
    d = syncache.mnist.load(MNIST, train=7, test=5)
    assert d["train_images"].shape == (7, 784) and d["train_images"].dtype == np.float32
    assert d["test_images"].shape == (5, 784) and d["test_labels"].dtype == np.uint8
    # the IDX layout: 16 header bytes before the images, 8 before the labels
    raw = _idx(os.path.join(MNIST, "train-images-idx3-ubyte"), 16)[:7 * 784].reshape(7, 784)
    np.testing.assert_array_equal(d["train_images"], raw.astype(np.float32) / np.float32(255))
    labels = _idx(os.path.join(MNIST, "t10k-labels-idx1-ubyte"), 8)[:5]
    np.testing.assert_array_equal(d["test_labels"], labels)


@pytest.mark.parametrize("kw, exc, key", [
    (dict(folder="/no/such/folder"), FileNotFoundError, "folder"),
    (dict(train=-1), ValueError, "train"),
    (dict(test=1.5), TypeError, "test"),
    (dict(train=True), TypeError, "train"),
])
def test_mnist_bad_arguments(kw, exc, key):
    kw = dict(dict(folder=MNIST, train=1, test=1), **kw)
    with pytest.raises(exc) as info:
        syncache.mnist.load(kw.pop("folder"), **kw)
    assert str(info.value).startswith(key + ":"), str(info.value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["cached", "plain"])
def test_add_change_adds_new_minus_old_in_double(dtype, kind):
    rng = np.random.default_rng(5)
    old = rng.normal(size=(3, 4)).astype(dtype)
    new = (old + rng.normal(0, 0.3, size=(3, 4))).astype(dtype)
    make = (lambda: _cached()) if kind == "cached" else (lambda: syncache.PlainStore(3, 4))
    a, b = make(), make()
    a.add_change(new.reshape(12), old)  # any shape of rows * cols values
    b.add(new.astype(np.float64) - old.astype(np.float64))  # the difference, exact in double
    _same(a, b)


@pytest.mark.parametrize("args, exc, key", [
    ((np.full((3, 4), np.nan), np.zeros((3, 4))), ValueError, "new"),
    ((np.zeros((3, 4)), np.full((3, 4), np.inf, dtype=np.float32)), ValueError, "old"),
    ((np.zeros((3, 4)), np.zeros((3, 4), dtype=np.int32)), TypeError, "old"),
    ((np.zeros((3, 3)), np.zeros((3, 4))), ValueError, "new"),
    ((np.zeros((4, 3)).T, np.zeros((3, 4))), ValueError, "new"),
    (([0.0] * 12, np.zeros((3, 4))), TypeError, "new"),
])
def test_add_change_bad_input_adds_nothing(args, exc, key):
    store = _decayed()
    energy = store.energy
    with pytest.raises(exc) as info:
        store.add_change(*args)
    assert str(info.value).startswith(key + ":"), str(info.value)
    assert store.energy == energy
