"""Training loops over a :class:`~sklearn_innmf.problem.Problem`, and nothing of sklearn.

:func:`solve` dispatches: multiplicative updates when every learned block is
a table (:mod:`~sklearn_innmf.solvers.multiplicative`), otherwise gradient
steps of the networks with multiplicative updates of the tables in between
(:mod:`~sklearn_innmf.solvers.gradient`). The stopping rules and the result
type are in :mod:`~sklearn_innmf.solvers.common`.
"""

from ._solve import solve
from .common import FitResult, gradient_converged
from .gradient import solve_gradient
from .multiplicative import multiplicative_update, solve_multiplicative

__all__ = [
    "solve",
    "FitResult",
    "gradient_converged",
    "multiplicative_update",
    "solve_multiplicative",
    "solve_gradient",
]
