"""Tests of syncache.brian2 on Brian2's numpy target (no compiler needed).

What a check does (docs/brian2.md), restated independently of the code under test: the
check at time m*every (at the start of that time step) takes the net change of each
synapse made by the steps in [(m - 1)*every, m*every); a run of T makes T/every checks
(m = 0 ... T/every - 1; the first takes nothing), and finish() makes the check m = T/every,
then consolidates everything. A check on the store is begin_step, add(dw), apply_rule.
Rows are the postsynaptic neurons, a row holding its synapses in synapse order.

Run:  PYTHONPATH=build/python /usr/bin/python3 -m pytest -q python/tests/test_brian2.py
"""

import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

brian2 = pytest.importorskip("brian2")
from brian2 import (NeuronGroup, Network, SpikeGeneratorGroup, SpikeMonitor,  # noqa: E402
                    Synapses, mV, ms, nS, prefs)

import syncache  # noqa: E402
import syncache.brian2 as sb  # noqa: E402

prefs.codegen.target = "numpy"

DT = 0.1  # ms, Brian2's default
A = 0.25  # what on_pre adds: a power of two, so that sums of changes are exact


def spikes(n, t_end, seed):
    """A few spikes of n inputs at whole steps in [0, t_end) ms."""
    rng = np.random.default_rng(seed)
    steps = int(round(t_end / DT))
    idx, times = [], []
    for k in range(n):
        for s in sorted(rng.choice(steps, size=rng.integers(2, 8), replace=False)):
            idx.append(k)
            times.append(s * DT)
    return np.array(idx), np.array(times) * ms


def network(pre, post, i=None, j=None, p=None, seed=1, w0=0.5, model="w : 1",
            on_pre=f"w += {A}", t_end=5.0):
    inputs = SpikeGeneratorGroup(pre, *spikes(pre, t_end, seed))
    neurons = NeuronGroup(post, "v : 1")
    S = Synapses(inputs, neurons, model, on_pre=on_pre)
    if p is None:
        S.connect(i=i, j=j)
    else:
        brian2.seed(seed)
        S.connect(p=p)
    S.w = w0
    return inputs, neurons, S


def interval_changes(S, monitor, every, checks, per_spike=A):
    """dw[m, k]: what on_pre added to synapse k in [(m-1) every, m every), from the
    monitor's spikes (the test's own count, not the adapter's)."""
    per = int(round(every / DT))
    step = np.round(np.asarray(monitor.t / ms) / DT).astype(int)
    m = step // per + 1
    counts = np.zeros((checks, monitor.source.N))
    np.add.at(counts, (m, np.asarray(monitor.i)), 1)
    return counts[:, np.asarray(S.i[:])] * per_spike


def rows_by_post(S):
    """(row, column) of each synapse: row j, columns in synapse order."""
    j = np.asarray(S.j[:])
    seen, where = {}, []
    for r in j:
        where.append((r, seen.get(r, 0)))
        seen[r] = seen.get(r, 0) + 1
    return where, max(seen.values())


def by_hand(S, dw, store):
    """Drives `store` with the changes dw[m] (one check each), then finish()."""
    where, _ = rows_by_post(S)
    for change in dw:
        dense = np.zeros((store.rows, store.cols))
        for k, (r, col) in enumerate(where):
            dense[r, col] = change[k]
        store.begin_step()
        store.add(dense)
        store.apply_rule()
    store.finish()
    return np.array([store.weights[r, col] for r, col in where])


def run(S, st, T, *others):
    monitor = SpikeMonitor(S.source)
    Network(S.source, S.target, S, st, monitor, *others).run(T * ms)
    return monitor


I = [0, 0, 1, 2, 2, 2, 3]  # multisynapses 0 -> 0; post 2 has no synapse
J = [0, 0, 1, 1, 3, 0, 3]


