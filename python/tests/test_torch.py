"""Tests of syncache.torch (Metered, Cached, the report).

Expected values are computed here, independently of the wrapper:
* Metered: Σ|Δw|^α over the steps, from snapshots of the parameters taken around each
  optimizer step (SGD, momentum SGD, Adam, LBFGS with a closure).
* Cached with SGD: a second copy of the model holds w = l + s of hand-driven
  syncache.CachedStore objects, one per tensor, with the row layout written out below
  (a Conv2d's (out, in * kh * kw), a GRU's stacked gates (3 hidden, fan-in), a Linear's
  (out, in), each bias its own store of one synapse per unit); its gradient gives the
  change SGD applies, (w - η∇) - w in float64 (η a power of two, so η∇ is exact and the
  change is the same with or without a fused multiply-add), which goes into the stores in
  the MNIST network's order (add, apply_rule, charge_maintenance, decay). The wrapper
  must give exactly the same weights and energies.
"""

import importlib.util
import io
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
import syncache  # noqa: E402
import syncache.torch as sct  # noqa: E402
from syncache.torch import report  # noqa: E402

torch.set_num_threads(1)

LR = 0.125  # a power of two: η∇ is exact
# The row layout of Tiny, by hand: (rows, cols) of each tensor's store.
LAYOUT = {
    "conv.weight": (2, 4), "conv.bias": (2, 1),
    "gru.weight_ih_l0": (6, 3), "gru.weight_hh_l0": (6, 2),
    "gru.bias_ih_l0": (6, 1), "gru.bias_hh_l0": (6, 1),
    "fc.weight": (2, 10), "fc.bias": (2, 1),
}
FLOAT_KEYS = ("classic", "consolidation", "maintenance", "change", "pending", "total", "minimal")


