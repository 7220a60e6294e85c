"""MiniBatchMatrixNMF: MatrixNMF learned from mini-batches of frames."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval

from .._device import resolve_device
from .._threads import limit_threads
from ..factors import TableFactor
from ..problem.data import prepare_points
from ..problem.forward import SeparableModel
from ..solvers import FitResult
from ..solvers.minibatch import (
    MiniBatchState, batch_data, frame_batches, frame_order, frame_start, minibatch_step,
)
from .matrix import MatrixNMF

__all__ = ["MiniBatchMatrixNMF"]


class MiniBatchMatrixNMF(MatrixNMF):
    """MatrixNMF learned from mini-batches of time frames (online NMF).

    The templates (every axis but time) are shared by all batches; each
    batch's activations are updated for that batch, then the templates take
    one multiplicative step whose numerator and denominator are accumulated
    over the batches seen, older batches weighted down by ``forget_factor``
    per pass over the data (Lefevre, Bach & Fevotte 2011), as
    :class:`sklearn.decomposition.MiniBatchNMF` does. A batch is the points of
    ``batch_size`` consecutive frames (unique times, column 0).

    ``fit(X)`` runs passes over X's frames, keeping every frame's
    activations between passes (they are X's model, as in
    :class:`MatrixNMF`); ``partial_fit(X)`` is one step on a batch that need
    not fit in memory with the others: X's activations are solved from
    scratch with the current templates (``fresh_restarts_max_iter``
    updates), then the templates step. Use it to learn a dictionary from a
    stream of batches or files (:func:`~sklearn_innmf.representations.streaming.fit_corpus`).

    Parameters
    ----------
    n_components : int, default=10
        Number of components K.
    batch_size : int, default=1024
        Frames (unique times) per mini-batch in ``fit``.
    beta_loss, init, alpha_W, alpha_H, l1_ratio, interpolation, random_state, \
