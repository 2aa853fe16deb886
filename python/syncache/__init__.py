"""syncache: the metabolic energy of synaptic plasticity, and synaptic caching.

The C++ library of the ``syncache`` command, from Python (Li & van Rossum, "Energy
efficient synaptic plasticity", eLife 2020):

* weight stores for any learning rule written in NumPy: :class:`CachedStore` (transient
  weights that decay, cost maintenance and consolidate into persistent weights past a
  threshold) and :class:`PlainStore` (classic learning), each metering the energy
  ``sum |dw|**alpha`` of its changes;
* every command of the command line, with keyword arguments named like its options
  (underscores for dashes): :func:`perceptron`, :func:`mlp`, :func:`spiking`,
  :func:`syncache.theory.perceptron`, :func:`syncache.theory.transient`, :func:`figure`,
  :func:`sweep`.

A bad argument raises ``ValueError`` (or ``TypeError`` for a wrong type) whose message
starts with the keyword, e.g. ``theta: must be >= 0 (got -1)``; a missing file raises
``FileNotFoundError`` (docs/hardening.md, "Python", states which types are accepted); a
problem of a results store raises :class:`ResultsStoreError` (an ``OSError``) naming its
path. Long calls release the GIL and stop with ``KeyboardInterrupt`` on
Ctrl-C. Nothing is printed on standard output.
"""

import csv
import io
import math
import numbers
import os
import re

import numpy as np

from . import _core, mnist, theory
from ._args import _command, _count, _existing, _flag, _path, _real, _scalar, _shown, _text
from ._core import ResultsStoreError, __version__

__all__ = [
    "CachedStore",
    "PlainStore",
    "perceptron",
    "mlp",
    "spiking",
    "theory",
    "mnist",
    "figure",
    "figure_names",
    "sweep",
    "ResultsStoreError",
    "__version__",
]

# The experiment files, installed with the package (setup.py; the build tree's copy is made
# by CMake).
_EXPERIMENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "experiments")


# ---- weight stores ----


class CachedStore(_core.CachedStore):
    """Weights w = l + s of ``rows`` neurons with ``cols`` synapses each, with synaptic
    caching.

    Changes go to the transient weights s, which decay with time constant ``tau`` (in
    steps), cost ``c`` per ``|s|`` per step and ``b`` per ``|change|`` left transient, and
    consolidate into the persistent weights l when the ``rule``'s statistic exceeds
    ``theta``:

    * ``"synapse"``: ``|s_i|``; consolidates that synapse only;
    * ``"neuron"``: ``max_i |s_i|`` of a row; consolidates the row;
    * ``"sum"``: ``sum_i |s_i|`` of a row; consolidates the row;
    * ``"layer"``: any ``|s_i|``; consolidates every row.

    Each consolidation costs ``|Delta l|**alpha`` (only increases with
    ``potentiation_only``). ``decay="linear"``: s <- s (1 - 1/tau) per step;
    ``"exponential"``: s <- s exp(-1/tau). ``initial``: a (rows, cols) array of starting
    persistent weights (no energy).

    One step of learning: :meth:`begin_step`, then :meth:`add` (one or more times) and
    :meth:`apply_rule`, or :meth:`update` for both; :meth:`finish` at the end.

    .. method:: begin_step()

       Starts a time step: the transient weights decay, then maintenance is charged.

    .. method:: add(dw, *, row=None)

       Adds a change to the transient weights: ``dw`` is a (rows, cols) array, or one
       row's (cols,) array with ``row=k``.

    .. method:: apply_rule()

       Consolidates whatever the rule's statistic says has passed ``theta``.

    .. method:: update(dw, *, row=None)

       :meth:`add`, then :meth:`apply_rule`.

    .. method:: finish()

       The final consolidation: every transient weight goes into the persistent weights
       (and is charged); call it once when learning ends.

    .. method:: decay()
                charge_maintenance()

       The two halves of :meth:`begin_step`, for another order within a step (the MNIST
       network's: add, apply_rule, maintenance, decay).

    .. method:: get_state()
                set_state(state)

       The whole state (l, the scaled transient weights and their gain, the row
       statistics, the running costs, the consolidation events, the starting weights) as
       a dict of arrays and numbers, for checkpoints taken between steps; pickling uses
       them.

    .. method:: write_weights(out)

       Writes w = l + s into a C-contiguous float32 or float64 array of rows * cols
       values (a tensor's ``.numpy()``).

    .. method:: add_change(new, old)

       Adds the change ``new - old`` of two such arrays (taken in double: exact for
       float32) without a difference array.

    .. attribute:: rows
                   cols

       The shape given to the constructor.

    .. attribute:: weights
                   persistent
                   transient

       w = l + s, l and s as (rows, cols) arrays (copies).

    .. attribute:: energy

       The energy record, a dict: ``classic`` (what the same changes would cost applied
       directly), ``consolidation``, ``maintenance``, ``change``, ``pending`` (``|s|``
       still transient, priced as if consolidated now), ``total``, ``minimal``
       (``sum |w - w(0)|**alpha``) and ``consolidation_events``.
    """

    def __init__(self, rows, cols, *, rule="neuron", theta, tau=math.inf, c=0.0, b=0.0,
                 alpha=1.0, potentiation_only=False, decay="linear", initial=None):
        super().__init__(_count("rows", rows), _count("cols", cols), _text("rule", rule),
                         _real("theta", theta), _real("tau", tau), _real("c", c), _real("b", b),
                         _real("alpha", alpha), _flag("potentiation_only", potentiation_only),
                         _text("decay", decay), initial)

    def __reduce__(self):  # pickling: the constructor's arguments and get_state()
        return _rebuild, (type(self), _core.CachedStore, self._arguments(), self.get_state())


