"""Gradient training of implicit factors (Rprop or Adam), each step followed by
``n_mu`` multiplicative updates of the table blocks; optionally keeping, per
row (frame), the best state seen.
"""

import math

import torch

from .common import (
    _CHECK_EVERY,
    FitResult,
    _progress,
    gradient_converged,
)
from .multiplicative import _update_blocks


def solve_gradient(
    problem,
    *,
    max_iter,
    tol,
    learning_rate,
    optimizer="rprop",
    n_mu=3,
    verbose=0,
    desc="fit",
    unit=1.0,
    keep_best_rows=False,
):
    """Gradient training of the problem's "gradient" blocks (the networks).

    Each step minimises the objective (divergence + penalties). After each
    step's backward pass, the "multiplicative" blocks get ``n_mu``
    multiplicative updates with the networks' outputs of that step (subnormal
    table entries are set to 0, see :func:`multiplicative_update`). The
    divergence is recorded at every step; training stops when the objective
    decreased by less than ``tol`` (relative) over the last 10 steps (a rise
    is not convergence). A non-finite loss restores the last finite state
    (networks and tables) and stops.

    ``keep_best_rows``: with one "gradient" block, a table of activations
    whose rows (times) are independent problems
    (:meth:`~sklearn_innmf.problem.Problem.row_objective`), each row ends at
    its iterate of lowest objective: Rprop does not always descend, and a
    row's result then does not depend on when the others stop improving.
    The recorded losses are then those of the kept rows (what stopping at
    that step would return).
    """
    params = problem.gradient_parameters()
    for p in params:
        p.requires_grad_(True)
    if optimizer == "rprop":
        opt = torch.optim.Rprop(params, lr=learning_rate)
    else:
        opt = torch.optim.Adam(params, lr=learning_rate)
    mu_blocks = problem.blocks_with("multiplicative")
    result = FitResult()
    objectives = result.objectives
    bar = _progress(verbose, max_iter, desc)
    tables = {b.axis: problem.table(b.axis) for b in mu_blocks}
    state = params + list(tables.values())
    last_good = [p.detach().clone() for p in state]
    best = None
    if keep_best_rows:
        (block,) = problem.blocks_with("gradient")
        rows_table = problem.table(block.axis)
        best = rows_table.detach().clone()
        best_obj = torch.full((best.shape[0],), float("inf"), dtype=best.dtype,
                              device=best.device)
        best_div = torch.zeros_like(best_obj)
    try:
        for it in range(max_iter + 1):
            opt.zero_grad(set_to_none=True)
            values = problem.values()
            divergence = problem.divergence(values)
            extra = problem.penalty(values)
            objective = divergence if extra is None else divergence + extra
            loss_value = float(divergence.detach())
            objective_value = float(objective.detach())
            if not (math.isfinite(loss_value) and math.isfinite(objective_value)):
                with torch.no_grad():
                    for p, good in zip(state, last_good):
                        p.copy_(good)
                result.nonfinite = True
                result.n_iter = max(it - 1, 0)
                break
            if best is not None:
                with torch.no_grad():
                    row_div = problem.model.row_losses(values, problem.data, problem.beta)
                    row_obj = problem.row_objective(values, row_div)
                    better = row_obj < best_obj  # NaN is never better
                    best[better] = rows_table[better]
                    best_obj = torch.where(better, row_obj, best_obj)
                    best_div = torch.where(better, row_div, best_div)
                    loss_value = float(best_div.sum()) / max(problem.data.m.numel(), 1)
            result.losses.append(loss_value)
            objectives.append(objective_value)
            if bar is not None and it % _CHECK_EVERY == 0:
                bar.set_postfix(loss=f"{unit * loss_value:.4g}")
            if gradient_converged(objectives, tol):
                result.converged = True
                result.n_iter = it
                break
            if it == max_iter:
                result.n_iter = max_iter
                break
            with torch.no_grad():
                for p, good in zip(state, last_good):
                    good.copy_(p)
            if params:
                objective.backward()
            if mu_blocks:
                # the tables' updates use this step's network outputs (no
                # second forward pass), then the networks take their step
                with torch.no_grad():
                    values = [v.detach() for v in values]
                    for a, table in tables.items():
                        values[a] = table
                    for _ in range(n_mu):
                        _update_blocks(problem, values, mu_blocks, first_with_loss=False)
            if params:
                opt.step()
                with torch.no_grad():
                    problem.project()
            if bar is not None:
                bar.update(1)
    finally:
        for p in params:
            p.requires_grad_(False)
        if bar is not None:
            bar.close()
    if best is not None:
        with torch.no_grad():
            rows_table.copy_(best)
    return result
