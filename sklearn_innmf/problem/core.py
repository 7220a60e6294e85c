"""The problem the solvers solve: a model, its data, a loss and update rules.

A :class:`Problem` is

    objective = mean beta-divergence(m | model) + sum of penalties

over a :class:`~sklearn_innmf.problem.SeparableModel` and its
:class:`~sklearn_innmf.problem.PointData`, with a :class:`Block` for each factor
(or range of components within a factor) that says how it is learned:

* ``"multiplicative"``: a table factor, updated by the multiplicative rule of
  the beta-divergence, to which each penalty adds its numerator and
  denominator terms (as scikit-learn adds ``l1_reg_W`` and ``l2_reg_W``);
* ``"gradient"``: an implicit factor, whose network takes gradient steps on
  the objective (each penalty gives its value, autograd the rest);
* ``"frozen"``: held fixed.

A penalty is an object with two methods (see :class:`~sklearn_innmf.problem.Penalty`):
``value(values, problem)`` for gradient training, and
``mu_terms(values, axis, columns, problem)`` for the multiplicative rule.
Penalties are stated in the user's units (the magnitudes as given, the
activations carrying the magnitude scale); the problem's ``unit_factor``
converts them to the normalised units the solvers work in. This module knows
nothing of sklearn.
"""

from dataclasses import dataclass, field

import torch

#: The update rules a block can have.
RULES = ("multiplicative", "gradient", "frozen")


@dataclass(frozen=True)
class Block:
    """How one factor, or a range of its components, is learned.

    Parameters
    ----------
    axis : int
        The factor (0 = activations).
    rule : {"multiplicative", "gradient", "frozen"}
        How the block is learned. "multiplicative" needs a table factor
        (a ``values`` parameter of shape (n_values, K)); "gradient" needs a
        factor with trainable parameters and covers the whole factor.
    columns : slice, default=slice(None)
        The components of the block.
    normalize : bool, default=False
        "multiplicative" on a template axis (axis > 0) only: after each
        update, divide each column by its sum and multiply the matching
        activations (axis 0) by it, so the model is unchanged and a
        penalty on the activations cannot be evaded by growing templates.
    """

    axis: int
    rule: str
    columns: slice = field(default_factory=lambda: slice(None))
    normalize: bool = False

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"rule={self.rule!r} is not one of {RULES}.")
        if self.normalize and (self.axis == 0 or self.rule != "multiplicative"):
            raise ValueError("normalize=True is for multiplicative blocks of a template axis.")


@dataclass
class Problem:
    """A model, its data, the loss and how each part is learned.

    Parameters
    ----------
    model : SeparableModel
    data : PointData
    beta : float
        The beta-divergence.
    blocks : list of Block
        One or more per factor; a factor (or components) without a block is
        frozen.
    penalties : list of Penalty, default=[]
    """

    model: object
    data: object
    beta: float
    blocks: list
    penalties: list = field(default_factory=list)

    def __post_init__(self):
        d = len(self.model.factors)
        for b in self.blocks:
            if not 0 <= b.axis < d:
                raise ValueError(f"Block axis={b.axis} is not an axis of a {d}-axis model.")
            factor = self.model.factors[b.axis]
            has_table = isinstance(getattr(factor, "values", None), torch.nn.Parameter)
            if b.rule == "multiplicative" and not has_table:
                raise ValueError(
                    f"Block(axis={b.axis}, rule='multiplicative') needs a table factor; "
                    f"{type(factor).__name__} has none."
                )
            if b.normalize and not isinstance(
                getattr(self.model.factors[0], "values", None), torch.nn.Parameter
            ):
                raise ValueError("Block(normalize=True) needs table activations (axis 0).")
            if b.rule == "gradient" and not any(True for _ in factor.parameters()):
                raise ValueError(
                    f"Block(axis={b.axis}, rule='gradient') needs trainable parameters; "
                    f"{type(factor).__name__} has none."
                )

    # -- what the solvers ask ------------------------------------------------

    def blocks_with(self, rule):
        return [b for b in self.blocks if b.rule == rule]

    def table(self, axis):
        """The tensor that multiplicative updates of ``axis`` change in place."""
        return self.model.factors[axis].values.data

    def gradient_parameters(self):
        return [
            p for b in self.blocks_with("gradient") for p in self.model.factors[b.axis].parameters()
        ]

    def project(self):
        """Tables learned by gradient steps back to >= 0 (after a step)."""
        for b in self.blocks_with("gradient"):
            values = getattr(self.model.factors[b.axis], "values", None)
            if isinstance(values, torch.nn.Parameter):
                values.data.clamp_min_(0.0)

    def unit_factor(self, axis, power):
        """Multiplier of a penalty on factor ``axis``, homogeneous of degree
        ``power`` in the factor, stated in the user's units, to the solvers'.

        The solvers minimise the divergence of ``m / scale`` (degree beta in
        ``scale``) and store the activations divided by ``scale``.
        """
        scale = float(self.data.scale)
        return scale ** (-self.beta) * (scale**power if axis == 0 else 1.0)

    def values(self):
        return self.model.values(self.data.uniques)

    def divergence(self, values):
        """Mean beta-divergence per point (normalised units)."""
        return self.model.loss(values, self.data, self.beta)

    def penalty(self, values):
        """The sum of the penalties, in the divergence's units."""
        total = None
        for p in self.penalties:
            v = p.value(values, self)
            total = v if total is None else total + v
        return total

    def row_objective(self, values, row_divergence=None):
        """The objective per activation row (time), divergence summed over
        the row's points, when the model and every penalty can split it by
        row (rows are then independent problems); else None.
        ``row_divergence``: the model's ``row_losses``, if already computed."""
        row_losses = getattr(self.model, "row_losses", None)
        if row_losses is None:
            return None
        total = row_divergence
        if total is None:
            total = row_losses(values, self.data, self.beta)
        for p in self.penalties:
            rows = getattr(p, "row_values", lambda *a: None)(values, self)
            if rows is None:
                return None
            total = total + rows
        return total

    def objective(self, values):
        loss = self.divergence(values)
        extra = self.penalty(values)
        return loss if extra is None else loss + extra

    def mu_terms(self, values, axis, columns):
        """The penalties' (numerator, denominator) terms for a block: two lists."""
        num, den = [], []
        for p in self.penalties:
            n, d = p.mu_terms(values, axis, columns, self)
            num += n
            den += d
        return num, den
