"""syncache.torch: meter and cache the weight changes of any PyTorch optimizer.

:class:`Metered` wraps a ``torch.optim.Optimizer`` and meters the change Δw it applies to
every parameter at each ``step()`` as classic learning (Σ|Δw|^α, docs/model.md section 1);
:class:`Cached` puts that change into the transient weights s of a
:class:`syncache.CachedStore` per parameter tensor and writes w = l + s back into the
parameter, so that decay, maintenance, consolidation and the energy record are the C++
store's. Both are ``torch.optim.Optimizer`` instances that share the inner optimizer's
``param_groups`` and ``state`` (a learning-rate scheduler on the wrapper changes the inner
optimizer's learning rate). See docs/torch.md.
"""

import math

import torch

from .. import _core
from .._args import _flag, _real, _shown, _text

__all__ = ["Metered", "Cached", "layout", "RULES", "SETTINGS"]

RULES = ("synapse", "neuron", "sum", "layer")
ROW_RULES = ("neuron", "sum")
DECAYS = ("linear", "exponential")
# The settings a param group may override, given as a dict under the group's key
# "syncache" (not as the group's own keys: an optimizer's hyperparameters such as
# RMSprop's alpha would collide).
SETTINGS = ("cache", "rule", "theta", "tau", "c", "b", "alpha", "decay", "potentiation_only",
            "restrict", "keep")

# Modules whose weights' first dimension is the output unit (a Linear's out feature, a
# Conv's out channel, a recurrent layer's gate unit of its stacked gates) and whose other
# dimensions are that unit's fan-in; their biases have the units as first dimension too.
_ROW_MODULES = (torch.nn.Linear, torch.nn.Bilinear, torch.nn.Conv1d, torch.nn.Conv2d,
                torch.nn.Conv3d, torch.nn.RNNBase, torch.nn.RNNCellBase)


