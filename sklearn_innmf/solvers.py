"""Training loops: multiplicative updates for table factors, gradient steps
(Rprop or Adam) for implicit ones, and the stopping rules.

Functions of a :class:`~sklearn_innmf.problem.Problem` (a model, its points,
the loss, penalties and the update rule of each block); they know nothing of
sklearn.
"""

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .divergences import EPSILON, beta_divergence

__all__ = [
    "FitResult",
    "multiplicative_update",
    "solve",
    "solve_multiplicative",
    "solve_gradient",
]

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


def _gamma(beta):
    """Exponent of the multiplicative update (Fevotte & Idier 2011), as sklearn."""
    if beta < 1:
        return 1.0 / (2.0 - beta)
    if beta > 2:
        return 1.0 / (beta - 1.0)
    return 1.0


def multiplicative_update(
    values, axis, data, beta, *, with_loss=True, columns=slice(None), terms=None
):
    """One multiplicative update of ``values[axis][:, columns]`` in place.

    The other factors (and the other components) are held fixed. On a grid
    this is sklearn's dense update (masked if the grid is not full); on
    scattered points the same sums are taken over the observed points with
    ``index_add_``, so memory is O(n_points * K) and no grid is built.

    ``terms``, a pair of lists ``(numerator_terms, denominator_terms)`` (see
    :meth:`~sklearn_innmf.problem.Problem.mu_terms`), are added in order to
    the numerator and the denominator: the penalties' parts, as sklearn adds
    ``l1_reg`` and ``l2_reg * W`` to its denominator.

    Entries that fall below the smallest normal number of the dtype
    (``torch.finfo(dtype).tiny``, 1.2e-38 in float32) are set to 0, where MU
    keeps them: subnormal arithmetic is slow on x86 CPUs, and such entries
    are otherwise what decaying entries become. This changes nothing while
    no entry is subnormal; the process's floating-point mode is not touched.

    Returns
    -------
    loss : Tensor or None
        With ``with_loss``, the mean beta-divergence of the state *before* the
        update (it shares the reconstruction the update needs).
    """
    G = values[axis]
    every = columns == slice(None)
    if data.grid is not None:
        # work in the grid's own (contiguous) orientation; the final
        # products are arranged by _grid_product
        other = values[1 - axis]
        V, mask = data.grid, data.mask
        # the model on the grid goes to a T x F array kept with the data and
        # reused by every update (not a fresh one per matmul)
        WH = _grid_work(data, G)
        if axis == 0:
            torch.mm(G, other.T, out=WH)
        else:
            torch.mm(other, G.T, out=WH)
        loss = beta_divergence(V, WH, beta, weight=mask) if with_loss else None
        num, den = _ratio_terms(V, WH, beta, mask)
        if not every:
            other = other[:, columns]
        numerator = _grid_product(num, other, axis)
        if den is None:  # KL on a full grid: the denominator is a column sum,
            # one row broadcast over the rows of the numerator (as sklearn)
            denominator = other.sum(dim=0)
        else:
            denominator = _grid_product(den, other, axis)
    else:
        P = None
        for b, vb in enumerate(values):
            if b != axis:
                g = vb[data.index[b]]
                P = g if P is None else P * g
        if P is None:  # a single axis: the "others" are all ones
            P = torch.ones(data.n_points, G.shape[1], dtype=G.dtype, device=G.device)
        mhat = (G[data.index[axis]] * P).sum(dim=1)
        loss = beta_divergence(data.m, mhat, beta) if with_loss else None
        num, den = _ratio_terms(data.m, mhat, beta, None)
        idx = data.index[axis]
        if not every:
            P = P[:, columns]
        shape = (G.shape[0], P.shape[1])
        numerator = G.new_zeros(shape).index_add_(0, idx, num[:, None] * P)
        den_terms = P if den is None else den[:, None] * P
        denominator = G.new_zeros(shape).index_add_(0, idx, den_terms)
    if terms is not None:
        for t in terms[0]:
            numerator = numerator + t
        for t in terms[1]:
            denominator = denominator + t
    if not every:
        G = G[:, columns]
    # sklearn's denominator[denominator == 0] = EPSILON, without a boolean
    # index; then delta = numerator / denominator in the numerator's array
    denominator.masked_fill_(denominator == 0, EPSILON)
    delta = numerator.div_(denominator)
    gamma = _gamma(beta)
    if gamma != 1:
        # row-major first (axis 1's products are transposed views): torch's
        # pow can round an element of its vectorised loop and of its scalar
        # tail differently, so the layout would change the last bit
        delta = delta.contiguous().pow_(gamma)
    G.mul_(delta)
    # G[G < floor] = 0 with sklearn's floor for stability (W when beta < 1,
    # H when beta <= 1), elsewhere the dtype's smallest normal number:
    # decaying entries left subnormal sink to ~1e-45, add nothing to a model
    # of mean 1 and made KL-MU on speech 4x slower per iteration after 300
    # iterations (as sklearn's float32 NMF). A no-op while no entry is
    # subnormal. threshold_ (x <= t -> 0, with t the last number below the
    # floor) is ~10x faster than the boolean-mask assignment.
    sklearn_floor = (axis == 0 and beta < 1) or (axis > 0 and beta <= 1)
    torch.nn.functional.threshold_(G, _below(_EPS64 if sklearn_floor else None, G.dtype), 0.0)
    return loss


@functools.lru_cache(maxsize=None)
def _below(floor, dtype):
    """The largest number of ``dtype`` below ``floor`` (default: below the
    smallest normal number, i.e. the largest subnormal)."""
    f = torch.tensor(torch.finfo(dtype).tiny if floor is None else floor, dtype=dtype)
    return float(torch.nextafter(f, torch.zeros_like(f)))


