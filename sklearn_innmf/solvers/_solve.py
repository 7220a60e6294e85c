"""The entry point of the solvers: :func:`solve` picks the training loop a
:class:`~sklearn_innmf.problem.Problem` needs.
"""

from .gradient import solve_gradient
from .multiplicative import solve_multiplicative


def solve(
    problem,
    *,
    max_iter,
    tol,
    learning_rate=1e-2,
    optimizer="rprop",
    n_mu=3,
    verbose=0,
    desc="fit",
    unit=1.0,
    keep_best_rows=False,
):
    """Solve a :class:`~sklearn_innmf.problem.Problem`.

    With no "gradient" block, multiplicative updates of the "multiplicative"
    blocks (:func:`solve_multiplicative`); otherwise gradient steps of the
    networks, each followed by ``n_mu`` multiplicative updates of the table
    blocks (:func:`solve_gradient`).
    """
    if problem.blocks_with("gradient"):
        return solve_gradient(
            problem,
            max_iter=max_iter,
            tol=tol,
            learning_rate=learning_rate,
            optimizer=optimizer,
            n_mu=n_mu,
            verbose=verbose,
            desc=desc,
            unit=unit,
            keep_best_rows=keep_best_rows,
        )
    return solve_multiplicative(
        problem, max_iter=max_iter, tol=tol, verbose=verbose, desc=desc, unit=unit
    )
