"""Standalone mode: synaptic caching written as Brian2 equations (docs/brian2.md).

The same check as :func:`syncache.brian2.attach` (the store's step order, docs/model.md
section 2), as code that Brian2 generates for any target, cpp_standalone included: every
``every``, at the start of a step,

    dw = w - (l + s)                    net change since the last check
    s <- s f                            decay, f = 1 - 1/tau (linear) or exp(-1/tau)
    M_trans += c |s|                    maintenance, after the decay
    M_classic += cost(dw); s += dw
    consolidation (rule): l += s, M_cons += cost(s), s = 0
    M_change += b |dw| if s stayed transient;  w = l + s

with cost(x) = |x|^alpha (x != 0; x > 0 only with potentiation_only). The row rules
read the postsynaptic neuron's summed variables (the number of synapses with |s| > theta
for ``neuron``, sum |s| for ``sum``), which Brian2 computes in the ``groups`` slot, so
that they consolidate in the ``thresholds`` slot of the same step. Counters are
per-synapse variables in the SI base units of w; :meth:`Caching.energy` sums them into
the keys of ``CachedStore.energy``.
"""

import math

import brian2
import numpy as np
from brian2.units.fundamentalunits import DIMENSIONLESS

from .._args import _flag, _real, _text
from ._units import _number, in_units, interval, per_check, synapses_of, tau_steps, variable_of

_RULES = ("synapse", "neuron", "sum")


class Caching:
    """What :func:`equations` returns: ``model`` (add to the Synapses' model),
    ``post_model`` (add to the postsynaptic NeuronGroup's model; empty for the synapse
    rule), ``check`` and ``rule_code`` (the run_regularly code, at the start of the step
    and, for the row rules, in the thresholds slot), ``names`` (the added variables);
    :meth:`install` sets the starting state and adds the run_regularly operations,
    :meth:`energy` reads the energies after a run."""

    def __init__(self, var, prefix, unit, dim, rule, every, model, post_model, check, rule_code,
                 cost):
        self.var, self.prefix, self.unit, self.dim, self.rule = var, prefix, unit, dim, rule
        self.every = every
        self.model, self.post_model = model, post_model
        self.check, self.rule_code = check, rule_code
        self._cost = cost
        self.names = {k: prefix + k for k in
                      ("l", "s", "dw", "w0", "classic", "cons", "maint", "change", "events")}

    def install(self, synapses):
        """Starting state l = w (w as set now), s = 0, and the run_regularly operations
        (contained in the synapses: no object to add to the Network). Call after
        connect() and after setting w, before the run."""
        synapses_of(synapses)
        variable = variable_of(synapses, self.var)
        if self.names["s"] not in synapses.variables:
            raise ValueError(f"synapses: {synapses.name} lacks the caching variables; build it "
                             f"with model=... + caching.model")
        if variable.dim != self.dim:
            raise ValueError(f"theta: must be in the units of {self.var} "
                             f"({brian2.get_unit(variable.dim)!r}), as they set the units of "
                             f"the caching variables")
        interval("every", self.every * brian2.second, float(np.asarray(synapses.clock.dt)))
        n = self.names
        setattr(synapses, n["l"], self.var)
        setattr(synapses, n["w0"], self.var)
        dt = self.every * brian2.second
        synapses.run_regularly(self.check, dt=dt, when="start", name=synapses.name + "_cache_check")
        if self.rule_code:
            synapses.run_regularly(self.rule_code, dt=dt, when="thresholds",
                                   name=synapses.name + "_cache_rule")

    def energy(self, synapses):
        """The energy record (CachedStore.energy's keys) from the counters: pending =
        sum cost(s), total = consolidation + maintenance + change + pending, minimal =
        sum cost(w - w0), in the SI base units of w."""
        n = self.names

        def values(name):
            return np.asarray(synapses.variables[name].get_value(), dtype=float)

        s = values(n["s"])
        w = values(self.var)
        e = {
            "classic": values(n["classic"]).sum(),
            "consolidation": values(n["cons"]).sum(),
            "maintenance": values(n["maint"]).sum(),
            "change": values(n["change"]).sum(),
            "pending": self._cost(s).sum(),
        }
        e["total"] = e["consolidation"] + e["maintenance"] + e["change"] + e["pending"]
        e["minimal"] = self._cost(w - values(n["w0"])).sum()
        e["consolidation_events"] = int(round(values(n["events"]).sum()))
        return {k: float(v) if k != "consolidation_events" else v for k, v in e.items()}