def _ratio_terms(x, y, beta, mask):
    """Per-element numerator and denominator weights of the MU rule.

    Returns ``(x * y**(beta - 2), y**(beta - 1))`` with sklearn's clipping,
    masked; the denominator is None for KL (the mask, or all ones). ``y`` is
    a temporary of the caller's and is overwritten.
    """
    if beta < 2:
        y.clamp_min_(EPSILON)
    if beta == 1:
        num = torch.div(x, y, out=y)
        den = mask
    elif beta == 2:
        num, den = x, y
    else:
        num, den = x * y ** (beta - 2), y.pow_(beta - 1)
    if mask is not None:
        # in place where the array is a temporary (y, or x * y**(beta - 2));
        # x itself (beta == 2) is the caller's data
        num = num * mask if num is x else num.mul_(mask)
        if beta != 1:
            den = den.mul_(mask)
    return num, den


def _grid_product(A, other, axis):
    """``A @ other`` (axis 0) or ``A.T @ other`` (axis 1) for a T x F ``A``.

    Axis 1 is computed as sklearn's ``W.T @ (X / WH)``, ``(other.T @ A).T``:
    the same products (bitwise equal with torch's MKL here), a third faster
    in float32 than ``A.T @ other`` on the transposed view (~5% in float64).
    """
    return A @ other if axis == 0 else (other.T @ A).T


def _grid_work(data, like):
    """The T x F work array of grid updates, kept on ``data`` (allocated at
    the first update, reallocated if ``like``'s dtype or device changes)."""
    work = data.work
    if work is None or work.dtype != like.dtype or work.device != like.device:
        work = data.work = torch.empty(data.grid.shape, dtype=like.dtype, device=like.device)
    return work


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


def _update_blocks(problem, values, blocks, *, first_with_loss):
    """One multiplicative update of each block, in order; the loss of the
    state before them (measured by the first update) if asked."""
    loss = None
    for i, b in enumerate(blocks):
        terms = problem.mu_terms(values, b.axis, b.columns) if problem.penalties else None
        out = multiplicative_update(
            values,
            b.axis,
            problem.data,
            problem.beta,
            with_loss=first_with_loss and i == 0,
            columns=b.columns,
            terms=terms,
        )
        if i == 0:
            loss = out
        if b.normalize:
            _normalize(values, b)
    return loss


def _normalize(values, block):
    """Columns of a template block to unit sum, the activations scaled to
    match (the model is unchanged)."""
    G = values[block.axis][:, block.columns]
    norms = G.sum(dim=0)
    norms = torch.where(norms > 0, norms, torch.ones_like(norms))
    G.div_(norms)
    values[0][:, block.columns].mul_(norms)


def solve_multiplicative(problem, *, max_iter, tol, verbose=0, desc="MU", unit=1.0):
    """Multiplicative updates of the problem's "multiplicative" blocks.

    The loss (the mean divergence, without penalties, as sklearn measures
    it) is recorded after 0, 10, 20, ... iterations and at the end, and
    training stops on sklearn's rule at those checks. Blocks are updated in
    their order in each iteration (the activations first, as sklearn updates
    W before H); everything else is held fixed (evaluated once).

    ``unit`` converts the displayed loss to the user's units.
    """
    blocks = problem.blocks_with("multiplicative")
    data = problem.data
    result = FitResult()
    bar = _progress(verbose, max_iter, desc)
    axes = sorted({b.axis for b in blocks})
    with torch.no_grad():
        values = problem.values()
        tables = {a: problem.table(a) for a in axes}
        for a in axes:
            values[a] = tables[a]
        if not blocks:  # nothing to learn: the loss of the given state
            result.losses.append(float(problem.divergence(values)))
            result.objectives.append(float(problem.objective(values)))
            result.converged = True
            return result
        last_finite, last_finite_it = None, 0
        for it in range(max_iter + 1):
            if it == max_iter:
                loss = float(problem.divergence(values))
                extra = problem.penalty(values)
                result.n_iter = max_iter
                if math.isfinite(loss):
                    result.losses.append(loss)
                    result.objectives.append(loss + (0.0 if extra is None else float(extra)))
                else:
                    result.nonfinite = True
                    result.n_iter = last_finite_it
                    if last_finite is not None:
                        for a in axes:
                            tables[a].copy_(last_finite[a])
                break
            check = it % _CHECK_EVERY == 0
            # the loss is measured every 10 iterations (as sklearn does; it
            # costs a logarithm per point), with the first update, so it is
            # the state before it: keep that state to return to
            before = {a: tables[a].clone() for a in axes} if check else None
            extra = problem.penalty(values) if check else None
            loss = _update_blocks(problem, values, blocks, first_with_loss=check)
            if check:
                result.losses.append(float(loss))
                result.objectives.append(float(loss) + (0.0 if extra is None else float(extra)))
                if bar is not None:
                    bar.set_postfix(loss=f"{unit * result.losses[-1]:.4g}")
                nonfinite = not math.isfinite(result.losses[-1])
                if nonfinite or _converged(result.losses, data.n_points, tol):
                    # converged: the measured state; non-finite: the last
                    # state measured finite
                    state = last_finite if nonfinite else before
                    if state is not None:
                        for a in axes:
                            tables[a].copy_(state[a])
                    result.nonfinite = nonfinite
                    result.converged = not nonfinite
                    result.n_iter = last_finite_it if nonfinite else it
                    if nonfinite:
                        result.losses.pop()
                        result.objectives.pop()
                    break
                last_finite, last_finite_it = before, it
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return result


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