device, dtype, n_coordinates
        As :class:`MatrixNMF`. ``init`` is computed on all of X in ``fit``,
        on the first batch in ``partial_fit``; the penalties are computed
        per batch (on its points), as sklearn's MiniBatchNMF does.
    max_iter : int, default=200
        Maximum number of passes over the data in ``fit``.
    tol : float, default=1e-4
        Stop when the templates change by at most ``tol`` (relative
        Frobenius norm) in a step; also the activations' tolerance of fresh
        solves. 0 disables it.
    max_no_improvement : int or None, default=10
        Stop after this many consecutive steps without improvement of the
        smoothed batch cost (an exponentially weighted average, each batch
        weighted by its share of the frames). None disables it.
    forget_factor : float, default=0.7
        Weight of the past per pass over the data: each step multiplies the
        accumulated statistics by ``forget_factor ** (batch_size / n_frames)``
        (in ``partial_fit``, by ``forget_factor``). 0 keeps only the current
        batch: with one batch that is the full-batch update.
    fresh_restarts : bool, default=False
        In ``fit``, solve each batch's activations from a fresh start at
        every step (at most ``fresh_restarts_max_iter`` updates) instead of
        ``n_activation_iter`` updates from their last value.
    fresh_restarts_max_iter : int, default=30
        Updates of a fresh solve (``fresh_restarts`` and ``partial_fit``).
    n_activation_iter : int, default=1
        Updates of a batch's activations per step in ``fit`` (1 is
        sklearn's). More spend more time per step on the activations, which
        otherwise get one update per pass.
    verbose : int, default=0
        1 shows a progress bar over the steps with the smoothed batch cost.

    Attributes
    ----------
    model_ : SeparableModel
        The templates and the activations of the frames of the last ``fit``
        (all of X) or of the last ``partial_fit`` batch.
    n_iter_ : int
        Passes over the data started in ``fit``.
    n_steps_ : int
        Mini-batch steps made (by ``fit`` or all ``partial_fit`` calls).
    loss_curve_ : list of float
        The cost of each batch at its step (mean divergence plus penalties
        per point, in X's units).
    reconstruction_err_ : float
        ``sqrt(2 * total divergence)`` over the data of the last ``fit`` or
        batch of ``partial_fit``.

    See Also
    --------
    MatrixNMF : the full-batch algorithm.
    sklearn.decomposition.MiniBatchNMF : the matrix-only original.

    Notes
    -----
    With ``batch_size`` at least the number of frames, ``forget_factor=0``,
    ``tol=0`` and ``max_no_improvement=None``, ``fit`` makes the same
    updates in the same order as :class:`MatrixNMF` with ``tol=0`` and the
    same ``max_iter``, from the same initial factors: the fitted factors
    are equal bit for bit.

    References
    ----------
    .. [1] A. Lefevre, F. Bach and C. Fevotte, "Online algorithms for
       nonnegative matrix factorization with the Itakura-Saito divergence",
       WASPAA 2011. :doi:`10.1109/ASPAA.2011.6082314`

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf import MiniBatchMatrixNMF, grid_to_points
    >>> t, f = np.arange(400) * 0.01, np.arange(32) * 50.0
    >>> V = np.outer(1 + np.cos(f / 300), 1 + np.sin(t)) + np.outer(f / 1600, t)  # rank 2
    >>> X = grid_to_points(V, times=t, freqs=f)              # 400 frames
    >>> nmf = MiniBatchMatrixNMF(2, batch_size=100, forget_factor=0.0, n_activation_iter=5,
    ...                          max_iter=50, tol=0, max_no_improvement=None,
    ...                          random_state=0).fit(X)  # 50 passes of 4 batches
    >>> nmf.n_steps_, nmf.transform(X).shape
    (200, (12800, 4))
    >>> bool(-nmf.score(X) < 1e-3 * X[:, 2].mean())           # KL per point, relative
    True
    """

    _parameter_constraints: dict = {
        **MatrixNMF._parameter_constraints,
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_no_improvement": [Interval(Integral, 1, None, closed="left"), None],
        "forget_factor": [Interval(Real, 0, 1, closed="both")],
        "fresh_restarts": ["boolean"],
        "fresh_restarts_max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_activation_iter": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=10,
        *,
        batch_size=1024,
        beta_loss="kullback-leibler",
        init=None,
        alpha_W=0.0,
        alpha_H="same",
        l1_ratio=0.0,
        max_iter=200,
        tol=1e-4,
        max_no_improvement=10,
        forget_factor=0.7,
        fresh_restarts=False,
        fresh_restarts_max_iter=30,
        n_activation_iter=1,
        interpolation="linear",
        random_state=None,
        device="auto",
        dtype="float32",
        verbose=0,
        n_coordinates=None,
    ):
        super().__init__(
            n_components, beta_loss=beta_loss, init=init, alpha_W=alpha_W, alpha_H=alpha_H,
            l1_ratio=l1_ratio, max_iter=max_iter, tol=tol, interpolation=interpolation,
            random_state=random_state, device=device, dtype=dtype, verbose=verbose,
            n_coordinates=n_coordinates,
        )
        self.batch_size = batch_size
        self.max_no_improvement = max_no_improvement
        self.forget_factor = forget_factor
        self.fresh_restarts = fresh_restarts
        self.fresh_restarts_max_iter = fresh_restarts_max_iter
        self.n_activation_iter = n_activation_iter

    # -- fit: passes over X's frames ------------------------------------------

    # fit is MatrixNMF's (validation, init on all of X); the training is
    # the mini-batch loop, and fit_activations stays MatrixNMF's

    def _train(self, model, data, *, activations_only, **options):
        if activations_only:
            return super()._train(model, data, activations_only=True, **options)
        state, result = self._fit_batches(model, data)
        self._pending_state = state
        return result

    def _set_fitted(self, model, result, data, X, template_ranges=None):
        super()._set_fitted(model, result, data, X, template_ranges=template_ranges)
        state = self.__dict__.pop("_pending_state", None)
        if state is not None:  # after fit's passes
            self.loss_curve_ = [c * data.scale**self._beta for c in state.costs]
            self.n_steps_ = len(state.costs)
            self._state = state
            self._scale = float(data.scale)

    def _fit_batches(self, model, data):
        beta = self._beta
        n_frames = data.uniques[0].numel()
        size = min(self.batch_size, n_frames)
        rho = self.forget_factor ** (size / n_frames)
        H_all = model.factors[0].values.data
        state = MiniBatchState([f.values.data for f in model.factors[1:]])
        order, bounds = frame_order(data)
        spans = frame_batches(n_frames, size)
        batches = [batch_data(data, s, e, order, bounds) for s, e in spans]
        if data.grid is not None:  # one work array shared by the batches
            work = torch.empty(size, data.grid.shape[1], dtype=data.grid.dtype, device=data.grid.device)
            for b in batches:
                b.work = work[: b.grid.shape[0]]
        penalties = [self._penalties(b) for b in batches]
        result = FitResult()
        n_steps = self.max_iter * len(spans)
        bar = _bar(self.verbose, n_steps, type(self).__name__)
        unit = data.scale**beta
        step = 0
        try:
            for step in range(n_steps):
                i = step % len(spans)
                (s, e), b = spans[i], batches[i]
                H = H_all[s:e]
                if self.fresh_restarts:
                    H.copy_(frame_start(b, state.templates, H.shape[1]))
                # a silent batch moves nothing: no evidence of convergence
                silent = float(b.m.sum()) == 0.0
                previous = [G.clone() for G in state.templates] if self.tol > 0 and not silent else None
                cost = minibatch_step(
                    state, H, b, beta, rho, n_activation_iter=self.n_activation_iter,
                    fresh=self.fresh_restarts, fresh_max_iter=self.fresh_restarts_max_iter,
                    tol=self.tol, penalties=penalties[i],
                )
                if not np.isfinite(cost):
                    result.nonfinite = True
                    break
                stop = state.converged(
                    cost, (e - s) / (n_frames + 1), previous=previous, tol=self.tol,
                    max_no_improvement=self.max_no_improvement,
                )
                if bar is not None:
                    bar.update(1)
                    if state.ewa_cost is not None:
                        bar.set_postfix(cost=f"{unit * state.ewa_cost:.4g}")
                if stop:
                    result.converged = True
                    break
        finally:
            if bar is not None:
                bar.close()
        result.n_iter = int(np.ceil((step + 1) / len(spans)))
        if self.fresh_restarts:  # every frame's activations for the final templates
            for (s, e), b, pen in zip(spans, batches, penalties):
                H = H_all[s:e]
                H.copy_(frame_start(b, state.templates, H.shape[1]))
                minibatch_step(
                    state, H, b, beta, rho, fresh=True,
                    fresh_max_iter=self.fresh_restarts_max_iter, tol=self.tol,
                    penalties=pen, update_templates=False,
                )
        total = sum(float(b.loss([H_all[s:e], *state.templates], beta)) * b.n_points
                    for (s, e), b in zip(spans, batches))
        result.losses = [total / data.n_points]
        return state, result

    # -- partial_fit: one batch at a time --------------------------------------

    def partial_fit(self, X, y=None, factors=None):
        """One mini-batch step on the frames of X.

        The first call initialises the templates on X (as ``fit`` would);
        each call solves X's activations with the current templates (at most
        ``fresh_restarts_max_iter`` updates, stopping on ``tol``), then
        updates the templates, the past weighted by ``forget_factor``.
        X's template coordinates (e.g. frequencies) must be among the first
        batch's.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            The batch: points of some frames.
        y : None
            Ignored.
        factors : list of d array-likes, default=None
            With ``init="custom"``, the initial factors (first call only).

        Returns
        -------
        self : MiniBatchMatrixNMF
        """
        first = not hasattr(self, "_state")
        if first:
            self._validate_params()
        X = self._validate_points(X, reset=first)
        device = resolve_device(self.device)
        if first:
            data = self._prepare(X, device)
            generator, rng = self._generators()
            model = self._init_model(data, generator, rng, factors)
            templates = [f for f in model.factors[1:]]
            state = MiniBatchState([f.values.data for f in templates])
            self._scale = float(data.scale)
            data.rows = []
            steps_before = 0
        else:
            state, templates = self._state, list(self.model_.factors[1:])
            data = self._prepare_batch(X, device, templates)
            steps_before = self.n_steps_
        n_frames = data.uniques[0].numel()
        rho = self.forget_factor ** (min(self.batch_size, n_frames) / n_frames)
        state.costs = []
        with limit_threads(data.n_points * self.n_components), torch.no_grad():
            _to(state, templates, device)
            H = frame_start(data, _rows(state.templates, data.rows), self.n_components)
            H = H.to(self._torch_dtype)
            cost = _step_on_rows(
                state, H, data, self._beta, rho, fresh_max_iter=self.fresh_restarts_max_iter,
                tol=self.tol, penalties=self._penalties(data),
            )
            loss = float(data.loss([H, *_rows(state.templates, data.rows)], self._beta))
            _to(state, templates, torch.device("cpu"))
        state.costs = [cost]
        time = TableFactor(data.uniques[0].cpu(), H.cpu(), self.interpolation)
        model = SeparableModel([time, *templates], scale=self._scale)
        result = FitResult(n_iter=1, losses=[loss], converged=True)
        ranges = None if first else self.coordinate_ranges_[1:]
        self._set_fitted(model, result, data, X, template_ranges=ranges)
        self.loss_curve_ = [cost * data.scale**self._beta]
        self.n_steps_ = steps_before + 1
        self.n_iter_ = 1
        self._state = state
        return self

    def _prepare_batch(self, X, device, templates):
        """X's points laid out with the model's scale, and for each template
        axis the rows of the model's table that X's coordinates are (None
        when they are all of them, in order)."""
        coords, m = X[:, :-1], X[:, -1]
        self._check_beta_data(m)
        data = prepare_points(coords, m, scale=self._scale, device=device, dtype=self._torch_dtype)
        rows = []
        for a, t in enumerate(templates, start=1):
            knots, u = t.knots.to(device), data.uniques[a]
            if u.numel() == knots.numel() and bool(torch.equal(u, knots)):
                rows.append(None)
                continue
            i = torch.searchsorted(knots, u).clamp(0, knots.numel() - 1)
            unseen = knots[i] != u
            if bool(unseen.any()):
                raise ValueError(
                    f"X has {int(unseen.sum())} value(s) of coordinate column {a} that the "
                    f"first batch did not have (first: {u[unseen][0].item()!r}); every "
                    "batch of partial_fit must use template coordinates of the first "
                    "(e.g. the same STFT frequencies)."
                )
            rows.append(i)
        data.rows = rows if any(r is not None for r in rows) else []
        return data


def _rows(templates, rows):
    if not rows:
        return list(templates)
    return [G if r is None else G[r] for G, r in zip(templates, rows)]


def _step_on_rows(state, H, data, beta, rho, *, fresh_max_iter, tol, penalties):
    """A fresh-activation step on a batch that uses some rows of the
    templates: the step on the gathered rows, scattered back."""
    rows = getattr(data, "rows", [])
    if not rows:
        return minibatch_step(
            state, H, data, beta, rho, fresh=True, fresh_max_iter=fresh_max_iter, tol=tol,
            penalties=penalties,
        )
    # gathered copies (advanced indexing copies; a None row set is cloned)
    sub = MiniBatchState(
        *([t.clone() if r is None else t[r] for t, r in zip(ts, rows)]
          for ts in (state.templates, state.numerators, state.denominators))
    )
    full = [t for t in state.templates]
    # the accumulators of rows outside the batch still forget
    for A, B in zip(state.numerators, state.denominators):
        A.mul_(rho)
        B.mul_(rho)
    cost = minibatch_step(
        sub, H, data, beta, rho, fresh=True, fresh_max_iter=fresh_max_iter, tol=tol,
        penalties=penalties,
    )
    for a, r in enumerate(rows):
        if r is None:
            full[a].copy_(sub.templates[a])
            state.numerators[a].copy_(sub.numerators[a])
            state.denominators[a].copy_(sub.denominators[a])
        else:
            full[a][r] = sub.templates[a]
            state.numerators[a][r] = sub.numerators[a]
            state.denominators[a][r] = sub.denominators[a]
    state.n_steps += 1
    return cost


def _to(state, templates, device):
    for t in templates:
        t.to(device)
    state.templates = [t.values.data for t in templates]
    state.numerators = [A.to(device) for A in state.numerators]
    state.denominators = [B.to(device) for B in state.denominators]


def _bar(verbose, total, desc):
    if not verbose:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=verbose > 1)
