"""How the autoencoder meets point arrays: frames and bins, and the modules for separators.

The network sees spectrogram frames over fixed training bins. :class:`FrameCoding`
maps points to (frame, bin) and interpolates between bins, both for the
encoder's input and for the decoder's output at any frequency, and builds the
frame decoder and encoder that :class:`~sklearn_innmf.SupervisedSeparator` uses (eq. 8).
"""

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ...points import unique_coordinates
from ..base import PointTransformer
from .network import (
    FrameDecoder,
    FrameEncoder,
    interpolation_matrix,
    interpolation_weights,
)


class FrameCoding(PointTransformer):
    """Base of :class:`NonNegativeAutoencoder`: points to frames and bins, and the
    frame modules a separator takes (not for direct use)."""

    # -- frames and bins ---------------------------------------------------

    def _bin_coordinates(self, X):
        """The template coordinates of each point: (n_points, d - 1)."""
        return np.asarray(X[:, 1:-1], dtype=np.float64)

    def _locate(self, X):
        """Frame index, bracketing training bins and weight of each point.

        Returns ``times, frame, lo, hi, w``: the sorted unique times, and per
        point its frame and ``(1 - w) * bin lo + w * bin hi``.
        """
        (times,), (frame,) = unique_coordinates(np.asarray(X[:, :1], dtype=np.float64))
        coords = self._bin_coordinates(X)
        n = X.shape[0]
        if coords.shape[1] == 0:
            zeros = np.zeros(n, dtype=np.int64)
            return times, frame, zeros, zeros, np.zeros(n)
        if coords.shape[1] == 1:
            lo, hi, w = interpolation_weights(self.bins_[:, 0], coords[:, 0])
            return times, frame, lo, hi, w
        nearest = self._nearest_bins(coords)
        return times, frame, nearest, nearest, np.zeros(n)

    def _nearest_bins(self, coords):
        from scipy.spatial import cKDTree

        span = self.bins_.max(axis=0) - self.bins_.min(axis=0)
        span = np.where(span > 0, span, 1.0)
        _, idx = cKDTree(self.bins_ / span).query(coords / span)
        return np.asarray(idx, dtype=np.int64)

    def _encoder_input(self, X, times, frame, lo, hi, w):
        """Each frame's magnitudes at the training bins, (n_frames, n_bins).

        Cells a frame has points in hold their mean; with d = 2 a frame's
        other bins are interpolated linearly over frequency from its points
        (constant beyond them), otherwise they hold the frame's mean.
        """
        n_frames, n_bins = times.size, self.bins_.shape[0]
        m = np.asarray(X[:, -1], dtype=np.float64)
        exact = w == 0
        on_bin = np.where(exact, lo, -1)
        cell = frame * n_bins + on_bin
        # float even when no point lies on a bin (bincount of nothing is int)
        sums = np.bincount(cell[exact], weights=m[exact], minlength=n_frames * n_bins)
        sums = sums.astype(np.float64)
        counts = np.bincount(cell[exact], minlength=n_frames * n_bins)
        V = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        V = V.reshape(n_frames, n_bins)
        observed = counts.reshape(n_frames, n_bins) > 0
        off_bin = np.bincount(frame, weights=(~exact).astype(np.float64), minlength=n_frames)
        complete = observed.all(axis=1) & (off_bin == 0)
        todo = np.flatnonzero(~complete)
        if todo.size == 0:
            return V
        frame_mean = np.bincount(frame, weights=m, minlength=n_frames) / np.bincount(
            frame, minlength=n_frames
        )
        if self.bins_.shape[1] != 1:
            for i in todo:
                V[i, ~observed[i]] = frame_mean[i]
            return V
        f = self._bin_coordinates(X)[:, 0]
        order = np.lexsort((f, frame))
        starts = np.searchsorted(frame[order], np.arange(n_frames + 1))
        bins = self.bins_[:, 0]
        for i in todo:
            rows = order[starts[i] : starts[i + 1]]
            fi, mi = np.unique(f[rows], return_inverse=True)
            mean = np.bincount(mi, weights=m[rows]) / np.bincount(mi)
            V[i] = np.interp(bins, fi, mean)
        return V

    # -- modules for separators (eq. 8) ------------------------------------

    def _check_frequencies(self, freqs, name):
        check_is_fitted(self)
        if self.bins_.shape[1] != 1:
            raise ValueError(
                f"{name}(freqs) needs a model of (t, f, m) points (d=2), but this one "
                f"has d={self.bins_.shape[1] + 1}."
            )
        f = np.asarray(freqs, dtype=np.float64).ravel()
        if f.size == 0 or not np.all(np.isfinite(f)):
            raise ValueError("freqs must be a non-empty array of finite frequencies.")
        return f

    def _output_interpolation(self, coords):
        """``lo, hi, w`` (tensors of length n): the decoded value at each row of
        ``coords`` is ``(1 - w) * value[lo] + w * value[hi]`` of the values at
        the training bins: linear over frequency (d = 2, ``coords`` of shape
        (n,) or (n, 1)), the nearest bin for d > 2 (``coords`` (n, d - 1)),
        the single bin for d = 1 (``coords`` (n, 0))."""
        check_is_fitted(self)
        c = np.asarray(coords, dtype=np.float64)
        n_axes = self.bins_.shape[1]
        if c.ndim == 1 and n_axes == 1:
            c = c[:, None]
        if c.ndim != 2 or c.shape[1] != n_axes:
            raise ValueError(
                f"coords has shape={np.shape(coords)}, but this model's template "
                f"coordinates have {n_axes} column(s) (d={n_axes + 1})."
            )
        if c.shape[0] == 0 or not np.all(np.isfinite(c)):
            raise ValueError("coords must be a non-empty array of finite coordinates.")
        if n_axes == 1:
            lo, hi, w = interpolation_weights(self.bins_[:, 0], c[:, 0])
        else:
            lo = (self._nearest_bins(c) if n_axes else np.zeros(c.shape[0], dtype=np.int64))
            hi, w = lo, np.zeros(c.shape[0])
        return torch.as_tensor(lo), torch.as_tensor(hi), torch.as_tensor(w)

    def _frame_start(self, X, share=1.0):
        """Initial latents of X's frames for eq. 8: the encoder's output for
        each frame's own points (interpolated onto the training bins as
        :meth:`transform` does), the magnitudes scaled by ``share`` first.

        Returns an array (n_unique_times, n_components_), times sorted; a
        frame's row depends on that frame's points only.
        """
        times, frame, lo, hi, w = self._locate(X)
        V_in = self._encoder_input(X, times, frame, lo, hi, w) * (share / self.scale_)
        with torch.no_grad():
            return self._network64().encode(torch.as_tensor(V_in)).numpy()

    def _frame_decoder(self, freqs):
        """A frozen float64 CPU module: latents -> magnitudes at ``freqs``.

        Maps latents of shape (n_frames, n_components_) to non-negative
        magnitudes in X's units, shape (n_frames, len(freqs)), interpolated
        between the training bins as :meth:`transform` does. Separators sum
        such decoders of several sources and learn only the latents (eq. 8).

        Parameters
        ----------
        freqs : array-like of shape (n_freqs,) or (n_freqs, d - 1)
            Frequencies (d = 2), or rows of template coordinates for any d
            (the nearest bin for d > 2; shape (n, 0) for d = 1).

        Returns
        -------
        decoder : FrameDecoder
        """
        module = FrameDecoder(self._network64(), *self._output_interpolation(freqs), self.scale_)
        for p in module.parameters():
            p.requires_grad_(False)
        return module.eval()

    def _frame_encoder(self, freqs):
        """A frozen float64 CPU module: magnitudes at ``freqs`` -> latents.

        Maps magnitudes in X's units of shape (n_frames, len(freqs)) to
        latents (n_frames, n_components_): each frame is interpolated
        linearly onto the training bins (constant beyond ``freqs``), divided
        by ``scale_`` and encoded. An initial guess for eq. 6 / eq. 8.

        Parameters
        ----------
        freqs : array-like of shape (n_freqs,)

        Returns
        -------
        encoder : FrameEncoder
        """
        f = self._check_frequencies(freqs, "_frame_encoder")
        order = np.argsort(f, kind="stable")
        Q_sorted = interpolation_matrix(f[order], self.bins_[:, 0])  # (n_freqs, n_bins)
        Q = np.empty_like(Q_sorted)
        Q[order] = Q_sorted
        module = FrameEncoder(self._network64(), torch.as_tensor(Q), self.scale_)
        for p in module.parameters():
            p.requires_grad_(False)
        return module.eval()
