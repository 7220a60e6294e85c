"""What every estimator of point arrays shares.

:class:`PointTransformer`: validation of point arrays, tags,
``inverse_transform``, ``get_feature_names_out`` and the score of a model;
:func:`record_training`: how a fit reports the end of its training (sklearn's
ConvergenceWarning, ``n_iter_``, ``loss_curve_``). Used by the factorisations,
the autoencoder and the separators.
"""

import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ..divergences import beta_divergence
from ..points import check_points


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


def record_training(estimator, result, unit, n_points, *, learning_rate=None):
    """Say how training ended (sklearn's ConvergenceWarning) and set the
    fitted attributes that describe it: ``n_iter_``, ``loss_curve_`` and
    ``reconstruction_err_``, in X's units (``unit`` converts from the solver's).

    ``result`` is the solver's :class:`~sklearn_innmf.solvers.FitResult`;
    ``learning_rate``, for gradient training, is named in the advice.
    """
    name = type(estimator).__name__
    if result.nonfinite:
        warnings.warn(
            f"{name}: the loss became non-finite after {result.n_iter} iteration(s); the "
            "last finite state was kept. "
            + (
                f"Lower learning_rate={learning_rate!r} or check the scale of X."
                if learning_rate is not None
                else "Check the scale of X, or use dtype='float64'."
            ),
            ConvergenceWarning,
            stacklevel=4,
        )
    elif len(result.objectives) > 1 and result.objectives[-1] > result.objectives[0]:
        # a rise over a few steps can be the optimiser's first overshoot:
        # when training stopped at max_iter, say so too
        advice = f"lower learning_rate={learning_rate!r}" if learning_rate is not None else "check X"
        stopped = ""
        if not result.converged:
            stopped = f" in max_iter={estimator.max_iter} iteration(s)"
            advice += " or increase max_iter"
        warnings.warn(
            f"{name}: training made the loss worse (from "
            f"{result.objectives[0] * unit:.4g} to {result.objectives[-1] * unit:.4g})"
            f"{stopped}; {advice}.",
            ConvergenceWarning,
            stacklevel=4,
        )
    elif not result.converged and estimator.tol > 0:  # tol=0: a fixed number of steps
        warnings.warn(
            f"{name}: maximum number of iterations max_iter={estimator.max_iter} reached "
            f"before tol={estimator.tol}; increase max_iter to improve convergence.",
            ConvergenceWarning,
            stacklevel=4,
        )
    record_loss_curve(estimator, result.losses, result.n_iter, unit, n_points)


def record_loss_curve(estimator, losses, n_iter, unit, n_points):
    """``n_iter_``, ``loss_curve_`` (in X's units) and ``reconstruction_err_``."""
    estimator.n_iter_ = int(n_iter)
    estimator.loss_curve_ = [float(v) * unit for v in losses]
    final = estimator.loss_curve_[-1] if estimator.loss_curve_ else float("nan")
    estimator.reconstruction_err_ = float(np.sqrt(max(2.0 * final * n_points, 0.0)))