class PlainStore(_core.PlainStore):
    """Classic learning: every change goes to the persistent weights of ``rows`` neurons
    with ``cols`` synapses each and costs ``|dw|**alpha`` (only increases with
    ``potentiation_only``).

    The same methods and attributes as :class:`CachedStore` (:meth:`~CachedStore.begin_step`
    and :meth:`~CachedStore.apply_rule` do nothing, ``transient`` is zero), so that one
    learning loop runs with and without caching."""

    def __init__(self, rows, cols, *, alpha=1.0, potentiation_only=False, initial=None):
        super().__init__(_count("rows", rows), _count("cols", cols), _real("alpha", alpha),
                         _flag("potentiation_only", potentiation_only), initial)

    def __reduce__(self):
        return _rebuild, (type(self), _core.PlainStore, self._arguments(), self.get_state())


def _rebuild(cls, core, arguments, state):
    """A pickled store: built with its constructor's arguments, then given its state."""
    store = cls.__new__(cls)
    core.__init__(store, *arguments, None)
    store.set_state(state)
    return store


# ---- commands ----


def perceptron(*, patterns=None, targets=None, **kw):
    """``syncache perceptron``: trains one perceptron; returns the command's JSON as a dict
    (infinite values as ``math.inf``). Keywords: N, P, seed, zero_mean, rule, theta, tau,
    c, b, alpha, potentiation_only, eta, max_epochs. ``patterns`` is a pattern file (CSV)
    or a (P, N) array given with ``targets`` (P values +-1), used as given."""
    if isinstance(patterns, (str, os.PathLike)):
        kw["patterns"] = patterns
        patterns = None
    return _core.perceptron(_command(kw, "perceptron"), patterns, targets)


def spiking(**kw):
    """``syncache spiking``: trains the spiking neuron of Figure 2--supplement 1 (leaky
    integrate-and-fire with adaptation, Poisson inputs, trace STDP into a cached store)
    until its weights converge; returns the command's JSON as a dict (energies in nS,
    ``saving`` = 1 - total/classic, ``success``, ``rounds``, the classes and responses).
    Keywords: patterns (10), rule, theta (nS), tau (ms), c, seed, max_rounds,
    background (``"authors"`` or ``"shunting"``)."""
    return _core.spiking(_command(kw, "spiking"))


def mlp(**kw):
    """``syncache mlp``: trains the 784-H-10 network on MNIST one sample at a time; returns
    its learning curve as a dict of NumPy arrays, one per column of the command's CSV
    (samples, epoch, accuracy, energy_total, energy_consolidation, energy_maintenance,
    energy_pending, energy_minimal, updates, consolidation_events, then the same energies and
    counts of each layer: hidden_energy_total, ..., hidden_consolidation_events,
    output_energy_total, ..., output_consolidation_events).

    Keywords: the network's hidden, eta, rule, theta, tau, c, seed, backprop (``"exact"``
    or ``"authors"``), lazy, lazy_margin, restrict (``"synapse"``, ``"neuron"``,
    ``"path"``), keep (one fraction, or ``(hidden, output)``), keep_rounding (``"ceil"`` or
    ``"authors"``); the stopping rule's epochs, target_accuracy, patience,
    eval_every; the data's train_limit, test_limit, data (the MNIST folder), inputs
    (``"raw"`` or ``"centred-noise"``) and input_noise."""
    return _core.mlp(_command(kw, "mlp", "training", "mlp_data"))


def figure_names():
    """The figures :func:`figure` can draw, in the paper's order."""
    return list(_core.figure_names())