@pytest.mark.parametrize("rule", ["synapse", "neuron", "sum", "layer"])
def test_equals_a_store_driven_by_hand(rule):
    T, every = 5.0, 0.5
    _, _, S = network(4, 4, I, J, w0=np.array([0.5, -0.25, 0.0, 1.0, 0.75, 0.125, -1.0]))
    w0 = np.array(S.w[:])
    kw = dict(rule=rule, theta=0.6, c=0.5, b=0.25, alpha=1.0, decay="linear")
    st = sb.attach(S, "w", tau=2 * ms, every=every * ms, **kw)
    monitor = run(S, st, T)
    assert st.checks == int(T / every)
    st.finish()
    dw = interval_changes(S, monitor, every, int(T / every) + 1)
    _, cols = rows_by_post(S)
    kw["c"] = 0.5 * every  # per ms -> per check
    # tau = 2 ms = 4 checks; the same starting weights, without energy
    store = syncache.CachedStore(4, cols, tau=4.0, initial=_dense(S, w0, 4, cols), **kw)
    expected = by_hand(S, dw, store)
    assert dw[1:].sum() > 0 and store.energy["consolidation_events"] > 0  # something happened
    np.testing.assert_array_equal(np.asarray(S.w[:]), expected)
    assert st.energy == store.energy
    assert set(st.energy) == set(syncache.CachedStore(1, 1, theta=1).energy)


def _dense(S, values, rows, cols):
    where, _ = rows_by_post(S)
    out = np.zeros((rows, cols))
    for k, (r, col) in enumerate(where):
        out[r, col] = values[k]
    return out


def test_theta_zero_is_classic_metering():
    T, every = 5.0, 1.0
    _, _, S = network(4, 4, I, J, w0=0.0)
    st = sb.attach(S, "w", rule="neuron", theta=0, tau=3 * ms, c=0.5, every=every * ms)
    monitor = run(S, st, T)
    st.finish()
    dw = interval_changes(S, monitor, every, int(T / every) + 1)
    expected = np.abs(dw).sum()  # sum over checks and synapses of |net change|
    e = st.energy
    assert expected > 0
    assert e["classic"] == e["consolidation"] == e["total"] == expected
    assert e["maintenance"] == 0 and e["pending"] == 0
    np.testing.assert_array_equal(np.asarray(S.w[:]), dw.sum(axis=0))
    # rule="classic": a PlainStore, the same metering
    _, _, S2 = network(4, 4, I, J, w0=0.0)
    plain = sb.attach(S2, "w", rule="classic", every=every * ms)
    run(S2, plain, T)
    plain.finish()
    assert plain.energy["classic"] == expected
    np.testing.assert_array_equal(np.asarray(S2.w[:]), np.asarray(S.w[:]))


def test_no_threshold_no_decay_no_cost_is_minimal():
    # potentiation on pre spikes, depression on post spikes (the post group fires on its
    # own), so that the net changes partly cancel
    T = 20.0
    inputs = SpikeGeneratorGroup(5, *spikes(5, T, seed=3))
    neurons = NeuronGroup(3, "dv/dt = 1.3/ms : 1", threshold="v > 1", reset="v = 0",
                          method="euler")
    S = Synapses(inputs, neurons, "w : 1", on_pre="w += 0.25", on_post="w -= 0.125")
    S.connect(p=1.0)
    S.w = 0.0
    st = sb.attach(S, "w", rule="neuron", theta=math.inf, tau=math.inf, c=0, every=0.2 * ms)
    Network(inputs, neurons, S, st).run(T * ms)
    st.finish()
    e = st.energy
    assert e["classic"] > 2 * e["minimal"] > 0  # the changes cancel: classic costs more
    assert e["total"] == pytest.approx(e["minimal"], rel=1e-12)
    assert e["consolidation_events"] == np.count_nonzero(np.asarray(S.w[:]))