class Tiny(torch.nn.Module):
    """A Conv2d, a GRU and a Linear with biases."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 2)        # weight (2, 1, 2, 2)
        self.gru = torch.nn.GRU(3, 2, batch_first=True)  # weight_ih (6, 3), weight_hh (6, 2)
        self.fc = torch.nn.Linear(10, 2)

    def forward(self, img, seq):
        a = torch.tanh(self.conv(img)).flatten(1)   # (B, 2, 2, 2) -> 8
        _, h = self.gru(seq)                        # (1, B, 2)
        return self.fc(torch.cat([a, h[0]], 1))


def _data(steps, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(4, 1, 3, 3, generator=g, dtype=dtype),
             torch.randn(4, 3, 3, generator=g, dtype=dtype),
             torch.randn(4, 2, generator=g, dtype=dtype)) for _ in range(steps)]


def _loss(model, batch):
    img, seq, y = batch
    return ((model(img, seq) - y) ** 2).sum()


def _model(seed=1, dtype=torch.float64):
    torch.manual_seed(seed)
    return Tiny().to(dtype)


def _train(opt, model, data, closure=False):
    for batch in data:
        opt.zero_grad()
        _loss(model, batch).backward()
        opt.step()


def _cache_kw(s):
    return {k: s[k] for k in ("rule", "theta", "tau", "c", "b", "alpha", "decay")}


def _reference(model, data, per_param):
    """Hand-driven stores (per_param: name -> settings; cache False = PlainStore) and a
    copy of the model that always holds their weights; returns (stores, copy)."""
    ref = _model()
    ref.load_state_dict(model.state_dict())
    params = dict(ref.named_parameters())
    stores = {}
    for name, p in params.items():
        rows, cols = LAYOUT[name]
        s = per_param[name]
        initial = p.detach().numpy().reshape(rows, cols)
        if s.get("cache", True):
            stores[name] = syncache.CachedStore(rows, cols, initial=initial, **_cache_kw(s))
        else:
            stores[name] = syncache.PlainStore(rows, cols, alpha=s["alpha"], initial=initial)
    for batch in data:
        for name, p in params.items():
            p.data.copy_(torch.from_numpy(stores[name].weights.reshape(p.shape)))
            p.grad = None
        _loss(ref, batch).backward()
        for name, p in params.items():
            w = p.detach().numpy()
            dw = (w - LR * p.grad.numpy()) - w  # the change SGD applies, in float64
            store = stores[name]
            store.add(dw.reshape(LAYOUT[name]))
            store.apply_rule()
            store.charge_maintenance()
            store.decay()
    for name, p in params.items():
        p.data.copy_(torch.from_numpy(stores[name].weights.reshape(p.shape)))
    return stores, ref


SETTING = dict(rule="neuron", theta=0.05, tau=20.0, c=0.01, b=0.1, alpha=1.0,
               decay="exponential")


def _assert_same_as_reference(opt, model, stores):
    by_param = opt.energy_by_parameter
    assert set(by_param) == set(stores)
    for name, p in model.named_parameters():
        assert by_param[name] == stores[name].energy, name
        np.testing.assert_array_equal(p.detach().numpy().reshape(LAYOUT[name]),
                                      stores[name].weights, err_msg=name)


@pytest.mark.parametrize("rule", sct.RULES)
@pytest.mark.parametrize("decay", ["linear", "exponential"])
def test_cached_sgd_equals_hand_driven_stores(rule, decay):
    s = dict(SETTING, rule=rule, decay=decay, theta=0.02 if rule != "sum" else 0.06)
    model, data = _model(), _data(6)
    stores, _ = _reference(model, data, {n: s for n in LAYOUT})
    opt = sct.Cached(torch.optim.SGD(model.parameters(), lr=LR), model=model, **_cache_kw(s))
    _train(opt, model, data)
    _assert_same_as_reference(opt, model, stores)
    e = opt.energy
    assert e["consolidation_events"] > 0 and e["pending"] > 0  # both paths were taken
    opt.finish()
    for store in stores.values():
        store.finish()
    _assert_same_as_reference(opt, model, stores)


@settings(max_examples=20, deadline=None, database=None)
@given(rule=st.sampled_from(sct.RULES), decay=st.sampled_from(["linear", "exponential"]),
       theta=st.sampled_from([0.0, 0.01, 0.03, 0.1, math.inf]),
       tau=st.sampled_from([1.5, 10.0, math.inf]), c=st.sampled_from([0.0, 0.02]),
       b=st.sampled_from([0.0, 0.3]), alpha=st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_cached_sgd_equals_hand_driven_stores_for_any_setting(rule, decay, theta, tau, c, b,
                                                               alpha):
    s = dict(rule=rule, decay=decay, theta=theta, tau=tau, c=c, b=b, alpha=alpha)
    model, data = _model(), _data(4)
    stores, _ = _reference(model, data, {n: s for n in LAYOUT})
    opt = sct.Cached(torch.optim.SGD(model.parameters(), lr=LR), model=model, **s)
    _train(opt, model, data)
    _assert_same_as_reference(opt, model, stores)


def test_param_groups_with_their_own_settings():
    model, data = _model(), _data(5)
    fc = dict(SETTING, rule="synapse", theta=0.01, decay="linear")
    conv = dict(SETTING, cache=False)
    per_param = {n: (fc if n.startswith("fc") else conv if n.startswith("conv") else SETTING)
                 for n in LAYOUT}
    stores, _ = _reference(model, data, per_param)
    groups = [
        dict(params=model.fc.parameters(),
             syncache=dict(rule="synapse", theta=0.01, decay="linear")),
        dict(params=model.conv.parameters(), syncache=dict(cache=False)),
        dict(params=model.gru.parameters()),
    ]
    opt = sct.Cached(torch.optim.SGD(groups, lr=LR), model=model, **_cache_kw(SETTING))
    _train(opt, model, data)
    _assert_same_as_reference(opt, model, stores)
    conv_energy = opt.energy_by_parameter["conv.weight"]
    assert conv_energy["consolidation"] == conv_energy["classic"] > 0
    assert conv_energy["pending"] == 0


def _snapshot_energy(opt_factory, alpha, steps=5, closure=False):
    """Metered's energy against Σ|Δw|^α from snapshots around each step."""
    model, data = _model(), _data(steps)
    opt = sct.Metered(opt_factory(model.parameters()), alpha=alpha)
    expected = 0.0
    start = [p.detach().clone() for p in model.parameters()]
    for batch in data:
        before = [p.detach().clone() for p in model.parameters()]
        if closure:
            def f():
                opt.zero_grad()
                loss = _loss(model, batch)
                loss.backward()
                return loss
            opt.step(f)
        else:
            opt.zero_grad()
            _loss(model, batch).backward()
            opt.step()
        for b, p in zip(before, model.parameters()):
            d = (p.detach() - b).numpy()
            expected += float(np.sum(np.abs(d[d != 0]) ** alpha))
    minimal = sum(float(np.sum(np.abs(d[d != 0]) ** alpha))
                  for d in ((p.detach() - s).numpy() for p, s in zip(model.parameters(), start)))
    return opt.energy, expected, minimal


