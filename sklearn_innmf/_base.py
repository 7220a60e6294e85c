"""The estimators' shared machinery: validation, fitted state, evaluation.

:class:`PointTransformer` is what every estimator of point arrays shares (the
factorisations and the separator): validation, tags, ``inverse_transform``,
``get_feature_names_out``. :class:`BaseNMF` adds the factorisations': its
subclasses say how a model is built and trained (``_init_model``,
``_activation_model``, ``_train``); it wires points, factors and solvers
together and gives the rest of the scikit-learn API.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ._device import resolve_device
from ._points import check_points, unique_coordinates
from .divergences import beta_divergence, beta_loss_to_float
from .model import prepare_points
from .problem import Block, L1L2Penalty, Problem
from .solvers import solve
from ._threads import limit_threads

__all__ = ["BaseNMF", "PointTransformer", "resolve_device"]

# transform / score evaluate at most this many points at a time
_CHUNK = 1 << 17


class PointTransformer(TransformerMixin, BaseEstimator):
    """Base class of the estimators that transform point arrays (not for direct use).

    ``transform`` of such an estimator returns X's coordinate columns, then
    columns that add up to a model of ``m``: components for the
    factorisations, sources for :class:`~sklearn_innmf.separation.SupervisedSeparator`.
    This base validates point arrays and gives the methods that follow from
    that layout. Subclasses name the added columns (``_output_names``) and
    say what they are in messages (``_output_kind``).
    """

    _output_kind = "columns"

    def _output_names(self):  # pragma: no cover
        """Names of the columns ``transform`` adds after the coordinates."""
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _validate_points(self, X, *, reset):
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_min_samples=2 if reset else 1,
            ensure_min_features=2 if reset else 1,
        )
        if reset:
            self._check_n_coordinates(X.shape[1] - 1)
        return check_points(X)

    def _check_n_coordinates(self, d):
        """A width other than (t, f, m) is read as d coordinates + m, a CP
        decomposition for d > 2: an error if ``n_coordinates`` says otherwise,
        a warning if nothing says it (a user may have meant 3 columns)."""
        expected = getattr(self, "n_coordinates", None)
        if expected is not None and d != expected:
            raise ValueError(
                f"X has {d + 1} columns, but n_coordinates={expected} expects "
                f"{expected + 1}: {expected} coordinate column(s), then the magnitude."
            )
        if expected is None and d != 2:
            warnings.warn(
                f"X has {d + 1} columns: read as {d} coordinate column(s) (column 0 "
                f"the activation axis) and the magnitude last"
                + (", a non-negative CP decomposition" if d > 2 else "")
                + ". Points of a spectrogram have 3, (t, f, m); set n_coordinates="
                f"{d} to confirm this layout and silence this warning.",
                UserWarning,
                stacklevel=4,
            )

    def inverse_transform(self, X):
        """The coordinates and the sum of the other columns.

        For a factorisation that is the reconstruction (the model ``m_hat``),
        for a separator the mixture.

        Parameters
        ----------
        X : array-like of shape (n_points, d + n_outputs)
            Output of :meth:`transform` (or columns edited by the user):
            ``n_outputs`` is the number of components or sources.

        Returns
        -------
        X_original : ndarray of shape (n_points, d + 1)
            Columns ``(coordinates..., sum)``: the sum is the model ``m_hat``
            of a factorisation, the mixture's ``m`` of a separator.
        """
        check_is_fitted(self)
        Z = check_array(X, dtype=[np.float64, np.float32], input_name="X")
        d, n = self.n_features_in_ - 1, len(self._output_names())
        if Z.shape[1] != d + n:
            raise ValueError(
                f"X has {Z.shape[1]} columns, but inverse_transform expects "
                f"{d} coordinate(s) + {n} {self._output_kind} = {d + n}."
            )
        return np.hstack([Z[:, :d], Z[:, d:].sum(axis=1, keepdims=True)])

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns: the coordinates', then one per added column.

        The added columns are ``<class>0..K-1`` (the estimator's class name
        in lower case) for the factorisations, ``source_<label>`` for
        :class:`~sklearn_innmf.separation.SupervisedSeparator`.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Names of X's columns; default ``feature_names_in_`` or x0, x1, ...

        Returns
        -------
        names : ndarray of str objects
        """
        check_is_fitted(self, "n_features_in_")
        names = _check_feature_names_in(self, input_features)
        out = [str(n) for n in names[:-1]] + list(self._output_names())
        return np.asarray(out, dtype=object)

    def _score_model(self, m, m_hat, scale):
        """Minus the mean beta-divergence of the model ``m_hat`` at X's
        magnitudes ``m``, computed in the model's normalised unit (``m /
        scale``, where its eps floor is meant to act) and stated in X's."""
        div = beta_divergence(
            torch.as_tensor(np.asarray(m, dtype=np.float64) / scale),
            torch.as_tensor(np.asarray(m_hat, dtype=np.float64) / scale),
            self._beta,
        )
        return -float(div) * scale**self._beta


