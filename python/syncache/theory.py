"""The paper's closed forms: ``syncache theory perceptron`` and ``syncache theory transient``."""

from . import _core
from ._args import _command


def perceptron(**kw):
    """Classic inefficiency (Eq. 3), K, T, the optimal threshold and the caching gain for
    N inputs and P patterns (0 < P < 2N); keywords N, P, c (default 0), eta (default 1)."""
    return _core.theory_perceptron(_command(kw, "theory_perceptron"))


def transient(**kw):
    """A decaying transient weight (Eqs. 5-7, corrected): keywords theta, tau (math.inf for
    no decay), p, eta (1), N (1), c (0); returns sigma, mean_abs_s, consolidation_rate,
    maintenance_power, consolidation_power with the inputs."""
    return _core.theory_transient(_command(kw, "theory_transient"))