OPTIMIZERS = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: torch.optim.RMSprop(ps, lr=0.01),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("alpha", [0.0, 1.0, 2.0])
def test_metered_equals_snapshots(name, alpha):
    e, expected, minimal = _snapshot_energy(OPTIMIZERS[name], alpha)
    assert expected > 0
    assert e["classic"] == pytest.approx(expected, rel=1e-12)
    assert e["consolidation"] == e["classic"] and e["total"] == e["classic"]
    assert e["minimal"] == pytest.approx(minimal, rel=1e-12)
    assert e["pending"] == 0 and e["maintenance"] == 0


def test_metered_lbfgs_with_a_closure():
    e, expected, _ = _snapshot_energy(lambda ps: torch.optim.LBFGS(ps, lr=0.5, max_iter=3), 1.0,
                                      steps=2, closure=True)
    assert e["classic"] == pytest.approx(expected, rel=1e-12) and expected > 0


def test_momentum_charges_a_zero_gradient_move():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
    opt = sct.Metered(torch.optim.SGD([w], lr=0.5, momentum=0.5))
    w.grad = torch.tensor([1.0, -1.0], dtype=torch.float64)
    opt.step()  # buffer = g; Δw = -0.5 g
    w.grad = torch.zeros(2, dtype=torch.float64)
    opt.step()  # buffer = 0.5 g: the weights still move by -0.25 g
    assert opt.energy["classic"] == 2 * 0.5 + 2 * 0.25


def test_theta_zero_is_metered():
    model_a, model_b, data = _model(), _model(), _data(5)
    metered = sct.Metered(torch.optim.SGD(model_a.parameters(), lr=LR))
    cached = sct.Cached(torch.optim.SGD(model_b.parameters(), lr=LR), model=model_b, theta=0.0,
                        tau=10.0, c=0.5, b=0.5)
    _train(metered, model_a, data)
    _train(cached, model_b, data)
    for pa, pb in zip(model_a.parameters(), model_b.parameters()):
        np.testing.assert_allclose(pa.detach().numpy(), pb.detach().numpy(), rtol=0, atol=1e-15)
    m, c = metered.energy, cached.energy
    # every change consolidates at once: nothing transient, maintained or charged b
    assert c["total"] == pytest.approx(m["classic"], rel=1e-12)
    assert c["classic"] == pytest.approx(m["classic"], rel=1e-12)
    assert c["pending"] == c["maintenance"] == c["change"] == 0


def test_no_consolidation_no_decay_no_cost_reaches_the_minimum():
    model, data = _model(), _data(6)
    opt = sct.Cached(torch.optim.SGD(model.parameters(), lr=LR), model=model, theta=math.inf,
                     tau=math.inf, c=0.0)
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    _train(opt, model, data)
    e = opt.energy
    assert e["consolidation"] == 0 and e["classic"] > e["minimal"] > 0
    assert e["total"] == pytest.approx(e["minimal"], rel=1e-12)
    opt.finish()
    e = opt.energy
    minimal = sum(float((p.detach() - start[n]).abs().sum()) for n, p in model.named_parameters())
    assert e["total"] == pytest.approx(e["minimal"], rel=1e-12)
    assert e["minimal"] == pytest.approx(minimal, rel=1e-12)


