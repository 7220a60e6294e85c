"""What the training loops share: the result type (:class:`FitResult`), the progress
bar, and the stopping rules (relative change of the loss, checked every 10
iterations as in scikit-learn's NMF).
"""

import math
from dataclasses import dataclass, field

import numpy as np

_EPS64 = float(np.finfo(np.float64).eps)
# convergence is checked every _CHECK_EVERY iterations, as in sklearn's NMF
_CHECK_EVERY = 10


@dataclass
class FitResult:
    """What a training loop reports."""

    n_iter: int = 0
    losses: list = field(default_factory=list)  # mean divergence, normalised units
    objectives: list = field(default_factory=list)  # divergence + penalties, same points
    converged: bool = False
    nonfinite: bool = False


def gradient_converged(objectives, tol):
    """The gradient loops' rule, checked every 10 steps: the objective fell
    by less than ``tol`` (relative) over the last 10 steps (a rise is not
    convergence)."""
    n_done = len(objectives) - 1
    if tol <= 0 or n_done < _CHECK_EVERY or n_done % _CHECK_EVERY:
        return False
    previous = objectives[-1 - _CHECK_EVERY]
    return 0.0 <= previous - objectives[-1] < tol * abs(previous)


def _progress(verbose, max_iter, desc):
    if not verbose:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=max_iter, desc=desc, leave=verbose > 1)


def _converged(losses, n_points, tol):
    """sklearn's rule: the decrease of sqrt(2 * total divergence) since the
    previous check, relative to its initial value, is below tol."""
    if tol <= 0 or len(losses) < 2:
        return False
    err = [math.sqrt(max(2.0 * v * n_points, 0.0)) for v in (losses[0], losses[-2], losses[-1])]
    return (err[1] - err[2]) / max(err[0], 1e-300) < tol
