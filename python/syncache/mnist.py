"""MNIST read by syncache's own IDX reader (the one ``syncache mlp`` uses); nothing downloads."""

from . import _core
from ._args import _count, _existing


def load(folder=None, *, train=0, test=0):
    """The four IDX files of ``folder`` (default: $SYNCACHE_MNIST_DIR, else the source
    tree's data/mnist, as ``syncache mlp``). Returns a dict of NumPy arrays:
    ``train_images`` (n, 784) float32, pixel / 255, ``train_labels`` (n,) uint8, and the
    same for ``test``. ``train`` / ``test`` > 0 keep only the first that many samples."""
    train, test = _count("train", train, minimum=0), _count("test", test, minimum=0)
    folder = "" if folder is None else _existing("folder", folder, folder=True)
    return _core.mnist_load(folder, train, test)


__all__ = ["load"]
