"""The energy record of a saved syncache.torch run, per layer.

``python -m syncache.torch.report ckpt.pt`` prints it; :func:`records` returns it. The
checkpoint is what ``torch.save`` wrote of a wrapper's ``state_dict()``, or a dict holding
one (e.g. ``{"model": ..., "optimizer": opt.state_dict()}``).
"""

import argparse
import os
import sys

import torch

from .. import _core

KEYS = ("classic", "consolidation", "maintenance", "change", "pending", "total", "minimal",
        "consolidation_events")


def _wrapper_state(checkpoint):
    if isinstance(checkpoint, (str, os.PathLike)):
        path = os.fspath(checkpoint)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"checkpoint: no such file '{path}'")
        checkpoint = torch.load(path)
    if isinstance(checkpoint, dict):
        if "syncache" in checkpoint:
            return checkpoint["syncache"]
        for value in checkpoint.values():
            if isinstance(value, dict) and "syncache" in value:
                return value["syncache"]
    raise ValueError("checkpoint: holds no syncache.torch state dict (a Metered or Cached "
                     "wrapper's state_dict())")


def records(checkpoint):
    """{parameter name: energy dict} of a checkpoint (a path or a loaded dict), each store
    rebuilt from its saved state, so the record is the store's own."""
    state = _wrapper_state(checkpoint)
    out = {}
    for name, args, st in zip(state["names"], state["arguments"], state["stores"]):
        core = _core.CachedStore if len(args) == 10 else _core.PlainStore
        store = core(*args, None)
        store.set_state(st)
        out[name] = store.energy
    return out


def layer_of(name):
    """A parameter's layer: its module's name ("fc1" of "fc1.weight")."""
    return name.rsplit(".", 1)[0] if "." in name else name


def by_layer(checkpoint):
    """{layer: energy dict summed over the layer's tensors} in the checkpoint's order."""
    out = {}
    for name, rec in records(checkpoint).items():
        acc = out.setdefault(layer_of(name), {k: 0 for k in KEYS})
        for k in KEYS:
            acc[k] += rec[k]
    return out


def table(checkpoint):
    """The per-layer record as a text table, with a total line."""
    layers = by_layer(checkpoint)
    total = {k: sum(r[k] for r in layers.values()) for k in KEYS}
    width = max([len("layer"), len("total")] + [len(n) for n in layers])
    cols = {k: max(len(k), 12) for k in KEYS}
    lines = [f"{'layer':<{width}} " + " ".join(f"{k:>{cols[k]}}" for k in KEYS)]
    for name, rec in list(layers.items()) + [("total", total)]:
        cells = [f"{rec[k]:>{cols[k]}d}" if k == "consolidation_events" else
                 f"{rec[k]:>{cols[k]}.6g}" for k in KEYS]
        lines.append(f"{name:<{width}} " + " ".join(cells))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m syncache.torch.report",
        description="The energy record, per layer, of a checkpoint holding a syncache.torch "
                    "wrapper's state_dict().")
    parser.add_argument("checkpoint", help="a file written by torch.save")
    args = parser.parse_args(argv)
    try:
        print(table(args.checkpoint))
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
