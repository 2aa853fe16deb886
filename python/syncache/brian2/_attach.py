"""Runtime mode: a syncache store behind a Synapses variable (docs/brian2.md).

At each check (a NetworkOperation on its own clock of period ``every``, at the start of
a time step) the net change the network made to each synapse since the last check goes
into the store (begin_step, add, apply_rule: the store's step order) and the variable is
set to the store's weight l + s. The store decides; this module moves numbers.
"""

import math

import brian2
import numpy as np
from brian2.devices.device import RuntimeDevice, get_device

from .. import CachedStore, PlainStore
from .._args import _flag, _real, _text
from ._units import in_units, interval, per_check, synapses_of, tau_steps, variable_of


def layout(post):
    """Rows = postsynaptic neurons, one slot per synapse: synapse k sits in row post[k]
    at column = its rank among that row's synapses (in synapse order), so that a row
    holds only its own synapses; rows are padded to the largest fan-in. Returns (flat
    index of each synapse in the rows x cols array, cols)."""
    post = np.asarray(post, dtype=np.int64)
    order = np.argsort(post, kind="stable")
    sorted_post = post[order]
    first = np.searchsorted(sorted_post, sorted_post, side="left")  # row's first position
    rank = np.empty_like(post)
    rank[order] = np.arange(len(post)) - first
    cols = int(rank.max()) + 1
    return post * cols + rank, cols


class Attached(brian2.NetworkOperation):
    """A store attached to a Synapses variable: made by :func:`attach`. Put it in the
    ``Network`` with the synapses (Brian2's magic ``run()`` collects it when it is held in
    a variable of the calling scope)."""

    def __init__(self, synapses, var, make_store, every):
        super().__init__(self._check, dt=every * brian2.second, when="start",
                         name=f"{synapses.name}_syncache*")
        self.synapses, self.var = synapses, var
        self._variable = synapses.variables[var]
        self._n = len(synapses)
        self._slot, cols = layout(np.asarray(synapses.j[:]))
        self._rows = len(synapses.target)
        self._make = lambda initial: make_store(self._rows, cols, initial)
        self._dense = np.zeros((self._rows, cols))
        self.checks = 0
        self._start()

    def _values(self):
        values = self._variable.get_value()
        if len(values) != self._n:
            raise RuntimeError(f"synapses: {self.synapses.name} has {len(values)} synapses, "
                               f"{self._n} when the store was attached; attach after connect()")
        return values

    def _start(self):
        """The store starts from the current weights as persistent weights (no energy)."""
        self._last = np.array(self._values(), dtype=float)
        initial = np.zeros(self._dense.shape)
        initial.flat[self._slot] = self._last
        self.store = self._make(initial)

    def before_run(self, run_namespace):
        super().before_run(run_namespace)
        if self.checks == 0:  # weights set after attach() are the starting point
            self._start()

    def _check(self):
        values = self._values()
        self._dense.flat[self._slot] = values - self._last  # net change since the last check
        st = self.store
        st.begin_step()  # decay s, then maintenance c sum |s|
        st.add(self._dense)  # s += dw
        st.apply_rule()  # consolidation
        self._last = st.weights.ravel()[self._slot]  # w = l + s
        values[:] = self._last
        self.checks += 1

    def finish(self):
        """The check the next run would make at its start (the changes since the last
        check), then the final consolidation of every transient weight: w = l."""
        self._check()
        self.store.finish()
        self._last = self.store.weights.ravel()[self._slot]
        self._values()[:] = self._last

    @property
    def energy(self):
        """The store's energy record (CachedStore.energy's keys), in the SI base units of
        the variable; changes since the last check are not in it yet."""
        return self.store.energy

    @property
    def persistent(self):
        """l of each synapse, in synapse order (SI units)."""
        return self.store.persistent.ravel()[self._slot]

    @property
    def transient(self):
        """s of each synapse, in synapse order (SI units)."""
        return self.store.transient.ravel()[self._slot]


def attach(synapses, var, *, rule="neuron", theta=None, tau=math.inf, c=0.0, b=0.0, alpha=1.0,
           decay="linear", potentiation_only=False, every=1 * brian2.ms):
    """Attaches a syncache store to the per-synapse variable ``var`` of ``synapses``
    (Brian2's runtime mode). Returns an :class:`Attached` (a NetworkOperation) to put in
    the Network.

    Every ``every`` (a whole number of the synapses' time steps) the net change of each
    synapse since the last check goes into the store, and ``var`` becomes l + s: the
    network's own changes show at once, decay and consolidation at the checks. Rows are
    the postsynaptic neurons (``j``); ``rule`` is ``synapse``, ``neuron``, ``sum`` or
    ``layer`` (a :class:`syncache.CachedStore`), or ``classic`` (a
    :class:`syncache.PlainStore`: classic metering; theta, tau, c and b not used).
    ``theta`` in the units of ``var``; ``tau`` a time (or inf); ``c`` the maintenance cost
    per unit ``|s|`` per ms (or a rate such as 0.01/ms); energies in the SI base units of
    ``var``.
    """
    synapses_of(synapses)
    if not isinstance(get_device(), RuntimeDevice):
        raise ValueError("synapses: attach() runs in Brian2's runtime mode; under "
                         "standalone mode use syncache.brian2.equations()")
    variable = variable_of(synapses, var)
    if len(synapses) == 0:
        raise ValueError(f"synapses: {synapses.name} has no synapses (attach after connect())")
    every = interval("every", every, float(np.asarray(synapses.clock.dt)))
    alpha = _real("alpha", alpha)
    potentiation_only = _flag("potentiation_only", potentiation_only)
    if _text("rule", rule) == "classic":
        for key, value, default in (("theta", theta, None), ("tau", tau, math.inf),
                                    ("c", c, 0.0), ("b", b, 0.0)):
            if not (value is default or value == default):
                raise ValueError(f"{key}: not used with rule='classic' (got {value!r})")

        def make(rows, cols, initial):
            return PlainStore(rows, cols, alpha=alpha, potentiation_only=potentiation_only,
                              initial=initial)
    else:
        if theta is None:
            raise ValueError(f"theta: required with rule={rule!r} (0 meters classically)")
        theta = in_units("theta", theta, variable.dim, var)
        tau = tau_steps(tau, every, decay)
        c = per_check(c, every)
        b = _real("b", b)

        def make(rows, cols, initial):
            return CachedStore(rows, cols, rule=rule, theta=theta, tau=tau, c=c, b=b,
                               alpha=alpha, potentiation_only=potentiation_only, decay=decay,
                               initial=initial)

    make(1, 1, None)  # the store's own checks of rule, b, alpha, now
    return Attached(synapses, var, make, every)