def test_sparse_connectivity_and_multisynapses():
    pre, post, T, every = 200, 100, 5.0, 1.0
    inputs = SpikeGeneratorGroup(pre, *spikes(pre, T, seed=5))
    neurons = NeuronGroup(post, "v : 1")
    S = Synapses(inputs, neurons, "w : 1\nk : 1 (constant)", on_pre=f"w += {A} * k")
    brian2.seed(7)
    S.connect(p=0.02)
    n_sparse = len(S)
    S.connect(i=[3, 3, 3], j=[4, 4, 4])  # three synapses 3 -> 4 besides the sparse ones
    S.k = 1
    S.k[n_sparse:] = [1, 2, 4]  # the multisynapses change differently
    S.w = 0
    st = sb.attach(S, "w", rule="synapse", theta=1.4, every=every * ms)
    monitor = run(S, st, T)
    st.finish()
    fan_in = np.bincount(np.asarray(S.j[:]), minlength=post)
    # a row holds its own synapses: the store is rows x largest fan-in
    assert (st.store.rows, st.store.cols) == (post, fan_in.max())
    assert fan_in.max() < 3 * fan_in.mean()  # p = 0.02: no row far from the others
    dw = interval_changes(S, monitor, every, int(T / every) + 1)
    dw *= np.asarray(S.k[:])
    np.testing.assert_array_equal(np.asarray(S.w[:]), dw.sum(axis=0))
    assert st.energy["classic"] == np.abs(dw).sum()
    # multisynapses consolidate on their own: per synapse, the first check whose
    # cumulative transient change exceeds theta moves it to l
    events = 0
    for k in range(len(S)):
        s = 0.0
        for change in dw[:, k]:
            s += change
            if abs(s) > 1.4:
                events, s = events + 1, 0.0
        events += s != 0  # finish()
    assert st.energy["consolidation_events"] == events
    assert len(set(np.asarray(S.w[n_sparse:]))) == 3 or dw[:, n_sparse:].sum() == 0


@pytest.fixture
def synapses():
    _, _, S = network(4, 4, I, J)
    return S


@pytest.mark.parametrize("args, kw, error, key", [
    (("w",), dict(synapses="not synapses"), TypeError, "synapses"),
    (("x",), {}, ValueError, "var"),
    (("i",), {}, ValueError, "var"),
    ((3,), {}, TypeError, "var"),
    (("w",), dict(every=-1 * ms), ValueError, "every"),
    (("w",), dict(every=0 * ms), ValueError, "every"),
    (("w",), dict(every=1), ValueError, "every"),
    (("w",), dict(every=0.15 * ms), ValueError, "every"),
    (("w",), dict(every="1 ms"), TypeError, "every"),
    (("w",), dict(theta=1 * mV), ValueError, "theta"),
    (("w",), dict(theta=-1), ValueError, "theta"),
    (("w",), dict(theta=None), ValueError, "theta"),
    (("w",), dict(tau=5), ValueError, "tau"),
    (("w",), dict(tau=0.5 * ms), ValueError, "tau"),
    (("w",), dict(c=1 * mV), ValueError, "c"),
    (("w",), dict(c=-1), ValueError, "c"),
    (("w",), dict(rule="nearest"), ValueError, "rule"),
    (("w",), dict(rule="classic", theta=1), ValueError, "theta"),
    (("w",), dict(decay="fast"), ValueError, "decay"),
    (("w",), dict(alpha="1"), TypeError, "alpha"),
    (("w",), dict(potentiation_only=1), TypeError, "potentiation_only"),
])
def test_bad_arguments_name_themselves(synapses, args, kw, error, key):
    kw = dict(dict(theta=0.5), **kw)
    target = kw.pop("synapses", synapses)
    with pytest.raises(error) as info:
        sb.attach(target, *args, **kw)
    assert str(info.value).startswith(key + ":"), str(info.value)


