"""syncache for Brian2 networks (docs/brian2.md): meter and cache the changes that a
``Synapses`` object's own ``on_pre``/``on_post`` code makes to a weight variable.

* :func:`attach` (runtime mode): a syncache store behind the variable, checked every
  ``every`` by a NetworkOperation; the store decides, the adapter moves numbers.
* :func:`equations` (standalone mode too): the same caching written as Brian2 model
  additions and ``run_regularly`` code, so that ``cpp_standalone`` runs need no Python.

Bad arguments raise ``TypeError`` (wrong type) or ``ValueError`` (bad value, wrong
units) whose message starts with the argument's name.
"""

from ._attach import Attached, attach
from ._equations import Caching, equations

__all__ = ["attach", "Attached", "equations", "Caching"]