def layout(model):
    """The row layout of a model's parameters: {id(parameter): (name, kind)}, kind
    "weight" (one row per output unit, channel or gate unit, its fan-in the columns),
    "bias" (one row of one synapse per unit) or None (a layout not known: ConvTranspose,
    Embedding, a normalisation's gains, ...: refused by the row rules)."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: must be a torch.nn.Module (got {_shown(model)})")
    out = {}
    for module_name, module in model.named_modules():
        known = isinstance(module, _ROW_MODULES)
        for pname, p in module.named_parameters(recurse=False):
            name = f"{module_name}.{pname}" if module_name else pname
            kind = None
            if known and p.dim() >= 1:
                kind = "bias" if pname.startswith("bias") else "weight"
            out.setdefault(id(p), (name, kind))
    return out


def _shape(p, kind):
    """(rows, cols) of a tensor's store: one row per unit for a known layout, else one
    row holding every element (the rules synapse and layer do not depend on rows)."""
    n = p.numel()
    if kind == "weight":
        return p.shape[0], n // p.shape[0]
    if kind == "bias":
        return n, 1
    return 1, n


def _fraction(key, value):
    value = _real(key, value)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{key}: must lie in (0, 1] (got {value!r})")
    return value


def _settings(given, cached):
    """The checked settings of a group (the wrapper's, overridden by the group's keys)."""
    s = {}
    s["alpha"] = _real("alpha", given["alpha"])
    s["potentiation_only"] = _flag("potentiation_only", given["potentiation_only"])
    restrict = given["restrict"]
    if restrict is not None:
        restrict = _text("restrict", restrict)
        if restrict not in ("synapse", "neuron"):
            raise ValueError(f"restrict: must be None, 'synapse' or 'neuron' (got {restrict!r})")
    s["restrict"] = restrict
    s["keep"] = _fraction("keep", given["keep"])
    if restrict is None and s["keep"] != 1.0:
        raise ValueError(f"keep: needs restrict='synapse' or 'neuron' (got keep={s['keep']!r})")
    s["cache"] = cached and _flag("cache", given["cache"])
    if s["cache"]:
        rule = _text("rule", given["rule"])
        if rule not in RULES:
            raise ValueError(f"rule: must be one of {', '.join(RULES)} (got {rule!r})")
        s["rule"] = rule
        for key in ("theta", "tau", "c", "b"):
            s[key] = _real(key, given[key])
        decay = _text("decay", given["decay"])
        if decay not in DECAYS:
            raise ValueError(f"decay: must be linear or exponential (got {decay!r})")
        s["decay"] = decay
        # The store's own range checks (ValueError naming theta, tau, c, b or alpha).
        _core.CachedStore(1, 1, rule, s["theta"], s["tau"], s["c"], s["b"], s["alpha"],
                          s["potentiation_only"], decay, None)
    else:
        _core.PlainStore(1, 1, s["alpha"], s["potentiation_only"], None)
    return s


class _Entry:
    """One parameter tensor and its store."""

    __slots__ = ("name", "param", "group", "kind", "rows", "cols", "settings", "store", "snap",
                 "delta")


class _Wrapper(torch.optim.Optimizer):
    """Common to Metered and Cached: the shared param groups and state, the per-tensor
    stores, the metering of each step, checkpoints and the energy record."""

    _cached = False

    def __init__(self, optimizer, defaults, model):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"optimizer: must be a torch.optim.Optimizer (got {_shown(optimizer)})")
        if isinstance(optimizer, _Wrapper):
            raise TypeError("optimizer: is a syncache.torch wrapper already")
        if model is not None and not isinstance(model, torch.nn.Module):
            raise TypeError(f"model: must be a torch.nn.Module or None (got {_shown(model)})")
        # Optimizer.__init__ is not called: the wrapper shares the inner optimizer's
        # param_groups, state and defaults (the same objects), so schedulers and code that
        # edits param_groups act on the optimizer that steps.
        self.optimizer = optimizer
        self.param_groups = optimizer.param_groups
        self.state = optimizer.state
        self.defaults = optimizer.defaults
        self._defaults = defaults
        self._layout = layout(model) if model is not None else {}
        self._model = model is not None
        self._entries = []
        self._group_settings = []
        for g in range(len(self.param_groups)):
            self._add_group(g)

    # ---- stores ----

    def _add_group(self, g):
        group = self.param_groups[g]
        own = group.get("syncache", {})
        if not isinstance(own, dict) or not set(own) <= set(SETTINGS):
            raise ValueError(f"param_groups[{g}]['syncache']: must be a dict with keys among "
                             f"{', '.join(SETTINGS)} (got {_shown(own)})")
        given = {k: own.get(k, self._defaults[k]) for k in SETTINGS}
        settings = _settings(given, self._cached)
        self._group_settings.append(settings)
        for i, p in enumerate(group["params"]):
            name, kind = self._layout.get(id(p), (None, None))
            if name is None:
                name = f"param_groups[{g}][{i}]"
            if not p.requires_grad or p.numel() == 0:
                continue  # frozen (or empty): untouched and uncharged
            if p.device.type != "cpu":
                raise ValueError(f"{name}: is on device '{p.device}'; syncache.torch meters "
                                 "parameters on the CPU only")
            if p.dtype not in (torch.float32, torch.float64):
                raise TypeError(f"{name}: must be float32 or float64 (got {p.dtype})")
            if p.is_sparse or p.layout != torch.strided:
                raise ValueError(f"{name}: sparse parameters are not supported")
            if not p.is_contiguous():
                raise ValueError(f"{name}: must be contiguous (its store writes w = l + s into "
                                 "the parameter's memory in row-major order)")
            row_rule = settings["cache"] and settings["rule"] in ROW_RULES
            if kind is None and (row_rule or settings["restrict"] == "neuron"):
                what = (f"rule: {settings['rule']!r}" if row_rule else "restrict: 'neuron'")
                hint = ("pass model= so that its layers are known"
                        if not self._model else
                        "its layout is not a Linear, Conv1d/2d/3d, RNN/GRU/LSTM weight or bias")
                raise ValueError(f"{what} needs rows (output units); parameter {name} of shape "
                                 f"{tuple(p.shape)} has no known row layout ({hint}); use "
                                 "rule 'synapse' or 'layer' for it (e.g. in its own param group)")
            e = _Entry()
            e.name, e.param, e.group, e.kind, e.settings = name, p, g, kind, settings
            e.rows, e.cols = _shape(p, kind)
            initial = p.detach().to(torch.float64).reshape(e.rows, e.cols).numpy()
            e.store = self._new_store(settings, e.rows, e.cols, initial)
            e.snap = torch.empty_like(p, memory_format=torch.contiguous_format).detach()
            e.delta = None  # the change as a tensor, made only for a restriction
            if settings["cache"]:
                self._write(e)  # w = l + s (= the initial weights)
            self._entries.append(e)

    @staticmethod
    def _new_store(s, rows, cols, initial):
        if s["cache"]:
            return _core.CachedStore(rows, cols, s["rule"], s["theta"], s["tau"], s["c"], s["b"],
                                     s["alpha"], s["potentiation_only"], s["decay"], initial)
        return _core.PlainStore(rows, cols, s["alpha"], s["potentiation_only"], initial)

    def _write(self, e):
        """w = l + s of the store into the parameter's memory (its own dtype)."""
        e.store.write_weights(e.param.detach().numpy())

    def add_param_group(self, param_group):
        self.optimizer.add_param_group(param_group)
        self._add_group(len(self.param_groups) - 1)

    # ---- the step ----

    def zero_grad(self, set_to_none=False):
        self.optimizer.zero_grad(set_to_none=set_to_none)

    @torch.no_grad()
    def step(self, closure=None):
        """The inner optimizer's step, then every parameter's change Δw (the new value
        minus the old, both as the parameter's dtype holds them, subtracted in double) goes
        to its store: metered (Metered), or into s with the rule applied, maintenance
        charged and s decayed (Cached), after which w = l + s is written back. A parameter
        with no gradient after the step is not touched and not charged."""
        for e in self._entries:
            if e.param.grad is not None and e.param.grad.is_sparse:
                raise ValueError(f"{e.name}: sparse gradients are not supported")
            e.snap.copy_(e.param)  # w(t), in the parameter's dtype
        if closure is None:
            loss = self.optimizer.step()
        else:
            loss = self.optimizer.step(closure)
        for e in self._entries:
            p = e.param
            grad = p.grad
            if grad is None:
                if not torch.equal(p, e.snap):
                    raise ValueError(f"{e.name}: changed by the optimizer without a gradient")
                continue
            if grad.is_sparse:
                raise ValueError(f"{e.name}: sparse gradients are not supported")
            s = e.settings
            store = e.store
            if s["restrict"] is None:
                # Delta w = w(t+1) - w(t), both as the parameter's dtype holds them,
                # subtracted in double by the store (exact for float32)
                store.add_change(p.detach().numpy(), e.snap.numpy())
            else:
                if e.delta is None:
                    e.delta = torch.empty(p.shape, dtype=torch.float64)
                e.delta.copy_(p)
                e.delta.sub_(e.snap)
                _restrict(e.delta, e.rows, s["restrict"], s["keep"])
                store.add(e.delta.numpy().reshape(e.rows, e.cols))
            if s["cache"]:
                # The MNIST network's order (docs/model.md section 3): add, consolidate by the
                # rule, maintenance c sum|s| on what stays transient, decay.
                store.apply_rule()
                store.charge_maintenance()
                store.decay()
            if s["cache"] or s["restrict"] is not None:
                self._write(e)
        return loss

    def finish(self):
        """End of learning: every transient weight consolidates (counted in consolidation);
        w = l + s is written back."""
        for e in self._entries:
            e.store.finish()
            if e.settings["cache"]:
                self._write(e)

    # ---- energy ----

    @property
    def energy_by_parameter(self):
        """{parameter name: its store's energy dict} (the keys of CachedStore.energy)."""
        return {e.name: e.store.energy for e in self._entries}

    @property
    def energy(self):
        """The totals over every parameter tensor, with the keys of CachedStore.energy."""
        return _sum_energy(self.energy_by_parameter.values())

    # ---- checkpoints ----

    def state_dict(self):
        """The inner optimizer's state dict plus, under "syncache", each store's whole state
        (l, s, the decay gain, energies, counts) and its constructor's arguments."""
        sd = self.optimizer.state_dict()
        sd["syncache"] = {
            "kind": type(self).__name__,
            "names": [e.name for e in self._entries],
            "arguments": [tuple(e.store._arguments()) for e in self._entries],
            "stores": [e.store.get_state() for e in self._entries],
        }
        return sd

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict) or "syncache" not in state_dict:
            raise ValueError("state_dict: not a syncache.torch state dict (no 'syncache' entry)")
        sd = dict(state_dict)
        mine = sd.pop("syncache")
        if mine.get("kind") != type(self).__name__:
            raise ValueError(f"state_dict: saved by {mine.get('kind')}, not {type(self).__name__}")
        names = [e.name for e in self._entries]
        if list(mine.get("names", [])) != names:
            raise ValueError(f"state_dict: holds the parameters {list(mine.get('names', []))}, "
                             f"not {names}")
        for e, args in zip(self._entries, mine["arguments"]):
            if tuple(args) != tuple(e.store._arguments()):
                raise ValueError(f"state_dict: {e.name} was saved with the store {tuple(args)}, "
                                 f"not {tuple(e.store._arguments())}")
        self.optimizer.load_state_dict(sd)
        for e, st in zip(self._entries, mine["stores"]):
            e.store.set_state(st)
            if e.settings["cache"]:
                self._write(e)