@pytest.mark.parametrize("kind", ["metered", "cached"])
@pytest.mark.parametrize("split", [0, 3])
def test_state_dict_round_trip_is_bit_for_bit(kind, split):
    data = _data(7)

    def make(model):
        inner = torch.optim.Adam(model.parameters(), lr=0.01)
        if kind == "metered":
            return sct.Metered(inner, alpha=0.5)
        return sct.Cached(inner, model=model, rule="sum", theta=0.02, tau=5.0, c=0.01, b=0.2,
                          decay="linear")

    whole = _model()
    opt = make(whole)
    _train(opt, whole, data)

    first = _model()
    opt1 = make(first)
    _train(opt1, first, data[:split])
    buf = io.BytesIO()
    torch.save({"model": first.state_dict(), "optimizer": opt1.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf)
    resumed = _model(seed=99)  # other starting weights: all come from the checkpoint
    resumed.load_state_dict(saved["model"])
    opt2 = make(resumed)
    opt2.load_state_dict(saved["optimizer"])
    _train(opt2, resumed, data[split:])
    assert opt2.energy_by_parameter == opt.energy_by_parameter
    for a, b in zip(whole.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
    # the report reads the same record from a checkpoint
    buf = io.BytesIO()
    torch.save(opt2.state_dict(), buf)
    buf.seek(0)
    assert report.records(torch.load(buf)) == opt.energy_by_parameter


def test_step_lr_through_the_wrapper_halves_the_change():
    # loss = sum(k * w): a constant gradient k, so SGD's change is -lr k at every step
    w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    k = torch.tensor([1.0, -2.0, 4.0], dtype=torch.float64)
    opt = sct.Metered(torch.optim.SGD([w], lr=0.5))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    changes = []
    for _ in range(4):
        before = w.detach().clone()
        opt.zero_grad()
        (k * w).sum().backward()
        opt.step()
        sched.step()
        changes.append(w.detach() - before)
    for t, d in enumerate(changes):
        assert torch.equal(d, -0.5 * 0.5 ** t * k)
    assert opt.optimizer.param_groups[0]["lr"] == 0.5 * 0.5 ** 4
    assert opt.energy["classic"] == sum(0.5 * 0.5 ** t * 7 for t in range(4))


def test_frozen_and_gradless_parameters_are_untouched_and_uncharged():
    model, data = _model(), _data(4)
    model.conv.weight.requires_grad_(False)
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = sct.Cached(torch.optim.SGD(model.parameters(), lr=LR), model=model, theta=0.01,
                     tau=3.0, c=0.1)
    # fc.bias gets no gradient: the loss does not depend on it
    for batch in data:
        opt.zero_grad()
        img, seq, y = batch
        out = model(img, seq) - model.fc.bias
        ((out - y) ** 2).sum().backward()
        model.fc.bias.grad = None
        opt.step()
    by_param = opt.energy_by_parameter
    assert "conv.weight" not in by_param
    assert torch.equal(model.conv.weight, start["conv.weight"])
    assert torch.equal(model.fc.bias, start["fc.bias"])
    assert all(v == 0 for v in by_param["fc.bias"].values())
    assert by_param["fc.weight"]["classic"] > 0


def test_float32_meters_the_change_as_float32_holds_it():
    model, data = _model(dtype=torch.float32), _data(4, dtype=torch.float32)
    opt = sct.Cached(torch.optim.SGD(model.parameters(), lr=LR), model=model, theta=0.02,
                     tau=10.0, c=0.01)
    classic = 0.0
    for batch in data:
        before = [p.detach().clone() for p in model.parameters()]
        opt.zero_grad()
        _loss(model, batch).backward()
        # the change the optimizer makes, computed as float32 does
        applied = [(p.detach() - LR * p.grad).double() - b.double()
                   for p, b in zip(model.parameters(), before)]
        opt.step()
        classic += sum(float(a.abs().sum()) for a in applied)
        state = opt.state_dict()["syncache"]
        for p, st_ in zip(model.parameters(), state["stores"]):
            w = st_["persistent"] + st_["gain"] * st_["scaled_transient"]  # l + s, double
            assert p.dtype == torch.float32
            np.testing.assert_array_equal(p.detach().numpy().reshape(w.shape),
                                          w.astype(np.float32))
    assert opt.energy["classic"] == pytest.approx(classic, rel=1e-12)


def _expected_restricted(p, grad, restrict, keep, rows):
    w = p.detach().numpy().copy()
    d = (w - LR * grad) - w
    flat = d.reshape(-1).copy()
    if restrict == "synapse":
        k = math.ceil(keep * flat.size)
        flat[np.argsort(-np.abs(flat), kind="stable")[k:]] = 0.0
    else:
        m = flat.reshape(rows, -1)
        k = math.ceil(keep * rows)
        m[np.argsort(-np.abs(m).sum(axis=1), kind="stable")[k:]] = 0.0
    return w + flat.reshape(w.shape), np.abs(flat).sum()


@pytest.mark.parametrize("restrict, keep", [("synapse", 0.25), ("neuron", 0.5), ("neuron", 1.0)])
def test_competitive_restriction(restrict, keep):
    torch.manual_seed(3)
    layer = torch.nn.Linear(7, 6).double()
    opt = sct.Metered(torch.optim.SGD(layer.parameters(), lr=LR), restrict=restrict, keep=keep,
                      model=layer)
    x = torch.randn(5, 7, dtype=torch.float64)  # a minibatch: rows of unlike patterns
    classic = 0.0
    for _ in range(3):
        opt.zero_grad()
        layer(x).pow(2).sum().backward()
        expected = [_expected_restricted(p, p.grad.numpy(), restrict, keep, p.shape[0])
                    for p in layer.parameters()]
        opt.step()
        for p, (w, cost) in zip(layer.parameters(), expected):
            np.testing.assert_array_equal(p.detach().numpy(), w)
            classic += cost
    assert opt.energy["classic"] == pytest.approx(classic, rel=1e-12)


def test_write_weights_shares_a_tensors_memory():
    store = syncache.CachedStore(2, 3, theta=10.0, initial=np.arange(6.0).reshape(2, 3))
    store.update(np.full((2, 3), 0.5))
    t = torch.zeros(2, 3, dtype=torch.float32)
    store.write_weights(t.numpy())
    assert torch.equal(t, torch.arange(6.0).reshape(2, 3) + 0.5)


def test_layout_of_known_and_unknown_modules():
    model = torch.nn.Sequential(torch.nn.Embedding(5, 3), torch.nn.LSTM(3, 2),
                                torch.nn.ConvTranspose2d(1, 2, 2), torch.nn.Conv1d(2, 4, 3))
    kinds = {name: kind for name, kind in sct.layout(model).values()}
    assert kinds == {"0.weight": None, "1.weight_ih_l0": "weight", "1.weight_hh_l0": "weight",
                     "1.bias_ih_l0": "bias", "1.bias_hh_l0": "bias", "2.weight": None,
                     "2.bias": None, "3.weight": "weight", "3.bias": "bias"}
    # synapse and layer work on any tensor
    opt = sct.Cached(torch.optim.SGD(model.parameters(), lr=0.1), model=model, rule="layer",
                     theta=0.1)
    assert len(opt.energy_by_parameter) == 9


def _sgd(model=None, **kw):
    model = model or torch.nn.Linear(3, 2)
    return torch.optim.SGD(model.parameters(), lr=0.1, **kw)


def _emb_model():
    return torch.nn.Sequential(torch.nn.Embedding(4, 2), torch.nn.Linear(2, 1))


BAD = [
    (lambda: sct.Metered(object()), TypeError, "optimizer"),
    (lambda: sct.Metered(sct.Metered(_sgd())), TypeError, "optimizer"),
    (lambda: sct.Metered(_sgd(), alpha="1"), TypeError, "alpha"),
    (lambda: sct.Metered(_sgd(), alpha=5.0), ValueError, "alpha"),
    (lambda: sct.Metered(_sgd(), potentiation_only=1), TypeError, "potentiation_only"),
    (lambda: sct.Metered(_sgd(), restrict="path", keep=0.5), ValueError, "restrict"),
    (lambda: sct.Metered(_sgd(), restrict="synapse", keep=0.0), ValueError, "keep"),
    (lambda: sct.Metered(_sgd(), keep=0.5), ValueError, "keep"),
    (lambda: sct.Metered(_sgd(), model="net"), TypeError, "model"),
    (lambda: sct.Cached(_sgd(), theta=-1.0), ValueError, "theta"),
    (lambda: sct.Cached(_sgd(), theta="0.1"), TypeError, "theta"),
    (lambda: sct.Cached(_sgd(), rule="synapse", theta=0.1, tau=0.0), ValueError, "tau"),
    (lambda: sct.Cached(_sgd(), rule="synapse", theta=0.1, c=-1.0), ValueError, "c"),
    (lambda: sct.Cached(_sgd(), rule="synapse", theta=0.1, b=math.nan), ValueError, "b"),
    (lambda: sct.Cached(_sgd(), rule="classic", theta=0.1), ValueError, "rule"),
    (lambda: sct.Cached(_sgd(), rule=1, theta=0.1), TypeError, "rule"),
    (lambda: sct.Cached(_sgd(), rule="synapse", theta=0.1, decay="fast"), ValueError, "decay"),
    (lambda: sct.Cached(_sgd(), theta=0.1), ValueError, "rule"),  # a row rule needs model=
    (lambda: sct.Cached(_sgd(_emb_model()), model=_emb_model(), theta=0.1), ValueError, "rule"),
    (lambda: sct.Cached(torch.optim.SGD([dict(params=torch.nn.Linear(2, 2).parameters(),
                                              syncache=dict(theta=-2.0))], lr=0.1),
                        rule="layer", theta=0.1), ValueError, "theta"),
    (lambda: sct.Cached(torch.optim.SGD([dict(params=torch.nn.Linear(2, 2).parameters(),
                                              syncache=dict(eta=0.1))], lr=0.1),
                        rule="layer", theta=0.1), ValueError, "param_groups[0]['syncache']"),
]


@pytest.mark.parametrize("make, exc, key", BAD, ids=[f"{i}-{k}" for i, (_, _, k) in enumerate(BAD)])
def test_bad_arguments(make, exc, key):
    _refused(make, exc, key)


def _refused(call, exc, key):
    """call() raises exactly exc, its message starting with the argument's name."""
    with pytest.raises(exc) as info:
        call()
    assert type(info.value) is exc and str(info.value).startswith(key + ":"), str(info.value)


def test_row_rule_error_names_the_parameter():
    model = _emb_model()
    with pytest.raises(ValueError, match=r"0\.weight"):
        sct.Cached(_sgd(model), model=model, theta=0.1)


def test_meta_device_sparse_gradient_and_half_precision_name_the_parameter():
    meta = torch.nn.Linear(3, 2, device="meta")
    _refused(lambda: sct.Metered(_sgd(meta), model=meta), ValueError, "weight")
    emb = torch.nn.Embedding(5, 2, sparse=True).double()
    opt = sct.Metered(torch.optim.SGD(emb.parameters(), lr=0.1), model=emb)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(ValueError) as info:
        opt.step()
    assert str(info.value).startswith("weight:") and "sparse" in str(info.value)
    strided = torch.nn.Parameter(torch.zeros(3, 4, dtype=torch.float64).t())
    _refused(lambda: sct.Metered(torch.optim.SGD([strided], lr=0.1)), ValueError,
             "param_groups[0][0]")
    half = torch.nn.Linear(2, 2).half()
    _refused(lambda: sct.Metered(_sgd(half)), TypeError, "param_groups[0][0]")


def test_load_state_dict_of_another_run_is_refused():
    model = torch.nn.Linear(3, 2).double()
    metered = sct.Metered(_sgd(model))
    cached = sct.Cached(_sgd(model), model=model, theta=0.1)
    with pytest.raises(ValueError, match="^state_dict:"):
        cached.load_state_dict(metered.state_dict())
    with pytest.raises(ValueError, match="^state_dict:"):
        cached.load_state_dict(_sgd(model).state_dict())
    other = sct.Cached(_sgd(model), model=model, theta=0.2)
    with pytest.raises(ValueError, match="^state_dict:"):
        other.load_state_dict(cached.state_dict())


def test_report_command(tmp_path, capsys):
    model, data = _model(), _data(3)
    opt = sct.Cached(torch.optim.SGD(model.parameters(), lr=LR), model=model, theta=0.02,
                     tau=10.0, c=0.01)
    _train(opt, model, data)
    path = tmp_path / "ckpt.pt"
    torch.save({"optimizer": opt.state_dict(), "epoch": 3}, path)
    assert report.main([str(path)]) == 0  # python -m syncache.torch.report ckpt.pt
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines[1:]] == ["conv", "gru", "fc", "total"]
    by_param = opt.energy_by_parameter
    fc_total = by_param["fc.weight"]["total"] + by_param["fc.bias"]["total"]
    header = lines[0].split()
    fc_line = lines[3].split()
    assert float(fc_line[header.index("total")]) == pytest.approx(fc_total, rel=1e-5)
    assert report.main([str(tmp_path / "no")]) == 2
    assert capsys.readouterr().err.startswith("error: checkpoint:")


def test_neuron_restriction_ranks_units_by_their_summed_change():
    layer = torch.nn.Linear(2, 3, bias=False).double()
    with torch.no_grad():
        layer.weight.zero_()
    opt = sct.Metered(torch.optim.SGD(layer.parameters(), lr=1.0), restrict="neuron",
                      keep=1 / 3, model=layer)
    # sums of |change| 2, 1.5, 0.2 (maxima 1, 1.5, 0.1): the first unit alone is kept
    layer.weight.grad = torch.tensor([[1.0, -1.0], [1.5, 0.0], [0.1, 0.1]], dtype=torch.float64)
    opt.step()
    assert torch.equal(layer.weight.detach(),
                       torch.tensor([[-1.0, 1.0], [0.0, 0.0], [0.0, 0.0]], dtype=torch.float64))
    assert opt.energy["classic"] == 2.0


# ---- the examples, on a few hundred images ----

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def _example(name):
    spec = importlib.util.spec_from_file_location(name, f"{EXAMPLES}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_torch_mlp_step_is_syncache_mlps_step():
    """One sample: SGD on E = 1/2 sum (t - o)^2 moves the weights by eta delta x, with
    delta_out = (t - o) o (1 - o) and delta_hidden = (W2^T delta_out) h (1 - h) (the
    exact MSE gradient of ``syncache mlp``)."""
    ex = _example("torch_mlp")
    net = ex.network(seed=4, hidden=5)
    w1, w2 = (p.detach().numpy().copy() for p in net.parameters())
    x = np.random.default_rng(0).random(784)
    t = np.full(10, 0.01)
    t[3] = 0.99
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    opt.zero_grad()
    (0.5 * ((net(torch.from_numpy(x)[None]) - torch.from_numpy(t)[None]) ** 2).sum()).backward()
    opt.step()
    h = 1 / (1 + np.exp(-w1 @ x))
    o = 1 / (1 + np.exp(-w2 @ h))
    d_out = (t - o) * o * (1 - o)
    d_hid = (w2.T @ d_out) * h * (1 - h)
    new1, new2 = (p.detach().numpy() for p in net.parameters())
    np.testing.assert_allclose(new2 - w2, 0.1 * np.outer(d_out, h), rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(new1 - w1, 0.1 * np.outer(d_hid, x), rtol=1e-9, atol=1e-18)


def test_torch_mlp_example_on_small_data(capsys):
    ex = _example("torch_mlp")
    assert ex.main(["--train", "200", "--test", "100", "--eval-every", "100",
                    "--targets", "0.3"]) == 0
    rows = [r.split(",") for r in capsys.readouterr().out.splitlines()]
    header, body = rows[0], {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert header[:4] == ["mode", "seed", "samples", "accuracy"] and set(body) == {"classic",
                                                                                 "cached"}
    for r in body.values():
        assert r["samples"] == "200" and 0 <= float(r["accuracy"]) <= 1
    # the same changes: caching costs less than classic learning, never less than minimal
    classic, cached = body["classic"], body["cached"]
    assert float(cached["energy_minimal"]) <= float(cached["energy_total"])
    assert float(cached["energy_total"]) < float(classic["energy_total"])


def test_torch_cnn_example_on_small_data(capsys):
    ex = _example("torch_cnn")
    assert ex.main(["--train", "128", "--test", "64", "--batch", "32",
                    "--eval-every", "2", "--gru", "--threads", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    runs = [r.split(",") for r in out[1:] if not r.startswith("#")]
    assert [r[:2] for r in runs] == [["lenet", "classic"], ["lenet", "cached theta=0.003"],
                                     ["gru", "classic"]]
    assert all(r[2] == "4" for r in runs)  # 128 images in batches of 32
    layers = [r for r in out if r.startswith("# gru")]
    assert layers and "gru=" in layers[0] and "out=" in layers[0]
