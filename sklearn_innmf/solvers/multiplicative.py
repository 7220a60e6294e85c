"""Multiplicative updates of table factors (Lee & Seung; beta-divergence rule of
Fevotte & Idier 2011, as scikit-learn's ``solver="mu"``), with the penalties'
terms, on grids (matrix products) or scattered points (scatter-adds), and the
loop of a problem whose every learned block is a table.
"""

import functools
import math

import torch

from ..divergences import EPSILON, beta_divergence
from .common import (
    _CHECK_EVERY,
    _EPS64,
    FitResult,
    _converged,
    _progress,
)


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
    numerator, denominator, loss = mu_parts(
        values, axis, data, beta, with_loss=with_loss, columns=columns, terms=terms
    )
    G = values[axis]
    if columns != slice(None):
        G = G[:, columns]
    apply_ratio(G, numerator.div_(denominator), beta, axis)
    return loss


def mu_parts(
    values, axis, data, beta, *, with_loss=True, columns=slice(None), terms=None, fast_loss=False
):
    """The numerator and denominator of :func:`multiplicative_update`
    (penalty ``terms`` added, zeros of the denominator set to EPSILON) and
    the loss of the state (with ``with_loss``; ``fast_loss``: for KL on a full
    grid, from the update's own ratio, equal but for x < eps), without
    changing ``values``."""
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
        fast = fast_loss and with_loss and beta == 1 and mask is None
        loss = beta_divergence(V, WH, beta, weight=mask) if with_loss and not fast else None
        model_sum = WH.sum() if fast else None
        num, den = _ratio_terms(V, WH, beta, mask)
        if not every:
            other = other[:, columns]
        numerator = _grid_product(num, other, axis)
        if fast:
            # KL from the ratio x / y just formed (in the work array, free
            # now): one log per cell instead of beta_divergence's several
            # passes; it differs only where 0 < x < eps, by under eps a cell
            x = V.reshape(-1)
            log_ratio = num.clamp_min_(torch.finfo(num.dtype).tiny).log_().reshape(-1)
            loss = (torch.dot(x, log_ratio) - x.sum() + model_sum) / x.numel()
        if den is None:  # KL on a full grid: the denominator is a column sum,
            # one row broadcast over the rows of the numerator (as sklearn)
            denominator = other.sum(dim=0)
        else:
            denominator = _grid_product(den, other, axis)
    else:
        P = others_product(values, axis, data)
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
    # sklearn's denominator[denominator == 0] = EPSILON, without a boolean index
    denominator.masked_fill_(denominator == 0, EPSILON)
    return numerator, denominator, loss


def apply_ratio(G, delta, beta, axis):
    """``G *= delta ** gamma`` in place (``delta`` overwritten), then the
    floor of :func:`multiplicative_update`."""
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


def others_product(values, axis, data):
    """Per point, the product of every factor but ``axis``'s at the point's
    coordinates: (n_points, K); all ones for a single axis."""
    P = None
    for b, vb in enumerate(values):
        if b != axis:
            g = vb[data.index[b]]
            P = g if P is None else P * g
    if P is None:
        G = values[axis]
        P = torch.ones(data.n_points, G.shape[1], dtype=G.dtype, device=G.device)
    return P


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