def _restrict(delta, rows, restrict, keep):
    """Competitive plasticity (docs/model.md section 6) on one tensor's change: 'synapse'
    keeps the ceil(F n) largest |Δw| of its n elements; 'neuron' keeps the rows (units)
    of the ceil(F rows) largest sum_i |Δw_i| (for one sample of SGD on a Linear layer,
    Δw = -η δ x, that is the units of largest |δ|). The rest is discarded."""
    flat = delta.view(-1)
    if restrict == "synapse":
        k = math.ceil(keep * flat.numel())
        if k < flat.numel():
            kept = torch.zeros(flat.numel(), dtype=torch.bool)
            kept[torch.topk(flat.abs(), k).indices] = True
            flat[~kept] = 0.0
    else:
        m = delta.view(rows, -1)
        k = math.ceil(keep * rows)
        if k < rows:
            kept = torch.zeros(rows, dtype=torch.bool)
            kept[torch.topk(m.abs().sum(dim=1), k).indices] = True
            m[~kept] = 0.0


def _sum_energy(records):
    total = {k: 0.0 for k in ("classic", "consolidation", "maintenance", "change", "pending",
                              "total", "minimal")}
    total["consolidation_events"] = 0
    for r in records:
        for k in total:
            total[k] += r[k]
    return total