def equations(var="w", *, rule="neuron", theta, tau=math.inf, c=0.0, b=0.0, alpha=1.0,
              decay="linear", potentiation_only=False, every, prefix=None):
    """Synaptic caching of the Synapses variable ``var`` as Brian2 code (any target,
    cpp_standalone included); the arguments are those of :func:`attach` (``theta`` carries
    the units of ``var``: 0*nS, not 0, for a conductance; ``every`` is required). Rules:
    ``synapse``, ``neuron``, ``sum``. The variables are named ``prefix`` + l, s, dw, w0,
    classic, cons, maint, change, events (prefix ``var + "_"`` by default) and, in the
    postsynaptic group, ``prefix`` + over (neuron) or sum (sum)."""
    _text("var", var)
    if _text("rule", rule) not in _RULES:
        raise ValueError(f"rule: must be one of {', '.join(_RULES)} in equations "
                         f"(got {rule!r}; the layer rule needs attach())")
    every = interval("every", every, None)
    dim = _number("theta", theta)[1]
    theta = in_units("theta", theta, dim, var)
    steps = tau_steps(tau, every, decay)
    c = per_check(c, every)
    b = _real("b", b)
    alpha = _real("alpha", alpha)
    if not 0 <= alpha <= 2:
        raise ValueError(f"alpha: must lie in [0, 2] (got {alpha!r})")
    potentiation_only = _flag("potentiation_only", potentiation_only)
    p = var + "_" if prefix is None else _text("prefix", prefix)
    plain = dim == DIMENSIONLESS
    unit = "1" if plain else repr(brian2.get_unit(dim))
    per_unit = "" if plain else f" / {unit}"  # SI value of a quantity of w's units

    def cost(x):  # cost(x) = |x|^alpha, 0 for x = 0 (MODEL.md section 1), as code
        size, si = f"abs({x}){per_unit}", f"{x}{per_unit}"
        e = size if alpha == 1 else f"int({si} != 0)" if alpha == 0 else \
            f"int({si} != 0) * ({size})**{alpha!r}"
        return f"int({si} > 0) * {e}" if potentiation_only else e

    def cost_value(x):  # the same, on values
        x = np.asarray(x, dtype=float)
        e = np.where(x != 0, np.abs(x) ** alpha, 0.0)
        return np.where(x > 0, e, 0.0) if potentiation_only else e

    l, s, dw = p + "l", p + "s", p + "dw"
    model = "\n".join(f"{p}{k} : {unit}" for k in ("l", "s", "dw", "w0")) + "\n" + \
        "\n".join(f"{p}{k} : 1" for k in ("classic", "cons", "maint", "change", "events")) + "\n"
    theta_code = "inf" if math.isinf(theta) else repr(theta) + ("" if plain else f" * {unit}")
    over = f"int(abs({s}) > {theta_code})"
    post_model = ""
    if rule == "neuron":  # number of the row's synapses with |s| > theta
        model += f"{p}over_post = {over} : 1 (summed)\n"
        post_model, flag = f"{p}over : 1\n", f"int({p}over_post > 0)"
    elif rule == "sum":  # sum_i |s_i| of the row
        model += f"{p}sum_post = abs({s}) : {unit} (summed)\n"
        post_model, flag = f"{p}sum : {unit}\n", f"int({p}sum_post > {theta_code})"
    else:
        flag = over
    factor = 1.0 if math.isinf(steps) else (1.0 - 1.0 / steps if decay == "linear"
                                            else math.exp(-1.0 / steps))
    check = [f"{dw} = {var} - ({l} + {s})"]  # net change since the last check
    if factor != 1.0:
        check.append(f"{s} = {s} * {factor!r}")  # decay
    if c > 0:
        check.append(f"{p}maint += {c!r} * abs({s}){per_unit}")  # M_trans += c |s|
    check += [f"{p}classic += {cost(dw)}", f"{s} += {dw}"]
    consolidate = [
        f"{p}hit = {flag}",
        f"{l} += {p}hit * {s}",  # l += s
        f"{p}cons += {p}hit * {cost(s)}",  # M_cons += cost(s)
        f"{p}events += {p}hit * int({s}{per_unit} != 0)",
    ]
    if b > 0:  # M_change += b |dw| for a change that stays transient
        consolidate.append(f"{p}change += {b!r} * (1 - {p}hit) * abs({dw}){per_unit}")
    consolidate.append(f"{s} = (1 - {p}hit) * {s}")
    if rule == "synapse":
        check += consolidate + [f"{var} = {l} + {s}"]
        rule_code = ""
    else:
        check.append(f"{var} = {l} + {s}")  # l + s is unchanged by the consolidation
        rule_code = "\n".join(consolidate) + "\n"
    return Caching(var, p, unit, dim, rule, every, model, post_model, "\n".join(check) + "\n",
                   rule_code, cost_value)
