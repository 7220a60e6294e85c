"""Evaluation of fitted factorisations: components at points, scores, sampled factors.

:class:`FactorSampling` is the half of :class:`~sklearn_innmf.models.nmf.BaseNMF`
that reads a fitted ``model_``: ``transform`` and ``score`` evaluate it in
chunks of points (memory bounded, each row independent of the others), and
``factor`` / ``templates`` / ``activations`` sample one factor at any
coordinates.
"""

import copy
import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from .._device import resolve_device
from .._threads import limit_threads
from ..points import unique_coordinates
from .base import PointTransformer

# transform / score evaluate at most this many points at a time
_CHUNK = 1 << 17


class FactorSampling(PointTransformer):
    """Base of the factorisations: evaluate and sample the fitted model (not for direct use).

    Needs ``model_`` (a :class:`~sklearn_innmf.problem.SeparableModel`),
    ``n_components_``, ``coordinate_ranges_``, the ``device`` parameter and
    ``_configure_eval`` of the estimator it is mixed into.
    """

    # whether factors sampled outside the training range are meaningless
    # (implicit factors: periodic features) and factor() should say so
    _periodic_outside = False

    def _configure_eval(self, model):
        """Set evaluation options (e.g. interpolation) on a copy of the model."""

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
