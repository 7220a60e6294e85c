"""Activations of a mixture under every source's frozen templates (paper Alg. 2).

:class:`MixtureActivations` builds the joint model of a mixture, all sources'
templates side by side, and solves its activations: a free value per frame,
solved frame by frame (each frame's result its own), or implicit activations
for signals without frames; optional penalties couple or sparsify them.
"""

import numpy as np
import torch
from sklearn.utils import check_random_state

from .._device import resolve_device
from ..factors import TableFactor
from ..models.implicit import ImplicitNMF
from ..models.matrix import MatrixNMF
from ..points import frame_chunks, unique_coordinates
from ..problem.forward import SeparableModel
from ..problem.penalties import CoactivityPenalty, LogPenalty

# frames are solved in chunks of about this many points (memory bound)
_CHUNK = 1 << 17
# the activation below which the sparsity penalty bites hardest (templates of
# mean 1, frames of mean 1: a frame's activations sum to about 1)
_SPARSITY_EPS = 1e-2

from ..models.base import PointTransformer


class MixtureActivations(PointTransformer):
    """Base of :class:`~sklearn_innmf.separation.SupervisedSeparator`: the joint model of
    a mixture and its activations (not for direct use)."""

    def _templates(self, uniques):
        """Every source's templates at the template axes' coordinates, each
        component scaled to mean 1 over its training range (``template_norms_``),
        so that activations of all sources are on one scale (the sparsity and
        cross-source penalties compare them).

        Returns a list over axes 1..d-1 of float64 arrays (n_a, K_known).
        """
        return [
            np.hstack([np.asarray(e.factor(a, u), dtype=np.float64) for e in self.estimators_])
            / self.template_norms_[a - 1]
            for a, u in enumerate(uniques, start=1)
        ]

    def _template_norms(self, estimators, d):
        """Mean of each template over 512 points of its training range:
        a scale that does not depend on the mixture's points."""
        norms = []
        for a in range(1, d):
            parts = []
            for e in estimators:
                lo, hi = e.coordinate_ranges_[a] if hasattr(e, "coordinate_ranges_") else (0, 1)
                G = np.asarray(e.factor(a, np.linspace(lo, hi, 512)), dtype=np.float64)
                parts.append(G.mean(axis=0))
            n = np.concatenate(parts)
            norms.append(np.where(n > 0, n, 1.0))
        return norms

    def _joint(self, uniques, W, dtype):
        """A fitted factorisation holding every source's templates, frozen,
        at the mixture's coordinates (plus ``n_free_components`` free ones):
        the separator solves the mixture with its ``_fit_activations``."""
        K_known = sum(self.n_components_per_source_)
        K = K_known + self.n_free_components
        d = len(uniques)
        seed = self._seed()
        if self.activations == "frames":
            joint = MatrixNMF(
                K, beta_loss=self._beta, max_iter=self.max_iter, tol=0.0,
                interpolation=None, random_state=seed, device=self.device,
                dtype="float64", verbose=self.verbose,
            )
        else:
            joint = ImplicitNMF(
                K, encoding_size=self.encoding_size, hidden_size=self.hidden_size,
                n_layers=self.n_layers, architecture=self.architecture,
                beta_loss=self._beta, learning_rate=self._learning_rate(3e-3),
                max_iter=self.max_iter, tol=self.tol, random_state=seed,
                device=self.device, dtype="float32", verbose=self.verbose,
            )
        rng = np.random.RandomState(seed)
        tables = []
        for u, w in zip(uniques[1:], W):
            free = 0.5 + rng.random_sample((u.size, self.n_free_components))
            values = np.hstack([w, free / free.mean(axis=0)]) if self.n_free_components else w
            tables.append(
                TableFactor(torch.as_tensor(u), torch.as_tensor(values).to(joint._torch_dtype), None)
            )
        time = TableFactor(
            torch.zeros(1, dtype=torch.float64), torch.ones(1, K, dtype=joint._torch_dtype)
        )
        joint.model_ = SeparableModel([time, *tables])
        joint.n_components_ = K
        joint.n_features_in_ = d + 1
        joint.coordinate_ranges_ = [(0.0, 0.0)] + [(float(u.min()), float(u.max())) for u in uniques[1:]]
        return joint

    def _seed(self):
        if self.random_state is None:
            return None
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _penalties(self):
        groups = self._groups()
        penalties = []
        if self.sparsity > 0:
            penalties.append(LogPenalty(0, self.sparsity, eps=_SPARSITY_EPS, per_point=True))
        if self.cross_source_penalty > 0 and len(groups) > 1:
            penalties.append(
                CoactivityPenalty(groups, self.cross_source_penalty, per_point=True)
            )
        return penalties

    def _fits(self, X):
        """Solve the mixture: yields ``(rows, fitted, frame_scale)`` per
        piece solved, with ``fitted`` the joint model fitted to X[rows] and
        ``frame_scale`` (per row) what takes its magnitudes back to X's unit."""
        coords, m = X[:, :-1], np.asarray(X[:, -1], dtype=np.float64)
        uniques, inverse = unique_coordinates(coords)
        W = self._templates(uniques[1:])
        joint = self._joint(uniques, W, X.dtype)
        learn = None
        if self.n_free_components:
            learn = slice(sum(self.n_components_per_source_), None)
        t_index, n_frames = inverse[0], uniques[0].size
        if self.activations == "frames":
            m_fit, frame_mean = _frame_normalised(m, t_index, n_frames)
        else:
            m_fit, frame_mean = m, np.ones(n_frames)
        if self.activations == "frames" and learn is None:
            pieces = frame_chunks(t_index, n_frames, m, _CHUNK)
        else:
            # one fit of all points: implicit activations, or free templates
            # shared by every frame
            pieces = [np.flatnonzero(np.ones(len(m), bool))] if np.any(m > 0) else []
        for rows in pieces:
            fitted = self._solve(joint, coords[rows], m_fit[rows], learn)
            yield rows, fitted, frame_mean[t_index[rows]]

    def _decoder_fits(self, X):
        """Solve the mixture with the sources' frozen frame decoders (eq. 8
        of Smaragdis & Venkataramani 2017): yields ``(rows, model)`` per chunk
        of frames, ``model`` the fitted :class:`~sklearn_innmf.problem.DecoderModel`
        with the chunk's points laid out in ``model.data``."""
        from ..models.autoencoder.network import solve_frame_latents

        fits = solve_frame_latents(
            X, self.estimators_, beta=self._beta, max_iter=self.max_iter,
            learning_rate=self._learning_rate(1e-2), penalties=self._penalties(),
            groups=self._groups(), device=resolve_device(self.device),
            verbose=self.verbose, desc=type(self).__name__, chunk_size=_CHUNK,
        )
        for rows, model, _ in fits:
            yield rows, model

    def _learning_rate(self, auto):
        return auto if self.learning_rate == "auto" else self.learning_rate

    def _groups(self):
        sizes = list(self.n_components_per_source_)
        if self.n_free_components:
            sizes.append(self.n_free_components)
        bounds = np.cumsum([0, *sizes])
        return [slice(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]

    def _source_models(self, X):
        """Each source's part of the model at X's points, in X's unit of m.

        Frames ("frames"): each frame's magnitudes are divided by their own
        mean, and the joint model's activation fit starts each frame at the
        value that gives it the frame's mass, so the multiplicative updates
        are scale-equivariant and no number used for a frame depends on
        another frame. Frames are solved in chunks of about ``_CHUNK`` points
        (memory O(_CHUNK * K)); the updates of a frame only sum over its own
        points, so chunking does not change its result. Silent frames are
        not solved (their model is 0).

        Returns an array (n_points, n_outputs), float64.
        """
        V = np.zeros((X.shape[0], len(self._output_names())))
        if self._decoding:
            for rows, model in self._decoder_fits(X):
                with torch.no_grad():
                    values = model.values(model.data.uniques)
                    for s, grid in enumerate(model.source_grids(values)):
                        picked = grid[model.data.index[0], model.columns]
                        V[rows, s] = picked.cpu().numpy()
            return V
        for rows, fitted, frame_scale in self._fits(X):
            terms = fitted._components_at(X[rows, :-1], np.float64)
            V[rows] = self._per_source(terms) * frame_scale[:, None]
        return V

    def mixture_activations(self, X):
        """The mixture's activations, as the separation found them.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            The mixture's points.

        Returns
        -------
        H : ndarray of shape (n_times, n_components)
            At X's unique times (sorted), the activation of every component
            of every source (in the order of ``classes_``, then the free
            components), with templates scaled to mean 1 over their
            training range (``template_norms_``), in X's unit of m. Silent
            frames are 0.
        """
        X = self._validate(X)
        times = np.unique(X[:, 0])
        K = sum(self.n_components_per_source_) + self.n_free_components
        H = np.zeros((times.size, K))
        if self._decoding:
            for rows, model in self._decoder_fits(X):
                where = np.searchsorted(times, model.data.uniques[0].cpu().numpy())
                H[where] = model.factors[0].values.detach().cpu().numpy()
            return H
        for rows, fitted, frame_scale in self._fits(X):
            t, first = np.unique(X[rows, 0], return_index=True)
            where = np.searchsorted(times, t)
            H[where] = fitted.activations(t) * frame_scale[first, None]
        return H

    def _solve(self, joint, coords, m, learn):
        """The joint model's activations (and free templates) for these points."""
        X = np.column_stack([coords, m])
        return joint._fit_activations(X, learn_templates=learn, penalties=self._penalties())

    def _per_source(self, terms):
        """Sum the component terms (n, K) of each output: (n, n_outputs)."""
        return np.stack([terms[:, g].sum(axis=1) for g in self._groups()], axis=1)


def _frame_normalised(m, t_index, n_frames):
    """``m`` divided by the mean of its frame, and those means (1 where a
    frame is silent)."""
    counts = np.bincount(t_index, minlength=n_frames)
    frame_mean = np.bincount(t_index, weights=m, minlength=n_frames) / np.maximum(counts, 1)
    frame_mean[frame_mean == 0] = 1.0
    return m / frame_mean[t_index], frame_mean