def test_theta_in_the_units_of_the_variable():
    inputs = SpikeGeneratorGroup(1, [0], [0.2] * ms)
    neurons = NeuronGroup(1, "v : 1")
    S = Synapses(inputs, neurons, "g : siemens", on_pre="g += 0.5*nS")
    S.connect()
    with pytest.raises(ValueError, match="^theta: must be in the units of g"):
        sb.attach(S, "g", theta=0.5)
    st = sb.attach(S, "g", theta=0.25 * nS, every=0.5 * ms)  # SI inside: 0.25e-9
    Network(inputs, neurons, S, st).run(1 * ms)
    assert st.energy["consolidation"] == pytest.approx(0.5e-9, rel=1e-12)
    assert st.energy["pending"] == 0


STDP = """w : {unit}
dpre/dt = -pre / (4*ms) : 1 (event-driven)
dpost/dt = -post / (6*ms) : 1 (event-driven)
"""


def stdp_network(caching=None, unit="1", scale=1.0, seed=11, T=30.0):
    """Pairwise STDP with clipping on 6 inputs x 3 outputs (all to all, plus a
    multisynapse); the outputs fire on their own."""
    inputs = SpikeGeneratorGroup(6, *spikes(6, T, seed))
    neurons = NeuronGroup(3, "dv/dt = rate : 1\nrate : Hz (constant)\n" +
                          (caching.post_model if caching else ""),
                          threshold="v > 1", reset="v = 0", method="euler")
    neurons.rate = [0.31, 0.23, 0.17] / ms
    g = f"{scale!r}*{unit}"
    S = Synapses(inputs, neurons, STDP.format(unit=unit) + (caching.model if caching else ""),
                 on_pre=f"pre += 1\nw = clip(w + 0.3*post*{g}, 0*{g}, 1*{g})",
                 on_post=f"post += 1\nw = clip(w - 0.2*pre*{g}, 0*{g}, 1*{g})")
    S.connect()
    S.connect(i=2, j=1)
    S.w = f"0.5*{g}"
    return Network(inputs, neurons, S), S


def attached_stdp(kw, unit="1", scale=1.0):
    net, S = stdp_network(unit=unit, scale=scale)
    st = sb.attach(S, "w", **kw)
    net.add(st)
    net.run(30 * ms)
    return S, st


@pytest.mark.parametrize("rule, decay, alpha, unit, scale", [
    ("synapse", "linear", 1.0, "1", 1.0),
    ("neuron", "exponential", 1.0, "siemens", 1e-9),
    ("sum", "linear", 0.5, "1", 1.0),
    ("neuron", "linear", 0.0, "1", 1.0),
])
def test_equations_agree_with_attach_at_every_dt(rule, decay, alpha, unit, scale):
    q = scale * (nS / 1e-9 if unit == "siemens" else 1)  # 1 of w's scale, in w's units
    theta = {"synapse": 0.25, "neuron": 0.3, "sum": 0.6}[rule] * q
    kw = dict(rule=rule, theta=theta, tau=3 * ms, c=0.5, b=0.25, alpha=alpha, decay=decay,
              every=DT * ms)
    S, st = attached_stdp(kw, unit, scale)
    caching = sb.equations("w", **kw)
    net2, S2 = stdp_network(caching, unit=unit, scale=scale)
    caching.install(S2)
    net2.run(30 * ms)
    w, w2 = np.asarray(S.w_[:]), np.asarray(S2.w_[:])
    assert np.ptp(w) > 0.1 * scale  # the weights moved apart
    np.testing.assert_allclose(w2, w, rtol=1e-12, atol=1e-15 * scale)
    e, e2 = st.energy, caching.energy(S2)
    assert e["consolidation_events"] > 0 and e["maintenance"] > 0 and e["change"] > 0
    assert e2["consolidation_events"] == e["consolidation_events"]
    for key in e:
        assert e2[key] == pytest.approx(e[key], rel=1e-12, abs=1e-15), key


