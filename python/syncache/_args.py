"""Argument checks shared by the stores and the commands: each error names its keyword."""

import numbers
import os

import numpy as np


def _real(key, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{key}: must be a number (got {_shown(value)})")
    return float(value)


def _count(key, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{key}: must be an integer (got {_shown(value)})")
    if value < 1:
        raise ValueError(f"{key}: must be >= 1 (got {int(value)})")
    return int(value)


def _flag(key, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{key}: must be True or False (got {_shown(value)})")
    return bool(value)


def _text(key, value):
    if not isinstance(value, str):
        raise TypeError(f"{key}: must be a string (got {_shown(value)})")
    return value


def _shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(kw):
    """NumPy scalars as Python numbers, paths as strings: what the C++ reader takes."""
    out = {}
    for key, value in kw.items():
        if isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, os.PathLike):
            value = os.fspath(value)
        out[key] = value
    return out


def _existing(key, path, folder=False):
    path = os.fspath(path)
    if folder and not os.path.isdir(path):
        raise FileNotFoundError(f"{key}: no such folder '{path}'")
    if not folder and not os.path.isfile(path):
        raise FileNotFoundError(f"{key}: no such file '{path}'")
    return path