class Metered(_Wrapper):
    """Meters the change every ``step()`` of ``optimizer`` applies as classic learning:
    Σ|Δw|^α per parameter tensor (``potentiation_only``: only Δw > 0), the minimal energy
    Σ|w(T) − w(0)|^α; ``energy`` has the keys of :class:`syncache.CachedStore`'s
    (consolidation = classic, nothing pending). ``restrict`` / ``keep``: competitive
    plasticity (only the largest changes of each step are applied). A param group may set
    its own ``alpha``, ``potentiation_only``, ``restrict``, ``keep`` in a dict under its
    key ``"syncache"``."""

    def __init__(self, optimizer, alpha=1.0, potentiation_only=False, *, restrict=None, keep=1.0,
                 model=None):
        defaults = dict(cache=False, rule=None, theta=None, tau=None, c=None, b=None,
                        decay=None, alpha=alpha, potentiation_only=potentiation_only,
                        restrict=restrict, keep=keep)
        super().__init__(optimizer, defaults, model)


class Cached(_Wrapper):
    """Synaptic caching of any optimizer: each parameter tensor is a
    :class:`syncache.CachedStore` (one row per output unit, channel or gate unit with
    ``model=``); every ``step()``'s change goes into the transient weights s, the
    ``rule`` consolidates s into l past ``theta``, maintenance costs ``c`` Σ|s| and s
    decays with ``tau`` (both per step; ``decay`` "exponential" or "linear"); the
    parameter holds w = l + s. ``finish()`` consolidates what is left. A param group may
    set its own ``rule``, ``theta``, ``tau``, ``c``, ``b``, ``decay``, ``alpha``,
    ``potentiation_only``, ``restrict``, ``keep``, and ``cache=False`` (classic learning,
    metered as by :class:`Metered`) in a dict under its key ``"syncache"``, e.g.
    ``dict(params=..., syncache=dict(theta=0.01))``."""

    _cached = True

    def __init__(self, optimizer, *, rule="neuron", theta, tau=math.inf, c=0.0, b=0.0,
                 alpha=1.0, decay="exponential", potentiation_only=False, restrict=None,
                 keep=1.0, model=None):
        defaults = dict(cache=True, rule=rule, theta=theta, tau=tau, c=c, b=b, decay=decay,
                        alpha=alpha, potentiation_only=potentiation_only, restrict=restrict,
                        keep=keep)
        super().__init__(optimizer, defaults, model)
