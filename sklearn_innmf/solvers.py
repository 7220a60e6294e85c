"""Training loops: multiplicative updates for table factors, gradient steps
(Rprop or Adam) for implicit ones, and the stopping rules.

Functions of a :class:`~sklearn_innmf.model.SeparableModel` and a
:class:`~sklearn_innmf.model.PointData`; they know nothing of sklearn.
"""

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from .divergences import EPSILON, beta_divergence

__all__ = ["FitResult", "multiplicative_update", "fit_multiplicative", "fit_gradient"]

_EPS64 = float(np.finfo(np.float64).eps)
# convergence is checked every _CHECK_EVERY iterations, as in sklearn's NMF
_CHECK_EVERY = 10


@dataclass
class FitResult:
    """What a training loop reports."""

    n_iter: int = 0
    losses: list = field(default_factory=list)  # mean divergence, normalised units
    converged: bool = False
    nonfinite: bool = False


def _gamma(beta):
    """Exponent of the multiplicative update (Fevotte & Idier 2011), as sklearn."""
    if beta < 1:
        return 1.0 / (2.0 - beta)
    if beta > 2:
        return 1.0 / (beta - 1.0)
    return 1.0


def multiplicative_update(values, axis, data, beta, *, with_loss=True):
    """One multiplicative update of ``values[axis]`` in place.

    The other factors are held fixed. On a grid this is sklearn's dense
    update (masked if the grid is not full); on scattered points the same sums
    are taken over the observed points with ``index_add_``, so memory is
    O(n_points * K) and no grid is built.

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
        numerator = torch.zeros_like(G).index_add_(0, idx, num[:, None] * P)
        den_terms = P if den is None else den[:, None] * P
        denominator = torch.zeros_like(G).index_add_(0, idx, den_terms)
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


def fit_multiplicative(
    model, data, *, beta, max_iter, tol, axes=None, verbose=0, desc="MU", unit=1.0
):
    """Multiplicative updates of the table factors in ``axes`` (all by default).

    The loss is recorded after 0, 10, 20, ... iterations and at the end, and
    training stops on sklearn's rule at those checks.

    ``unit`` converts the displayed loss to the user's units. Axes are
    updated in order in each iteration (axis 0, the activations,
    first, as sklearn updates W before H). Factors not in ``axes`` are held
    fixed (evaluated once).
    """
    d = len(model.factors)
    axes = list(range(d)) if axes is None else list(axes)
    result = FitResult()
    bar = _progress(verbose, max_iter, desc)
    with torch.no_grad():
        values = model.values(data.uniques)
        tables = {a: model.factors[a].values.data for a in axes}
        for a in axes:
            values[a] = tables[a]
        last_finite, last_finite_it = None, 0
        for it in range(max_iter + 1):
            if it == max_iter:
                loss = float(data.loss(values, beta))
                result.n_iter = max_iter
                if math.isfinite(loss):
                    result.losses.append(loss)
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
            loss = multiplicative_update(values, axes[0], data, beta, with_loss=check)
            for a in axes[1:]:
                multiplicative_update(values, a, data, beta, with_loss=False)
            if check:
                result.losses.append(float(loss))
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
                    break
                last_finite, last_finite_it = before, it
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return result


def fit_gradient(
    model,
    data,
    *,
    beta,
    max_iter,
    tol,
    learning_rate,
    optimizer="rprop",
    train_axes,
    table_axes=(),
    n_mu=3,
    verbose=0,
    desc="fit",
    unit=1.0,
):
    """Gradient training of the implicit factors in ``train_axes``.

    After each gradient step, the table factors in ``table_axes`` get ``n_mu``
    multiplicative updates with the implicit factors fixed (subnormal table
    entries are set to 0, see :func:`multiplicative_update`). Training stops
    when the loss improved by less than ``tol`` (relative) over the last 10
    iterations (a loss that rose is not convergence). A non-finite loss
    restores the last finite state (networks and tables) and stops.
    """
    params = [p for a in train_axes for p in model.factors[a].parameters()]
    for p in params:
        p.requires_grad_(True)
    if optimizer == "rprop":
        opt = torch.optim.Rprop(params, lr=learning_rate)
    else:
        opt = torch.optim.Adam(params, lr=learning_rate)
    result = FitResult()
    bar = _progress(verbose, max_iter, desc)
    tables = {a: model.factors[a].values.data for a in table_axes}
    state = params + list(tables.values())
    last_good = [p.detach().clone() for p in state]
    for it in range(max_iter + 1):
        opt.zero_grad(set_to_none=True)
        values = model.values(data.uniques)
        loss = data.loss(values, beta)
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            with torch.no_grad():
                for p, good in zip(state, last_good):
                    p.copy_(good)
            result.nonfinite = True
            result.n_iter = max(it - 1, 0)
            break
        result.losses.append(loss_value)
        if bar is not None and it % _CHECK_EVERY == 0:
            bar.set_postfix(loss=f"{unit * loss_value:.4g}")
        n_done = len(result.losses) - 1
        if (
            tol > 0
            and n_done >= _CHECK_EVERY
            and n_done % _CHECK_EVERY == 0
            and abs(result.losses[-1 - _CHECK_EVERY] - loss_value)
            < tol * abs(result.losses[-1 - _CHECK_EVERY])
        ):
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
            loss.backward()
        if tables:
            # the table's updates use this step's network outputs (no second
            # forward pass), then the networks take their step
            with torch.no_grad():
                values = [v.detach() for v in values]
                for a in table_axes:
                    values[a] = tables[a]
                for _ in range(n_mu):
                    for a in table_axes:
                        multiplicative_update(values, a, data, beta, with_loss=False)
        if params:
            opt.step()
        if bar is not None:
            bar.update(1)
    for p in params:
        p.requires_grad_(False)
    if bar is not None:
        bar.close()
    return result
