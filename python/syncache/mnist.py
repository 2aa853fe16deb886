"""MNIST read by syncache's own IDX reader (the one ``syncache mlp`` uses); nothing downloads."""

from . import _core
from ._args import _count, _existing


def load(folder=None, *, train=0, test=0):
    """The four IDX files of ``folder`` (default, as ``syncache mlp``: $SYNCACHE_MNIST_DIR,
    else the user cache ``~/.cache/syncache/mnist``, which scripts/fetch-mnist fills). Returns a dict of NumPy arrays:
    ``train_images`` (n, 784) float32, pixel / 255, ``train_labels`` (n,) uint8, and the
    same for ``test``. ``train`` / ``test`` > 0 keep only the first that many samples."""
    train, test = _count("train", train, minimum=0), _count("test", test, minimum=0)
    folder = "" if folder is None else _existing("folder", folder, folder=True)
    return _core.mnist_load(folder, train, test)


def default_folder():
    """Where :func:`load` and ``syncache mlp`` look without a folder: $SYNCACHE_MNIST_DIR,
    else the user cache ``${XDG_CACHE_HOME:-~/.cache}/syncache/mnist``."""
    return _core.mnist_default_dir()


__all__ = ["load", "default_folder"]
