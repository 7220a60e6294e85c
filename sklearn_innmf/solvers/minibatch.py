"""Mini-batch multiplicative updates: templates shared across batches of
frames and accumulated with a forget factor, each batch's activations solved
for that batch (Lefevre, Bach & Fevotte 2011; scikit-learn's MiniBatchNMF).

Functions of tensors and :class:`~sklearn_innmf.problem.PointData` batches;
they know nothing of sklearn. The estimator
(:class:`~sklearn_innmf.MiniBatchMatrixNMF`) cuts its points into batches
of frames and keeps the state between calls.
"""

import math
from dataclasses import dataclass, field

import torch

from ..problem.core import Block, Problem
from ..problem.data import PointData
from .common import _EPS64
from .multiplicative import _below, _gamma, apply_ratio, mu_parts, multiplicative_update

__all__ = ["MiniBatchState", "minibatch_step", "solve_activations", "frame_batches"]


@dataclass
class MiniBatchState:
    """What persists between mini-batches: the templates, the forget-factor
    accumulators of their updates and the smoothed-cost convergence monitor.

    ``templates[a - 1]`` is the table of template axis ``a`` (n_a, K),
    updated in place; ``numerators``/``denominators`` are sklearn's
    ``_components_numerator``/``_components_denominator`` (A and B of
    Lefevre et al.), one pair per template axis.
    """

    templates: list
    numerators: list = None
    denominators: list = None
    ewa_cost: float = None
    ewa_cost_min: float = None
    no_improvement: int = 0
    n_steps: int = 0
    costs: list = field(default_factory=list)

    def __post_init__(self):
        if self.numerators is None:
            self.numerators = [G.clone() for G in self.templates]
            self.denominators = [torch.ones_like(G) for G in self.templates]

    def converged(self, cost, batch_frac, *, previous, tol, max_no_improvement):
        """sklearn's MiniBatchNMF rule, after a step of batch cost ``cost``:
        the templates moved by at most ``tol`` (relative Frobenius norm of
        the change since ``previous``), or the exponentially weighted
        average of the batch costs (weight ``batch_frac``, the batch's share
        of the data) has not improved for ``max_no_improvement`` steps. The
        first step is never converged (its templates have not moved yet).
        """
        self.costs.append(float(cost))
        if self.n_steps == 1:
            return False
        if self.ewa_cost is None:
            self.ewa_cost = float(cost)
        else:
            alpha = min(batch_frac, 1.0)
            self.ewa_cost = self.ewa_cost * (1 - alpha) + float(cost) * alpha
        if tol > 0 and previous is not None:
            diff = sum(float(torch.sum((G - P) ** 2)) for G, P in zip(self.templates, previous))
            norm = sum(float(torch.sum(G**2)) for G in self.templates)
            if math.sqrt(diff) <= tol * math.sqrt(norm):
                return True
        if self.ewa_cost_min is None or self.ewa_cost < self.ewa_cost_min:
            self.no_improvement = 0
            self.ewa_cost_min = self.ewa_cost
        else:
            self.no_improvement += 1
        return max_no_improvement is not None and self.no_improvement >= max_no_improvement


def _problem(values, data, beta, penalties, axes):
    """A :class:`Problem` over ``values`` (table-like holders) for the
    penalties' multiplicative terms and the batch objective."""
    return _BatchProblem(values, data, beta, [Block(a, "multiplicative") for a in axes], penalties)


class _BatchProblem(Problem):
    """A Problem whose model is a plain list of tables (no factor modules)."""

    def __post_init__(self):  # the tables are checked by the caller
        pass

    def values(self):
        return list(self.model)

    def divergence(self, values):
        return self.data.loss(values, self.beta)


def solve_activations(values, data, beta, *, n_iter, tol=0.0, penalties=()):
    """Multiplicative updates of ``values[0]`` (the batch's activations) in
    place, templates fixed: at most ``n_iter`` of them, stopping when the
    relative change of the activations is at most ``tol`` (sklearn's
    ``_solve_W``). Returns the number of updates made."""
    problem = _problem(values, data, beta, list(penalties), [0])
    H = values[0]
    for it in range(n_iter):
        before = H.clone() if tol > 0 else None
        terms = problem.mu_terms(values, 0, slice(None)) if penalties else None
        multiplicative_update(values, 0, data, beta, with_loss=False, terms=terms)
        if tol > 0:
            norm = float(torch.linalg.vector_norm(H))
            if norm == 0 or float(torch.linalg.vector_norm(H - before)) <= tol * norm:
                return it + 1
    return n_iter


def _observed(data, axis, n):
    """Which rows of template axis ``axis`` have a point in ``data``."""
    if data.grid is not None:
        if data.mask is None:
            return None
        counts = data.mask.sum(dim=0) if axis == 1 else data.mask.sum(dim=1)
    else:
        counts = torch.bincount(data.index[axis], minlength=n)
    seen = counts > 0
    return None if bool(seen.all()) else seen