class BaseNMF(PointTransformer):
    """Base class of the factorisation estimators (not for direct use)."""

    _output_kind = "components"
    # whether factors sampled outside the training range are meaningless
    # (implicit factors: periodic features) and factor() should say so
    _periodic_outside = False

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
        """scikit-learn's elastic-net penalties: ``alpha_H`` on the
        activations (axis 0), ``alpha_W`` on each template axis."""
        alpha_W = float(self.alpha_W)
        alpha_H = alpha_W if self.alpha_H == "same" else float(self.alpha_H)
        penalties = []
        for a in range(len(data.uniques)):
            alpha = alpha_H if a == 0 else alpha_W
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

    def _configure_eval(self, model):
        """Set evaluation options (e.g. interpolation) on a copy of the model."""

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
        estimator's ``alpha_H`` penalty, if any). ``self`` is left unchanged.

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
        beta = self._beta
        unit = data.scale**beta  # the divergence is homogeneous of degree beta
        if result.nonfinite:
            warnings.warn(
                f"{type(self).__name__}: the loss became non-finite after "
                f"{result.n_iter} iteration(s); the last finite state was kept. "
                + (
                    f"Lower learning_rate={self._learning_rate!r} or check the scale of X."
                    if hasattr(self, "_learning_rate")
                    else "Check the scale of X, or use dtype='float64'."
                ),
                ConvergenceWarning,
                stacklevel=3,
            )
        elif len(result.objectives) > 1 and result.objectives[-1] > result.objectives[0]:
            # a rise over a few steps can be the optimiser's first overshoot:
            # when training stopped at max_iter, say so too
            lr = getattr(self, "_learning_rate", None)
            advice = f"lower learning_rate={lr!r}" if lr is not None else "check X"
            stopped = ""
            if not result.converged:
                stopped = f" in max_iter={self.max_iter} iteration(s)"
                advice += " or increase max_iter"
            warnings.warn(
                f"{type(self).__name__}: training made the loss worse (from "
                f"{result.objectives[0] * unit:.4g} to {result.objectives[-1] * unit:.4g})"
                f"{stopped}; {advice}.",
                ConvergenceWarning,
                stacklevel=3,
            )
        elif not result.converged and self.tol > 0:
            warnings.warn(
                f"{type(self).__name__}: maximum number of iterations "
                f"max_iter={self.max_iter} reached before tol={self.tol}; "
                "increase max_iter to improve convergence.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.model_ = model.to("cpu").eval()
        self.n_iter_ = int(result.n_iter)
        self.loss_curve_ = [float(v) * unit for v in result.losses]
        final = self.loss_curve_[-1] if self.loss_curve_ else float("nan")
        self.reconstruction_err_ = float(np.sqrt(max(2.0 * final * data.n_points, 0.0)))
        coords = X[:, :-1]
        ranges = [(float(c.min()), float(c.max())) for c in coords.T]
        if template_ranges is not None:
            ranges = ranges[:1] + list(template_ranges)
        self.coordinate_ranges_ = ranges
        self.n_components_ = model.n_components

    # -- evaluation --------------------------------------------------------

    def _eval_model(self, dtype, device):
        model = copy.deepcopy(self.model_).to(device=device, dtype=dtype)
        self._configure_eval(model)
        return model

    def _components_at(self, coords, np_dtype, *, out=None, summed=False):
        """Component values (n_points, K) at the coordinates, in np_dtype,
        written into ``out`` if given; with ``summed``, their sum (n_points,),
        the model, so that no (n_points, K) array is made."""
        device = resolve_device(self.device)
        dtype = torch.float64 if np_dtype == np.float64 else torch.float32
        model = self._eval_model(dtype, device)
        if out is None:
            shape = (coords.shape[0],) if summed else (coords.shape[0], model.n_components)
            out = np.empty(shape, dtype=np_dtype)
        with torch.no_grad(), limit_threads(coords.shape[0] * model.n_components):
            for start in range(0, coords.shape[0], _CHUNK):
                chunk = coords[start : start + _CHUNK]
                uniques, inverse = unique_coordinates(chunk)
                uniques = [torch.as_tensor(u, dtype=torch.float64, device=device) for u in uniques]
                values = model.values(uniques)
                prod = values[0][torch.as_tensor(inverse[0], device=device)] * model.scale.to(dtype)
                for a in range(1, len(values)):
                    prod = prod * values[a][torch.as_tensor(inverse[a], device=device)]
                if summed:
                    prod = prod.sum(dim=1)
                out[start : start + chunk.shape[0]] = prod.cpu().numpy()
        return out

    def transform(self, X):
        """The fitted components evaluated at X's coordinates.

        The magnitude column is validated, not used, so the result of a row
        depends on that row alone.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)

        Returns
        -------
        Z : ndarray of shape (n_points, d + n_components)
            The coordinates, then the value of each component at them.
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        coords, d = X[:, :-1], X.shape[1] - 1
        Z = np.empty((X.shape[0], d + self.n_components_), dtype=X.dtype)
        Z[:, :d] = coords
        self._components_at(coords, X.dtype, out=Z[:, d:])  # no second (L, K) copy
        return Z

    def score(self, X, y=None):
        """Minus the mean beta-divergence between X's magnitudes and the model.

        Higher is better, so model selection (``GridSearchCV``) maximises it.

        Parameters
        ----------
        X : array-like of shape (n_points, d + 1)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        m_hat = self._components_at(X[:, :-1], np.float64, summed=True)
        return self._score_model(X[:, -1], m_hat, float(self.model_.scale))

    # -- factors -----------------------------------------------------------

    def factor(self, axis, values):
        """Sample one fitted factor.

        Parameters
        ----------
        axis : int
            0 for the activations (time), 1.. for template axes.
        values : array-like of shape (n_values,)
            Coordinates along that axis, in the units of X.

        Returns
        -------
        G : ndarray of shape (n_values, n_components)
            Non-negative values; ``sum_k prod_a G_a[k]`` is the model. Axis 0
            carries the magnitude scale.
        """
        check_is_fitted(self)
        d = self.n_features_in_ - 1
        if not (isinstance(axis, Integral) and 0 <= axis < d):
            raise ValueError(f"axis={axis!r} must be an integer in [0, {d}).")
        v = np.asarray(values, dtype=np.float64).ravel()
        if not np.all(np.isfinite(v)):
            raise ValueError("values contains NaN or infinity.")
        if self._periodic_outside:
            lo, hi = self.coordinate_ranges_[axis]
            slack = 1e-9 * max(hi - lo, abs(hi), 1.0)
            outside = (v < lo - slack) | (v > hi + slack)
            if np.any(outside):
                warnings.warn(
                    f"{np.count_nonzero(outside)} of {v.size} value(s) of axis {axis} lie "
                    f"outside the training range [{lo:.6g}, {hi:.6g}] "
                    f"(coordinate_ranges_[{axis}]): the networks' Fourier features are "
                    "periodic, so there they repeat a pattern from inside the range "
                    "instead of extrapolating. Sample within the range.",
                    UserWarning,
                    stacklevel=2,
                )
        model = self._eval_model(torch.float64, torch.device("cpu"))
        with torch.no_grad():
            G = model.factors[axis](torch.as_tensor(v))
            if axis == 0:
                G = G * model.scale
        return G.numpy()

    def templates(self, freqs):
        """The templates W at the given frequencies (d = 2).

        Parameters
        ----------
        freqs : array-like of shape (n_freqs,)

        Returns
        -------
        W : ndarray of shape (n_freqs, n_components)
        """
        self._check_two_axes("templates")
        return self.factor(1, freqs)

    def activations(self, times):
        """The activations H at the given times.

        Parameters
        ----------
        times : array-like of shape (n_times,)

        Returns
        -------
        H : ndarray of shape (n_times, n_components)
        """
        return self.factor(0, times)

    def _check_two_axes(self, what):
        check_is_fitted(self)
        if self.n_features_in_ != 3:
            raise ValueError(
                f"{what}() needs (t, f, m) points (d=2), but this model has "
                f"d={self.n_features_in_ - 1}; use factor(axis, values)."
            )

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")
