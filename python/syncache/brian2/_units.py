"""Argument checks of syncache.brian2 in Brian2's units: each error names its keyword
(TypeError for a wrong type, ValueError for a bad value or a wrong dimension)."""

import math

import brian2
import numpy as np
from brian2.core.variables import ArrayVariable
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions

from .._args import _real, _shown, _text

_SECOND = get_dimensions(brian2.second)


def _number(key, value):
    """A real number or a Brian2 quantity (a scalar); returns (float in SI, dimensions)."""
    if isinstance(value, Quantity):
        if value.shape != ():
            raise TypeError(f"{key}: must be a single value (got {_shown(value)})")
        return float(np.asarray(value)), get_dimensions(value)
    return _real(key, value), DIMENSIONLESS


def synapses_of(value):
    if not isinstance(value, brian2.Synapses):
        raise TypeError(f"synapses: must be a brian2.Synapses (got {_shown(value)})")
    return value


def variable_of(synapses, var):
    """The per-synapse, writable variable `var` of `synapses`."""
    _text("var", var)
    variables = synapses.variables
    names = sorted(k for k, v in variables.items()
                   if not k.startswith("_") and isinstance(v, ArrayVariable)
                   and getattr(v.owner, "name", None) == synapses.name and not v.read_only
                   and not v.scalar and k not in ("lastupdate", "delay"))
    if var not in variables:
        raise ValueError(f"var: {synapses.name} has no variable '{var}' (its per-synapse "
                         f"variables: {', '.join(names) or 'none'})")
    if var not in names:
        raise ValueError(f"var: '{var}' of {synapses.name} is not a writable per-synapse "
                         f"variable (those are: {', '.join(names) or 'none'})")
    return variables[var]


def interval(key, value, dt):
    """A time > 0 that is a whole number of steps of `dt` (seconds; None: any); returns
    seconds."""
    v, dim = _number(key, value)
    if dim != _SECOND:
        raise ValueError(f"{key}: must be a time, e.g. 1*ms (got {_shown(value)})")
    if not v > 0 or math.isinf(v):
        raise ValueError(f"{key}: must be > 0 and finite (got {_shown(value)})")
    if dt is None:
        return v
    steps = v / dt
    if abs(steps - round(steps)) > 1e-9 * steps or round(steps) < 1:
        raise ValueError(f"{key}: must be a whole number of the synapses' time steps "
                         f"dt = {dt * 1e3:g} ms (got {_shown(value)})")
    return v


def in_units(key, value, dim, name):
    """A value >= 0 in the units `dim` of the variable `name` (plain 0 and inf are taken
    in any units); returns it in SI."""
    v, d = _number(key, value)
    if d != dim and not (d == DIMENSIONLESS and (v == 0 or math.isinf(v))):
        raise ValueError(f"{key}: must be in the units of {name} "
                         f"({brian2.get_unit(dim)!r}) (got {_shown(value)})")
    if not v >= 0:
        raise ValueError(f"{key}: must be >= 0 (got {_shown(value)})")
    return v


def tau_steps(tau, every, decay):
    """tau (a time, or inf) in steps of `every` (seconds): tau / every."""
    _text("decay", decay)
    if decay not in ("linear", "exponential"):
        raise ValueError(f"decay: must be linear or exponential (got {decay!r})")
    v, d = _number("tau", tau)
    if math.isinf(v) and v > 0:
        return math.inf
    if d != _SECOND:
        raise ValueError(f"tau: must be a time, e.g. 100*ms, or inf (got {_shown(tau)})")
    steps = v / every
    if decay == "linear" and not steps >= 1:
        raise ValueError(f"tau: must be >= every ({every * 1e3:g} ms) with linear decay "
                         f"s <- s (1 - every/tau) (got {_shown(tau)})")
    if not steps > 0:
        raise ValueError(f"tau: must be > 0 (got {_shown(tau)})")
    return steps


def per_check(c, every):
    """c, the maintenance cost per unit |s| per ms (a number) or per unit time (a
    quantity of dimension 1/time), as the cost per check of `every` seconds."""
    v, d = _number("c", c)
    if d == DIMENSIONLESS:
        v *= 1e3  # per ms -> per second
    elif d != _SECOND**-1:
        raise ValueError(f"c: must be a number (per ms) or a rate, e.g. 0.01/ms "
                         f"(got {_shown(c)})")
    if not v >= 0 or math.isinf(v):
        raise ValueError(f"c: must be >= 0 and finite (got {_shown(c)})")
    return v * every  # cost per check = c [1/s] * every [s]

