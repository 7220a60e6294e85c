"""Penalties of a :class:`~sklearn_innmf.problem.Problem`, each with its value (for
gradient training) and its multiplicative-update terms (for table factors).

* :class:`L1L2Penalty`: scikit-learn's elastic net (``alpha_W``, ``alpha_H``,
  ``l1_ratio``);
* :class:`LogPenalty`: a log-sparsity prior on activations;
* :class:`CoactivityPenalty`: penalises components of different sources that
  are active together.

They are stated in the user's units; the problem's ``unit_factor`` converts
them to the solvers'. This module knows nothing of sklearn.
"""

import torch


class Penalty:
    """A term added to the objective (base class).

    Subclasses give the penalty's value and its multiplicative-update terms.
    Both are in the solvers' normalised units; ``problem.unit_factor(axis,
    power)`` converts a coefficient stated in the user's units.
    """

    def value(self, values, problem):  # pragma: no cover
        """The penalty, to add to the mean divergence (a scalar tensor).

        Parameters
        ----------
        values : list of Tensor
            Each factor's values at its axis' unique coordinates, (n_a, K).
        problem : Problem
        """
        raise NotImplementedError

    def mu_terms(self, values, axis, columns, problem):  # pragma: no cover
        """Terms of the multiplicative update of ``values[axis][:, columns]``.

        Returns
        -------
        numerator, denominator : list of Tensor
            Terms added, in order, to the update's numerator and denominator
            (the negative and positive parts of the penalty's gradient, with
            the divergence summed over points, not averaged). Shapes
            broadcast against (n_axis, n_columns).
        """
        raise NotImplementedError


class L1L2Penalty(Penalty):
    """Elastic-net penalty on one factor: scikit-learn's ``alpha`` and ``l1_ratio``.

    ``l1 * sum(G) + 0.5 * l2 * sum(G ** 2)`` over the factor's values ``G``
    (in the user's units) at its unique coordinates, for the components in
    ``columns``; with ``per_point``, each value's terms are multiplied by
    the number of points at its coordinate (a frame's penalty then does not
    depend on the other frames). The coefficients are scikit-learn's ``l1_reg`` and
    ``l2_reg``: with ``alpha`` and ``l1_ratio``,
    ``l1 = alpha * l1_ratio * n_points / n_values`` and
    ``l2 = alpha * (1 - l1_ratio) * n_points / n_values``, which on a full
    grid is sklearn's ``n_features * alpha_W * l1_ratio`` (see
    :meth:`from_alpha`).
    """

    def __init__(self, axis, l1=0.0, l2=0.0, columns=slice(None), per_point=False):
        self.axis = axis
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.columns = columns
        self.per_point = per_point

    def _weights(self, problem, like):
        """1, or with ``per_point`` the number of points at each coordinate
        value of the axis (a column), so that each value's penalty grows
        with the data it explains."""
        if not self.per_point:
            return 1.0
        return point_counts(problem.data, self.axis).to(like.dtype)[:, None]

    @classmethod
    def from_alpha(cls, axis, alpha, l1_ratio, data, columns=slice(None)):
        """scikit-learn's coefficients for ``alpha`` and ``l1_ratio`` on ``data``."""
        n_values = data.uniques[axis].numel()
        weight = alpha * data.n_points / n_values
        return cls(axis, weight * l1_ratio, weight * (1.0 - l1_ratio), columns)

    def value(self, values, problem):
        G = values[self.axis][:, self.columns]
        w = self._weights(problem, G)
        total = G.new_zeros(())
        if self.l1:
            total = total + problem.unit_factor(self.axis, 1) * self.l1 * (w * G).sum()
        if self.l2:
            total = total + problem.unit_factor(self.axis, 2) * 0.5 * self.l2 * (w * G * G).sum()
        return total / problem.data.n_points

    def row_values(self, values, problem):
        """Per activation row (time), in the divergence-summed units; None
        if the penalty is not on the activations."""
        if self.axis != 0:
            return None
        return self.value_terms(values, problem).sum(dim=1)

    def value_terms(self, values, problem):
        G = values[self.axis][:, self.columns]
        w = self._weights(problem, G)
        terms = torch.zeros_like(G)
        if self.l1:
            terms = terms + problem.unit_factor(self.axis, 1) * self.l1 * w * G
        if self.l2:
            terms = terms + problem.unit_factor(self.axis, 2) * 0.5 * self.l2 * w * G * G
        return terms

    def mu_terms(self, values, axis, columns, problem):
        if axis != self.axis or not _overlap(columns, self.columns, values[axis].shape[1]):
            return [], []
        mask = _column_mask(self.columns, columns, values[axis])
        if self.per_point:
            mask = mask * self._weights(problem, mask)
        # in sklearn's order: denominator + l1, then + l2 * G
        den = []
        if self.l1:
            den.append(problem.unit_factor(axis, 1) * self.l1 * mask)
        if self.l2:
            G = values[axis][:, columns]
            den.append(problem.unit_factor(axis, 2) * self.l2 * mask * G)
        return [], den