def test_equations_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="^rule: "):
        sb.equations("w", rule="layer", theta=1, every=1 * ms)
    with pytest.raises(ValueError, match="^every: "):
        sb.equations("w", theta=1, every=-1 * ms)
    with pytest.raises(ValueError, match="^alpha: "):
        sb.equations("w", theta=1, alpha=3, every=1 * ms)
    caching = sb.equations("w", theta=1 * mV, every=1 * ms)
    net, S = stdp_network(caching)  # w is dimensionless, theta in volt
    with pytest.raises(ValueError, match="^theta: must be in the units of w"):
        caching.install(S)
    with pytest.raises(ValueError, match="^synapses: .* lacks the caching variables"):
        sb.equations("w", theta=1, every=1 * ms).install(stdp_network()[1])
    with pytest.raises(ValueError, match="^every: must be a whole number"):
        sb.equations("w", theta=1, every=0.25 * ms).install(
            stdp_network(sb.equations("w", theta=1, every=0.25 * ms))[1])


def child_env():
    """This environment, with the syncache this process imported first on PYTHONPATH."""
    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(syncache.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([package_parent, env.get("PYTHONPATH", "")])
    return env


STANDALONE = """
import json, sys
sys.path.insert(0, {tests!r})
import test_brian2 as t
from brian2 import Network, ms, prefs, set_device
import syncache.brian2 as sb
prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O0"]  # quick to build; no fast-math
set_device("cpp_standalone", directory={out!r})
kw = dict(tau=3 * ms, c=0.5, b=0.25, decay="linear", every=0.1 * ms)
cached = {{}}
for rule, theta in (("neuron", 0.3), ("sum", 0.6)):
    caching = sb.equations("w", rule=rule, theta=theta, prefix=rule + "_", **kw)
    net, S = t.stdp_network(caching)
    caching.install(S)
    cached[rule] = caching, S, net
Network(*[o for _, _, net in cached.values() for o in net.objects]).run(30 * ms)
print(json.dumps({{rule: dict(w=[float(x) for x in S.w_[:]], energy=caching.energy(S))
                   for rule, (caching, S, _) in cached.items()}}))
"""


@pytest.mark.slow  # a C++ compile: `make check` runs it, `make test` does not
def test_equations_under_cpp_standalone():
    # the device is global: a child process builds and runs the C++ program (about a
    # minute on 2 cores, most of it the compiler)
    with tempfile.TemporaryDirectory() as out:
        script = os.path.join(out, "child.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(STANDALONE.format(tests=os.path.dirname(os.path.abspath(__file__)),
                                      out=os.path.join(out, "build")))
        proc = subprocess.run([sys.executable, script], env=child_env(), capture_output=True,
                              text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    for rule, theta in (("neuron", 0.3), ("sum", 0.6)):
        S, st = attached_stdp(dict(rule=rule, theta=theta, tau=3 * ms, c=0.5, b=0.25,
                                   decay="linear", every=DT * ms))
        np.testing.assert_allclose(results[rule]["w"], np.asarray(S.w[:]), rtol=1e-12)
        e = st.energy
        assert e["consolidation_events"] > 0
        for key in e:
            assert results[rule]["energy"][key] == pytest.approx(e[key], rel=1e-12), key


def test_magic_network_collects_the_attached_store():
    brian2.start_scope()
    inputs, neurons, S = network(4, 4, I, J, w0=0.0)
    st = sb.attach(S, "w", rule="synapse", theta=0.3, every=1 * ms)
    monitor = SpikeMonitor(inputs)
    brian2.run(5 * ms)  # collects inputs, neurons, S, st and monitor from this scope
    assert st.checks == 5
    st.finish()
    dw = interval_changes(S, monitor, 1.0, 6)
    assert st.energy["classic"] == np.abs(dw).sum() > 0


def test_attach_refuses_standalone_mode():
    # the device is global: in a child process
    code = ("from brian2 import *\n"
            "set_device('cpp_standalone', build_on_run=False)\n"
            "import syncache.brian2 as sb\n"
            "G = NeuronGroup(2, 'v : 1'); S = Synapses(G, G, 'w : 1'); S.connect()\n"
            "try:\n    sb.attach(S, 'w', theta=1)\n"
            "except ValueError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=child_env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.stdout.startswith("synapses: attach() runs in Brian2's runtime mode"), proc