def minibatch_step(
    state, H, data, beta, rho, *, n_activation_iter=1, fresh=False, fresh_max_iter=30, tol=0.0,
    penalties=(), update_templates=True,
):
    """One mini-batch step (sklearn's ``_minibatch_step``).

    1. The batch's activations ``H`` (its frames x K, in place): ``n_activation_iter``
       multiplicative updates from their current value, or with ``fresh``
       solved from ``H`` as given by at most ``fresh_max_iter`` updates
       (stopping on ``tol``).
    2. The batch cost: its mean divergence plus penalties, templates as before.
    3. Each template axis: the multiplicative update's numerator ``N`` and
       denominator ``D`` on this batch, accumulated as
       ``A <- rho A + N G^(1/gamma)``, ``B <- rho B + D``, ``G <- (A / B)^gamma``
       (Lefevre et al. 2011, eq. 15). With ``rho = 0`` this is exactly the
       full-batch update ``G <- G (N / D)^gamma``, computed the same way.
       Rows of a template axis without a point in the batch keep their value.

    Returns the batch cost (normalised units, mean per point).
    """
    templates = state.templates
    values = [H, *templates]
    axes = list(range(1, len(values)))
    penalties = list(penalties)
    act_pen = [p for p in penalties if p.axis == 0]
    solve_activations(
        values, data, beta, n_iter=fresh_max_iter if fresh else n_activation_iter,
        tol=tol if fresh else 0.0, penalties=act_pen,
    )
    problem = _problem(values, data, beta, penalties, axes)
    extra = problem.penalty(values)
    extra = 0.0 if extra is None else float(extra)
    if not update_templates:
        return float(problem.divergence(values)) + extra
    gamma = _gamma(beta)
    cost = None
    for a in axes:
        G = values[a]
        seen = _observed(data, a, G.shape[0])
        keep = None if seen is None else G[~seen].clone()
        terms = problem.mu_terms(values, a, slice(None)) if penalties else None
        # the first template update measures the batch cost on the way (the
        # state after the activations' update, before the templates')
        first = cost is None
        num, den, loss = mu_parts(values, a, data, beta, with_loss=first, terms=terms,
                                  fast_loss=True)
        if rho == 0:
            # the plain multiplicative update: bitwise the full-batch one
            apply_ratio(G, num.div_(den), beta, a)
        else:
            A, B = state.numerators[a - 1], state.denominators[a - 1]
            Gg = G if gamma == 1 else G ** (1.0 / gamma)
            A.mul_(rho).add_(num * Gg)
            B.mul_(rho).add_(den)
            new = A / B
            if gamma != 1:
                new = new.pow_(gamma)
            G.copy_(new)
            floor = _EPS64 if beta <= 1 else None
            torch.nn.functional.threshold_(G, _below(floor, G.dtype), 0.0)
        if first:
            cost = float(loss) + extra
        if keep is not None:
            G[~seen] = keep
    if cost is None:  # a one-axis model: no templates
        cost = float(problem.divergence(values)) + extra
    state.n_steps += 1
    return cost


def frame_batches(n_frames, batch_size):
    """Consecutive runs of ``batch_size`` frames: a list of (start, stop)."""
    return [(s, min(s + batch_size, n_frames)) for s in range(0, n_frames, batch_size)]


def batch_data(data, start, stop, order=None, bounds=None):
    """The points of frames ``start:stop`` of ``data`` as a PointData.

    On a grid: a view of its rows. Otherwise ``order`` (the points sorted by
    frame) and ``bounds`` (first point of each frame in that order) give the
    batch's points; template indices stay global.
    """
    if data.grid is not None:
        grid = data.grid[start:stop]
        mask = None if data.mask is None else data.mask[start:stop]
        m = grid.reshape(-1) if mask is None else grid[mask > 0]
        return PointData(
            uniques=[data.uniques[0][start:stop], *data.uniques[1:]], index=[None] * len(data.index),
            m=m, scale=data.scale, grid=grid, mask=mask,
        )
    sel = order[bounds[start] : bounds[stop]]
    index = [data.index[0][sel] - start, *(ix[sel] for ix in data.index[1:])]
    return PointData(
        uniques=[data.uniques[0][start:stop], *data.uniques[1:]], index=index, m=data.m[sel],
        scale=data.scale,
    )


def frame_order(data):
    """Points sorted by frame and each frame's first position (for
    :func:`batch_data` off the grid)."""
    if data.grid is not None:
        return None, None
    idx = data.index[0]
    order = torch.argsort(idx, stable=True)
    counts = torch.bincount(idx, minlength=data.uniques[0].numel())
    bounds = torch.zeros(counts.numel() + 1, dtype=torch.long, device=idx.device)
    bounds[1:] = torch.cumsum(counts, 0)
    return order, bounds.tolist()


def frame_start(data, templates, n_components):
    """Initial activations of a batch: in each frame every component at the
    value that gives the model the frame's mass (as the estimators'
    ``_frame_start``), computed on the grid without per-point indices."""
    if data.grid is None:
        P = torch.ones(data.n_points, n_components, dtype=torch.float64, device=data.m.device)
        for a, W in enumerate(templates, start=1):
            P = P * W.to(torch.float64)[data.index[a]]
        n = data.uniques[0].numel()
        mass = torch.zeros(n, dtype=torch.float64, device=P.device)
        mass.index_add_(0, data.index[0], data.m.to(torch.float64))
        model = torch.zeros(n, dtype=torch.float64, device=P.device)
        model.index_add_(0, data.index[0], P.sum(dim=1))
    else:
        W = templates[0].to(torch.float64).sum(dim=1)
        mass = data.grid.to(torch.float64).sum(dim=1)
        model = W.sum().expand_as(mass) if data.mask is None else data.mask.to(torch.float64) @ W
    start = torch.where(model > 0, mass / model.clamp_min(1e-300), 0.0)
    return start[:, None].expand(start.numel(), n_components).clone()