class LogPenalty(Penalty):
    """A sparsity penalty that frozen templates cannot absorb.

    ``weight * sum log(1 + G / eps)`` over the factor's values (solvers'
    units), each value's term multiplied by its number of points with
    ``per_point``. Its gradient ``weight / (eps + G)`` penalises small
    values most, so it drives activations that explain little to 0 and
    leaves the large ones: a reweighted L1 penalty. The multiplicative
    update with it in the denominator majorises the concave logarithm by its
    tangent, so each update still decreases the objective.

    Why not L1: with the KL divergence and templates of fixed mass, the
    divergence's gradient already holds ``sum_f W_k(f)`` for every
    component, and an L1 term only adds to that constant: every activation
    of a frame shrinks by the same factor and the sparsity (Hoyer) does not
    change (measured on the test speech: 0.59184 -> 0.59183 for an L1
    weight from 0 to 1, while the activations' sum halved).
    """

    def __init__(self, axis, weight, eps=1e-2, columns=slice(None), per_point=False):
        self.axis = axis
        self.weight = float(weight)
        self.eps = float(eps)
        self.columns = columns
        self.per_point = per_point

    def _weights(self, problem, like):
        if not self.per_point:
            return 1.0
        return point_counts(problem.data, self.axis).to(like.dtype)[:, None]

    def value(self, values, problem):
        G = values[self.axis][:, self.columns]
        terms = self._weights(problem, G) * torch.log1p(G / self.eps)
        return self.weight * terms.sum() / problem.data.n_points

    def row_values(self, values, problem):
        if self.axis != 0:
            return None
        G = values[0][:, self.columns]
        return self.weight * (self._weights(problem, G) * torch.log1p(G / self.eps)).sum(dim=1)

    def mu_terms(self, values, axis, columns, problem):
        G = values[axis]
        if axis != self.axis or not self.weight or not _overlap(columns, self.columns, G.shape[1]):
            return [], []
        mask = _column_mask(self.columns, columns, G) * self._weights(problem, G)
        return [], [self.weight * mask / (self.eps + G[:, columns])]


class CoactivityPenalty(Penalty):
    """Penalty on two sources being active in the same frame.

    With ``S_s(t)`` the summed activations of source s's components at time
    t, ``weight * sum_t sum_{s < r} S_s(t) S_r(t)``: zero when at most one
    source is active in each frame (Smaragdis & Venkataramani 2017, eq. 9,
    as a cross-source penalty on the latent activations). Its gradient with
    respect to a component of source s is ``weight * sum_{r != s} S_r(t)``,
    a positive term of the multiplicative update's denominator.

    Parameters
    ----------
    groups : list of slice
        The components (columns of axis 0) of each source.
    weight : float
        Strength, in the solvers' units (normalised magnitudes).
    per_point : bool, default=False
        Multiply each frame's term by its number of points.
    """

    def __init__(self, groups, weight, per_point=False):
        self.groups = list(groups)
        self.weight = float(weight)
        self.per_point = per_point

    def _weights(self, problem, like):
        if not self.per_point:
            return 1.0
        return point_counts(problem.data, 0).to(like.dtype)

    def _sums(self, H):
        return torch.stack([H[:, g].sum(dim=1) for g in self.groups], dim=1)

    def value(self, values, problem):
        return self.row_values(values, problem).sum() / problem.data.n_points

    def row_values(self, values, problem):
        S = self._sums(values[0])
        total = S.sum(dim=1)
        pairs = 0.5 * (total * total - (S * S).sum(dim=1))
        return self.weight * self._weights(problem, S) * pairs

    def mu_terms(self, values, axis, columns, problem):
        if axis != 0 or not self.weight:
            return [], []
        H = values[0]
        S = self._sums(H)
        others = S.sum(dim=1, keepdim=True) - S  # (n_times, n_groups)
        den = torch.zeros_like(H)
        for j, g in enumerate(self.groups):
            den[:, g] = others[:, j : j + 1]
        w = self._weights(problem, H)
        if self.per_point:
            w = w[:, None]
        return [], [self.weight * w * den[:, columns]]


def point_counts(data, axis):
    """The number of points at each unique coordinate value of ``axis``."""
    n = data.uniques[axis].numel()
    return torch.bincount(data.index[axis], minlength=n)


def _indices(columns, n):
    return range(n)[columns]


def _overlap(a, b, n):
    return bool(set(_indices(a, n)) & set(_indices(b, n)))


def _column_mask(penalised, updated, G):
    """1 for the updated columns that the penalty covers, else 0 (a row)."""
    n = G.shape[1]
    mask = torch.zeros(n, dtype=G.dtype, device=G.device)
    mask[penalised] = 1.0
    return mask[updated]
