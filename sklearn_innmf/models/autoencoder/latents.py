"""Latents of any frames with the decoder frozen (eq. 6 of Smaragdis & Venkataramani 2017).

:class:`LatentSolving` gives the fitted autoencoder ``transform``, ``score``,
``fit_activations`` and ``activations``: each frame's latents are solved for
its own points by :func:`~sklearn_innmf.models.autoencoder.network.solve_frame_latents`.
"""

import copy

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ...points import unique_coordinates
from ..base import record_loss_curve
from .frames import FrameCoding
from .network import (
    _CHUNK_CELLS,
    interpolation_weights,
    occlusion_shares,
    solve_frame_latents,
)


class LatentSolving(FrameCoding):
    """Base of :class:`NonNegativeAutoencoder`: latents of new frames (not for direct use)."""

    # -- latents of any frames (eq. 6) -------------------------------------

    def _network64(self):
        net = copy.deepcopy(self.model_).to(device="cpu", dtype=torch.float64)
        for p in net.parameters():
            p.requires_grad_(False)
        return net

    def _solve(self, X, *, shares):
        """Eq. 6 on X's frames (:func:`solve_frame_latents` with this
        autoencoder alone).

        Returns ``times, H, m_hat, C, losses``: the unique times, their
        latents (n_frames, K), the model at each point (n_points,), the
        component columns (n_points, K) if ``shares`` else None, and the
        mean divergence per point at each step (normalised units, over all
        chunks of frames).
        """
        X = np.asarray(X, dtype=np.float64)
        (times,), _ = unique_coordinates(X[:, :1])
        K, n = self.n_components_, X.shape[0]
        H = np.empty((times.size, K))
        m_hat = np.empty(n)
        C = np.empty((n, K)) if shares else None
        losses = np.zeros(self.latent_iter + 1)
        fits = solve_frame_latents(
            X, [self], beta=self._beta, max_iter=self.latent_iter,
            learning_rate=self.learning_rate, audible_only=False,
        )
        for rows, model, result in fits:
            data, (decoder,) = model.data, model.decoders
            with torch.no_grad():
                (Hc,) = model.values(data.uniques)
                H[np.searchsorted(times, data.uniques[0].numpy())] = Hc.numpy()
                frame, col = data.index[0], model.columns
                if shares:
                    # in frames of at most _CHUNK_CELLS shares (frames x columns x K)
                    step = max(1, _CHUNK_CELLS // (decoder.n_outputs * (K + 1)))
                    for f0 in range(0, Hc.shape[0], step):
                        S = occlusion_shares(decoder, Hc[f0 : f0 + step])
                        here = torch.nonzero((frame >= f0) & (frame < f0 + step)).ravel()
                        C[rows[here.numpy()]] = S[frame[here] - f0, col[here]].numpy()
                    m_hat[rows] = C[rows].sum(axis=1)
                else:
                    m_hat[rows] = decoder(Hc)[frame, col].numpy()
            curve = np.asarray(result.losses, dtype=np.float64)
            curve = np.pad(curve, (0, losses.size - curve.size), mode="edge")
            losses += curve * rows.size
        unit = self.scale_**self._beta  # the losses in the normalised units of training
        return times, H, m_hat, C, list(losses / max(n, 1) / unit)

    def transform(self, X):
        """Each point's coordinates, then the latents' shares of the model there.

        The latents of each frame solve eq. 6 on that frame's points (see
        Notes of the class), so a row's result depends on its own frame's
        rows only.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)

        Returns
        -------
        Z : ndarray of shape (n_points, d + n_components)
            The coordinates, then component k's share of the reconstruction
            ``m_hat`` (non-negative; the columns sum to ``m_hat``).
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        _, _, _, C, _ = self._solve(X, shares=True)
        return np.hstack([X[:, :-1], C.astype(X.dtype, copy=False)])

    def score(self, X, y=None):
        """Minus the mean beta-divergence between X's magnitudes and the model.

        The model of each frame is its eq. 6 reconstruction.

        Parameters
        ----------
        X : array-like of shape (n_points, d + 1)
        y : None
            Ignored.

        Returns
        -------
        score : float
            Higher is better.
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        self._check_magnitudes(X[:, -1])
        _, _, m_hat, _, _ = self._solve(X, shares=False)
        return self._score_model(X[:, -1], m_hat, self.scale_)

    def fit_activations(self, X):
        """Explain a new signal with this estimator's decoder (eq. 6).

        Returns a *new* fitted estimator with this one's network (the
        decoder frozen) whose ``latents_`` and ``frame_times_`` are X's
        frames' eq. 6 latents; ``loss_curve_`` is their mean divergence per
        step. ``self`` is left unchanged.

        Parameters
        ----------
        X : array-like of shape (n_points, d + 1)

        Returns
        -------
        estimator : NonNegativeAutoencoder
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        self._check_magnitudes(X[:, -1])
        times, H, _, _, losses = self._solve(X, shares=False)
        new = clone(self)
        for name in ("n_features_in_", "feature_names_in_", "bins_"):
            if hasattr(self, name):
                setattr(new, name, copy.copy(getattr(self, name)))
        unit = self.scale_**self._beta
        new._set_fitted(copy.deepcopy(self.model_), self.scale_, times, H)
        record_loss_curve(new, losses, self.latent_iter, unit, X.shape[0])
        return new

    def activations(self, times):
        """The latents at the given times, in X's magnitude unit over the network's.

        Linear interpolation of ``latents_`` between ``frame_times_`` (the
        edge frame's beyond them).

        Parameters
        ----------
        times : array-like of shape (n_times,)

        Returns
        -------
        H : ndarray of shape (n_times, n_components)
        """
        check_is_fitted(self)
        t = np.asarray(times, dtype=np.float64).ravel()
        if not np.all(np.isfinite(t)):
            raise ValueError("times contains NaN or infinity.")
        lo, hi, w = interpolation_weights(self.frame_times_, t)
        return self.latents_[lo] * (1.0 - w)[:, None] + self.latents_[hi] * w[:, None]