def figure(name, *, scale="quick", out="results", threads=0, plot=True, store="default"):
    """``syncache figure NAME``: computes a figure of the paper into ``out`` (CSV, and
    PNG/SVG with ``plot``, drawn by :mod:`syncache.plot` with this interpreter); returns the
    CSV's path (a list of paths for ``"all"``). Runs go through the results store
    ``out/results.sqlite`` (``store``: another file, or None to keep nothing), so a repeated
    or interrupted call computes only what is missing. A failed drawing raises
    :class:`syncache.plot.PlotError` (the CSV is kept)."""
    _text("name", name)
    known = figure_names()
    if name != "all" and name not in known:
        raise ValueError(f"name: unknown figure {_shown(name)} (allowed: {', '.join(known)}, all)")
    names = known if name == "all" else [name]
    scale = _text("scale", scale)
    if scale not in ("quick", "full"):
        raise ValueError(f"scale: must be quick or full (got {_shown(scale)})")
    plot = _flag("plot", plot)
    threads = _threads(threads)
    out = _path("out", out)
    if store == "default":
        store = os.path.join(out, "results.sqlite")
    store = "" if store is None else _path("store", store)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise _os_error(e, f"out: cannot make the folder '{out}'") from None
    paths = []
    for n in names:
        csv_path = _core.figure(n, scale, out, threads, store, _EXPERIMENTS)
        if plot:
            from . import plot as _plot
            _plot.draw(n, csv_path, os.path.join(out, n), scale)
        paths.append(csv_path)
    return paths if name == "all" else paths[0]


def _os_error(e, what):
    """An OSError of the same class and errno whose message starts with the keyword."""
    err = type(e)(f"{what}: {e.strerror or e}")
    err.errno = e.errno  # str(err) stays the message (no strerror or filename set)
    return err


def _threads(threads):
    return _count("threads", threads, minimum=0, maximum=1024)  # the command line's range


def sweep(spec, *, threads=0, store=None):
    """``syncache sweep``: a grid over the perceptron's options with repeats. ``spec`` is a
    sweep file (TOML) or a dict of the same shape ({"name":, "repeats":, "master_seed":,
    "fixed": {...}, "grid": {...}}). Returns the CSV's columns as a dict of arrays (numbers
    as float arrays, text as str arrays). ``store``: a results store (SQLite) to reuse and
    keep runs in; None keeps nothing."""
    if isinstance(spec, dict):
        text, source = _toml(spec), "sweep"
    elif isinstance(spec, (str, os.PathLike)):
        source = _existing("spec", spec)
        try:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as e:
            raise ValueError(f"spec: '{source}' is not UTF-8 text (byte {e.start})") from None
        except OSError as e:
            raise _os_error(e, f"spec: cannot read '{source}'") from None
    else:
        raise TypeError(f"spec: must be a TOML file's path or a dict (got {_shown(spec)})")
    store = "" if store is None else _path("store", store)
    return _columns(_core.sweep(text, source, _threads(threads), store))


def _columns(text):
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    header, body = rows[0], rows[1:]
    out = {}
    for k, name in enumerate(header):
        values = [r[k] for r in body]
        try:
            out[name] = np.array([float(v) for v in values])
        except ValueError:
            out[name] = np.array(values, dtype=str)
    return out


# A sweep dict's keys and table names: ASCII letters, digits and underscores only, so that
# no key can carry TOML syntax (=, newlines, brackets, quotes) into the rendered text.
_NAME = re.compile(r"[A-Za-z0-9_]+")


def _toml_key(where, key):
    if not isinstance(key, str):
        raise TypeError(f"{where}: keys must be strings (got {_shown(key)})")
    if not _NAME.fullmatch(key):
        raise ValueError(f"{where}: key {_shown(key)} is not a name (letters, digits, _)")
    return key


def _toml_string(key, v):
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{key}: not encodable as UTF-8 (got {_shown(v)})") from None
    out = []
    for ch in v:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(key, v, inner=False):
    v = _scalar(v)
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        v = _real(key, v)
        if math.isinf(v):
            return '"inf"' if v > 0 else "-inf"
        if math.isnan(v):
            return "nan"
        return repr(v)
    if isinstance(v, str):
        return _toml_string(key, v)
    if isinstance(v, (list, tuple, np.ndarray)) and not inner:
        if isinstance(v, np.ndarray) and (v.ndim != 1 or v.dtype.kind not in "biufU"):
            raise TypeError(f"{key}: an array must be 1-d of numbers or texts (got {_shown(v)})")
        return "[" + ", ".join(_toml_value(key, x, inner=True) for x in v) + "]"
    raise TypeError(f"{key}: unsupported value {_shown(v)}")


def _toml(spec):
    """A sweep dict as TOML text: top-level values first, then one table per dict. Keys
    and values are checked first (names of letters, digits and _; numbers, bools, texts
    and flat lists of them), so the text holds exactly the dict."""
    lines, tables = [], []
    for key, value in spec.items():
        key = _toml_key("spec", key)
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(key, value)}")
    for name, table in tables:
        lines.append(f"[{name}]")
        for key, value in table.items():
            key = _toml_key(name, key)
            if isinstance(value, dict):
                raise TypeError(f"{name}.{key}: nested tables are not part of a sweep")
            lines.append(f"{key} = {_toml_value(name + '.' + key, value)}")
    return "\n".join(lines) + "\n"
