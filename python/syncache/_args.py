"""The one conversion of Python arguments (docs/hardening.md, "Python"): each error names
its keyword first; a wrong type is a TypeError, a bad value a ValueError.

* numbers (``_real``): int, float, any ``numbers.Real`` (NumPy integer and float scalars
  included) and 0-d integer or float arrays; bools, strings, None and complex refused;
  an integer too large for a double is a ValueError;
* integers (``_integer``, ``_count``): int, NumPy integer scalars, 0-d integer arrays;
  floats (even 2.0) and bools refused; counts at most 2**62 (``threads`` 1024);
* flags (``_flag``): bool and ``numpy.bool_`` only;
* texts (``_text``): str only, without NUL characters;
* paths (``_path``, ``_existing``): str or ``os.PathLike`` giving str; bytes refused; a
  NUL character is a ValueError;
* arrays: converted in the C++ module (``numeric_array``), the same rules: integers and
  floats only.
"""

import math
import numbers
import os

import numpy as np

from . import _core


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _scalar(value):
    """A 0-d NumPy array as its element; anything else as it is."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value[()]
    return value


def _real(key, value):
    value = _scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{key}: must be a number (got {_shown(value)})")
    try:
        x = float(value)
        if math.isinf(x) and not math.isinf(value):  # a NumPy longdouble beyond a double
            raise OverflowError
    except OverflowError:
        raise ValueError(f"{key}: out of range of a double (|{key}| > 1.8e308)") from None
    return x


def _integer(key, value):
    value = _scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{key}: must be an integer (got {_shown(value)})")
    return int(value)


def _count(key, value, minimum=1, maximum=2**62):
    value = _integer(key, value)
    if value < minimum:
        raise ValueError(f"{key}: must be >= {minimum} (got {value})")
    if value > maximum:
        raise ValueError(f"{key}: must be <= {maximum} (got {_shown(value)})")
    return value


def _flag(key, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{key}: must be True or False (got {_shown(value)})")
    return bool(value)


def _text(key, value):
    if not isinstance(value, str):
        raise TypeError(f"{key}: must be a string (got {_shown(value)})")
    if "\0" in value:
        raise ValueError(f"{key}: a text may not contain a NUL character")
    return str(value)


def _path(key, value):
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{key}: must be a path, a str or os.PathLike (got {_shown(value)})")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError(f"{key}: must be a path as str (got {_shown(path)})")
    if "\0" in path:
        raise ValueError(f"{key}: a path may not contain a NUL character")
    return path


def _existing(key, path, folder=False):
    path = _path(key, path)
    if folder and not os.path.isdir(path):
        raise FileNotFoundError(f"{key}: no such folder '{path}'")
    if not folder and not os.path.isfile(path):
        raise FileNotFoundError(f"{key}: no such file '{path}'")
    return path


# The parameter tables' kinds (the C++ tables, _core.tables) -> their conversion.
_KINDS = {"integer": _integer, "seed": _integer, "real": _real, "flag": _flag, "text": _text}
# Text parameters that are files or folders.
_PATHS = {"patterns": False, "data": True}
# Parameters that also take a list or tuple of values of their kind, at most this many
# (keep: one fraction, or one per layer: hidden, output).
_LISTS = {"keep": 2}


def _command(kw, *tables):
    """A command's keywords converted by the kinds of its parameter tables; unknown
    keywords pass as they are (the C++ reader names them)."""
    kinds = {row[0]: row[1] for t in tables for row in _core.tables[t]}
    out = {}
    for key, value in kw.items():
        kind = kinds.get(key)
        if key in _PATHS and kind == "text":
            value = _existing(key, value, folder=_PATHS[key])
        elif key in _LISTS and isinstance(value, (list, tuple)):
            if not 1 <= len(value) <= _LISTS[key]:
                raise ValueError(f"{key}: one to {_LISTS[key]} values (got {len(value)})")
            value = [_KINDS[kind](key, v) for v in value]
        elif kind is not None:
            value = _KINDS[kind](key, value)
        out[key] = value
    return out
