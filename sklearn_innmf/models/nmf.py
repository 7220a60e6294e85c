""":class:`BaseNMF`: the factorisations' fitting (``fit``, ``fit_activations``).

Its subclasses say how a model is built and trained (``_init_model``,
``_activation_model``, ``_rules``); it wires points, factors, penalties and
the solver together. Evaluation of the fitted model is
:class:`~sklearn_innmf.models.sampling.FactorSampling`.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    check_is_fitted,
)

from .._device import resolve_device
from .._threads import limit_threads
from ..divergences import beta_loss_to_float
from ..problem.core import Block, Problem
from ..problem.data import prepare_points
from ..problem.penalties import L1L2Penalty
from ..solvers import solve
from .base import record_training
from .sampling import FactorSampling


class BaseNMF(FactorSampling):
    """Base class of the factorisation estimators (not for direct use)."""

    _output_kind = "components"

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "beta_loss": [
            StrOptions({"frobenius", "kullback-leibler", "itakura-saito"}),
            Real,
        ],
        "alpha_W": [Interval(Real, 0, None, closed="left")],
        "alpha_H": [Interval(Real, 0, None, closed="left"), StrOptions({"same"})],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str],
        "dtype": [StrOptions({"float32", "float64"})],
        "verbose": ["verbose"],
        "n_coordinates": [Interval(Integral, 1, None, closed="left"), None],
    }

    # -- what subclasses provide -------------------------------------------

    def _init_model(self, data, generator, rng, factors):  # pragma: no cover
        """The model to fit: factors initialised for ``data``."""
        raise NotImplementedError

    def _activation_model(self, data, generator, rng):  # pragma: no cover
        """This estimator's templates with a new activation factor for ``data``."""
        raise NotImplementedError

    def _rules(self):  # pragma: no cover
        """The update rule of the activation factor and of the templates."""
        raise NotImplementedError

    def _blocks(self, n_axes, *, activations_only, learn_templates=None):
        """How each factor is learned (:class:`~sklearn_innmf.problem.Block`).

        ``learn_templates``: with ``activations_only``, a slice of template
        components learned on the new data (semi-supervised), the other
        templates frozen.
        """
        time_rule, template_rule = self._rules()
        blocks = [Block(0, time_rule)]
        if not activations_only:
            return blocks + [Block(a, template_rule) for a in range(1, n_axes)]
        if learn_templates is not None:
            if template_rule != "multiplicative":
                raise ValueError(
                    f"{type(self).__name__} cannot learn some template components "
                    "while freezing others; use MatrixNMF."
                )
            blocks += [
                Block(a, "multiplicative", learn_templates, normalize=True)
                for a in range(1, n_axes)
            ]
        return blocks

    def _penalties(self, data):
        """scikit-learn's elastic-net penalties with its names, the frames
        being its samples: ``alpha_W`` on the activations (axis 0, sklearn's
        ``W``), ``alpha_H`` on each template axis (its ``components_``)."""
        alpha_W = float(self.alpha_W)
        alpha_H = alpha_W if self.alpha_H == "same" else float(self.alpha_H)
        penalties = []
        for a in range(len(data.uniques)):
            alpha = alpha_W if a == 0 else alpha_H
            if alpha > 0:
                penalties.append(L1L2Penalty.from_alpha(a, alpha, self.l1_ratio, data))
        return penalties

    def _solver_options(self, data):
        """Options every training loop takes (subclasses add theirs)."""
        return dict(
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            desc=type(self).__name__,
            unit=data.scale**self._beta,
        )

    def _train(self, model, data, *, activations_only, learn_templates=None, penalties=()):
        blocks = self._blocks(
            len(data.uniques), activations_only=activations_only, learn_templates=learn_templates
        )
        problem = Problem(
            model, data, self._beta, blocks, self._penalties(data) + list(penalties)
        )
        return solve(problem, **self._solver_options(data))

    # -- validation, output columns ----------------------------------------

    def _output_names(self):
        prefix = type(self).__name__.lower()
        return [f"{prefix}{k}" for k in range(self.n_components_)]

    @property
    def _beta(self):
        return beta_loss_to_float(self.beta_loss)

    @property
    def _torch_dtype(self):
        return torch.float64 if self.dtype == "float64" else torch.float32

    def _check_beta_data(self, m):
        if self._beta <= 0 and np.any(m == 0):
            raise ValueError(
                f"beta_loss={self.beta_loss!r} (beta <= 0) is undefined where "
                "magnitudes are 0, and X has zeros; add a small floor to m or use "
                "beta_loss='kullback-leibler'."
            )

    def _prepare(self, X, device):
        coords, m = X[:, :-1], X[:, -1]
        if not np.any(m > 0):
            raise ValueError("All magnitudes in X are zero: there is nothing to factorise.")
        self._check_beta_data(m)
        scale = float(np.mean(m, dtype=np.float64))
        return prepare_points(
            coords, m, scale=scale, device=device, dtype=self._torch_dtype
        )

    def _generators(self):
        rng = check_random_state(self.random_state)
        generator = torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
        return generator, rng

    # -- fitting -----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, **fit_params):
        """Learn all factors from a point array.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            Coordinates (column 0 time, then frequency, ...), then magnitude.
        y : None
            Ignored.
        **fit_params : dict
            Estimator-specific (``factors`` for ``MatrixNMF(init="custom")``).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = self._validate_points(X, reset=True)
        device = resolve_device(self.device)
        data = self._prepare(X, device)
        self._check_n_components(data)
        generator, rng = self._generators()
        with limit_threads(data.n_points * self.n_components):
            model = self._init_model(data, generator, rng, **fit_params).to(device)
            result = self._train(model, data, activations_only=False)
        self._set_fitted(model, result, data, X)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return the components at X's points.

        Equal to ``fit(X).transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_points, d + 1)
        y : None
            Ignored.
        **fit_params : dict
            Passed to :meth:`fit`.

        Returns
        -------
        Z : ndarray of shape (n_points, d + n_components)
        """
        return self.fit(X, y, **fit_params).transform(X)

    def fit_activations(self, X):
        """Explain a new signal with this estimator's templates.

        Returns a *new* fitted estimator of the same class whose template
        factors (every axis but axis 0) are this one's, frozen, and whose
        activation factor (axis 0) is learned for ``X`` (with this
        estimator's ``alpha_W`` penalty, if any). ``self`` is left unchanged.

        Parameters
        ----------
        X : array-like of shape (n_points, d + 1)
            Points of the new signal, at any coordinates.

        Returns
        -------
        estimator : object
            A new fitted estimator.
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        return self._fit_activations(X)

    def _fit_activations(self, X, *, learn_templates=None, penalties=()):
        """:meth:`fit_activations` on validated points, with options for
        the separators: ``learn_templates`` (a slice of template components
        learned on X, the others frozen) and extra ``penalties``."""
        device = resolve_device(self.device)
        data = self._prepare(X, device)
        new = clone(self)
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(self, name):
                setattr(new, name, copy.copy(getattr(self, name)))
        generator, rng = new._generators()
        with limit_threads(data.n_points * self.n_components_):
            model = self._activation_model(data, generator, rng).to(device)
            result = new._train(
                model, data, activations_only=True, learn_templates=learn_templates,
                penalties=penalties,
            )
        ranges = None if learn_templates is not None else self.coordinate_ranges_[1:]
        new._set_fitted(model, result, data, X, template_ranges=ranges)
        return new

    def _frame_start(self, data, templates):
        """Initial table activations: in each frame (unique time), every
        component at the value that gives the model the frame's mass.

        Depends on the frame's own points only, so a frame's activations do
        not depend on the other frames. ``templates`` are the template
        factors' values at ``data``'s unique coordinates.
        """
        K = templates[0].shape[1] if templates else self.n_components_
        P = torch.ones(data.n_points, K, dtype=torch.float64, device=data.m.device)
        for a, W in enumerate(templates, start=1):
            P = P * W.to(torch.float64)[data.index[a]]
        n_times = data.uniques[0].numel()
        index = data.index[0]
        mass = torch.zeros(n_times, dtype=torch.float64, device=P.device)
        mass.index_add_(0, index, data.m.to(torch.float64))
        model_mass = torch.zeros(n_times, dtype=torch.float64, device=P.device)
        model_mass.index_add_(0, index, P.sum(dim=1))
        start = torch.where(model_mass > 0, mass / model_mass.clamp_min(1e-300), 0.0)
        return start[:, None].expand(n_times, K).clone()

    def _check_n_components(self, data):
        sizes = [u.numel() for u in data.uniques]
        if len(sizes) > 1 and self.n_components > min(sizes):
            warnings.warn(
                f"n_components={self.n_components} is larger than the number of "
                f"distinct coordinate values of some axis (min {min(sizes)}): the "
                "factorisation is not unique.",
                UserWarning,
                stacklevel=3,
            )

    def _set_fitted(self, model, result, data, X, template_ranges=None):
        unit = data.scale**self._beta  # the divergence is homogeneous of degree beta
        record_training(
            self, result, unit, data.n_points, learning_rate=getattr(self, "_learning_rate", None)
        )
        self.model_ = model.to("cpu").eval()
        coords = X[:, :-1]
        ranges = [(float(c.min()), float(c.max())) for c in coords.T]
        if template_ranges is not None:
            ranges = ranges[:1] + list(template_ranges)
        self.coordinate_ranges_ = ranges
        self.n_components_ = model.n_components

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")
