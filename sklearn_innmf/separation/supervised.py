"""Supervised source separation with learned templates.

:class:`SupervisedSeparator` learns one factorisation per source from labelled
training points, then explains a mixture with every source's templates frozen
(:mod:`~sklearn_innmf.separation.mixture`) and splits it with Wiener masks
(paper Alg. 2 of Subramani et al., after Smaragdis & Venkataramani 2017).
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..divergences import beta_divergence, beta_loss_to_float
from ..models.implicit import _NETWORK_CONSTRAINTS
from ..models.matrix import MatrixNMF
from ..models.nmf import BaseNMF
from ..points import check_points
from .mixture import MixtureActivations


class SupervisedSeparator(MixtureActivations):
    """Supervised separation: one factorisation per source, Wiener masks on a mixture.

    ``fit(X, y)`` fits one clone of ``estimator`` per source label in ``y``
    on that source's points. ``transform(X_mix)`` explains a mixture with
    the templates of every source frozen (all axes but axis 0, sampled at
    the mixture's coordinates with ``estimator.factor``: ``MatrixNMF``
    interpolates its tables, ``ImplicitNMF`` evaluates its networks, so the
    mixture may be at another resolution than the training data), learns
    the activations of all sources' components jointly, and returns each
    source's Wiener-masked magnitude ``m * V_s / sum_r V_r`` where ``V_s``
    is source s's part of the model. The sources sum to ``m``.

    Parameters
    ----------
    estimator : estimator object, default=None
        The model of each source, cloned once per source. None means
        ``MatrixNMF()``. Either a factorisation with ``fit(X)`` and
        ``factor(axis, values)`` (``MatrixNMF``, ``ImplicitNMF``): its
        templates are sampled at the mixture's coordinates, frozen, and the
        activations of all sources learned jointly by the estimators' own
        activation fitting (multiplicative updates); or a
        :class:`~sklearn_innmf.models.autoencoder.NonNegativeAutoencoder`: every
        source's decoder is frozen, their outputs summed to explain the
        mixture, and only the latents learned, by projected Rprop
        (``max_iter`` steps per frame, ``learning_rate``; Smaragdis &
        Venkataramani 2017, eq. 8), from each decoder's encoding of a flat
        spectrum at the frame's mean.
    activations : {"frames", "implicit"}, default="frames"
        How the mixture's activations are modelled. "frames": a free value
        per component and unique time (frame), found by ``max_iter``
        multiplicative updates of each frame on its own, so the result for a
        frame depends on that frame's points only (``transform`` is
        invariant to the other frames and to row order). "implicit": a
        smooth implicit neural function of time for all points, learned by
        Rprop, for signals without frames (every point at its own time); the
        result then depends on all points.
    sparsity : float, default=0.0
        Sparsity of the mixture's activations (Smaragdis & Venkataramani
        2017, eq. 5, in a form frozen templates cannot absorb):
        ``sparsity * n_t * sum_k log(1 + H_k(t) / 0.01)`` for each frame t
        of ``n_t`` points is added to the divergence summed over points,
        with every template scaled to mean 1 over its training range and each
        frame's magnitudes to mean 1 ("frames"; the mixture's mean with
        "implicit"), so that ``sum_k H_k(t)`` is about 1 and the penalty does
        not depend on the resolution. Larger values explain each frame with
        fewer components: on two-speaker speech 0.001-0.003 raised the Hoyer
        sparsity of the activations from 0.58 to 0.63-0.70 at +0.05 dB SDR,
        0.03 to 0.84 at -1 dB (``benchmarks/penalties.md``). See
        :class:`~sklearn_innmf.problem.LogPenalty` for why eq. 5's L1 norm
        would only shrink all activations of a frame alike under the KL
        divergence.
    cross_source_penalty : float, default=0.0
        Penalty on two sources being active in the same frame (ibid., eq. 9):
        ``cross_source_penalty * n_t * sum_{s < r} S_s(t) S_r(t)`` in each
        frame t, with ``S_s(t)`` the summed activations of source s, in the
        units of ``sparsity``.
    n_free_components : int, default=0
        Semi-supervised separation: this many extra components whose
        templates *and* activations are learned on the mixture, for what no
        source's training data explains (noise, an instrument without
        training data). ``transform`` returns them as one more output
        column, ``source_unknown``, and ``fit`` may then be given a single
        source. The free templates are shared by all frames, so the mixture
        is solved in one piece (not frame by frame): a frame's result then
        depends on the other frames.
    max_iter : int, default=200
        "frames": the number of multiplicative updates of every frame (a
        fixed number, so no frame's result depends on a global stopping
        rule). "implicit": the maximum number of Rprop steps.
    tol : float, default=1e-4
        "implicit" only: stop when the loss decreased by less than ``tol``
        (relative) over the last 10 steps.
    encoding_size : int, default=10
        "implicit" only: Fourier-feature octaves of the activation network.
    hidden_size : int, default=64
        "implicit" only: width of the activation network.
    n_layers : int, default=4
        "implicit" only: hidden layers of the activation network.
    architecture : {"shared", "separate"}, default="shared"
        "implicit" only: one network with an output per component (about K
        times cheaper, K being the total number of components), or one
        network per component as in the paper.
    learning_rate : float or "auto", default="auto"
        Initial Rprop step: of the activation network ("implicit"; "auto":
        3e-3), or of the latents of autoencoder sources ("auto": 1e-2; on a
        two-speaker mixture 8.7 / 9.0 dB SDR against 8.3 / 8.6 dB at 3e-3).
    random_state : int, RandomState instance or None, default=None
        If not None, seeds the clones of ``estimator`` (one derived seed per
        source, replacing their ``random_state``) and the activation network.
        None keeps the estimator's own ``random_state``.
    device : str, default="auto"
        Torch device of the activation fit on the mixture.
    verbose : int, default=0
        1 shows a progress bar per activation fit.

    Attributes
    ----------
    classes_ : ndarray of shape (n_sources,)
        The source labels, sorted; column ``d + s`` of ``transform`` is
        source ``classes_[s]`` (then ``source_unknown`` with
        ``n_free_components``).
    template_norms_ : list of ndarray of shape (n_known_components,)
        Per template axis, the mean of each source component over its
        training range; templates are divided by it in ``transform``.
    estimators_ : list of estimator objects
        The fitted clone of ``estimator`` for each class.
    n_components_per_source_ : list of int
        Number of components of each source's model.
    n_iter_ : int
        The largest ``n_iter_`` of the sources' fits (each frame's
        activations in ``transform`` take ``max_iter`` updates).
    n_features_in_ : int
        Number of columns of X (d + 1).
    feature_names_in_ : ndarray of str
        Column names of X, when it was a DataFrame.

    See Also
    --------
    separate_waveforms : waveforms in, separated waveforms out.

    Notes
    -----
    Where the model of every source is 0 at a point (templates that are 0
    there), the mixture's magnitude is split evenly between the sources;
    masks are never NaN. With a single coordinate column (d = 1) there are
    no templates to tell the sources apart and each point is split in
    proportion to the number of components of each source.

    The mixture's magnitudes are normalised per frame before the activation
    fit ("frames"), so the masks of a frame depend on neither the other
    frames nor the unit of ``m``.

    References
    ----------
    .. [1] K. Subramani, P. Smaragdis, T. Higuchi and M. Souden, "Rethinking
       non-negative matrix factorization with implicit neural
       representations", arXiv:2404.04439, 2024.
       :doi:`10.48550/arXiv.2404.04439`
    .. [2] P. Smaragdis and S. Venkataramani, "A neural network alternative
       to non-negative audio models", ICASSP 2017.
       :doi:`10.1109/ICASSP.2017.7952121`

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf import MatrixNMF
    >>> from sklearn_innmf.separation import SupervisedSeparator
    >>> rng = np.random.default_rng(0)
    >>> f = np.arange(32) * 100.0
    >>> wa, wb = np.exp(-((f - 800) / 300) ** 2), np.exp(-((f - 2400) / 300) ** 2)
    >>> def points(w, h, t0=0.0):
    ...     t = t0 + np.arange(h.size) * 0.01
    ...     T, F = np.meshgrid(t, f, indexing="ij")
    ...     return np.column_stack([T.ravel(), F.ravel(), np.outer(h, w).ravel()])
    >>> Xa, Xb = points(wa, rng.random(20) + 0.1), points(wb, rng.random(20) + 0.1, 1.0)
    >>> X, y = np.vstack([Xa, Xb]), np.repeat(["a", "b"], len(Xa))
    >>> sep = SupervisedSeparator(MatrixNMF(1, random_state=0)).fit(X, y)
    >>> mix = points(wa, np.ones(5)) + points(wb, 2 * np.ones(5)) * [0, 0, 1]
    >>> Z = sep.transform(mix)                  # t, f, source a, source b
    >>> bool(np.allclose(Z[:, 2] + Z[:, 3], mix[:, 2]))
    True
    >>> bool(np.allclose(Z[:, 3], points(wb, 2 * np.ones(5))[:, 2], atol=1e-3))
    True
    """

    _output_kind = "sources"

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "factor"]), HasMethods(["fit", "_frame_decoder"]), None],
        "activations": [StrOptions({"frames", "implicit"})],
        **{
            name: BaseNMF._parameter_constraints[name]
            for name in ("max_iter", "tol", "random_state", "device", "verbose")
        },
        **_NETWORK_CONSTRAINTS,
        "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "sparsity": [Interval(Real, 0, None, closed="left")],
        "cross_source_penalty": [Interval(Real, 0, None, closed="left")],
        "n_free_components": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        estimator=None,
        *,
        activations="frames",
        sparsity=0.0,
        cross_source_penalty=0.0,
        n_free_components=0,
        max_iter=200,
        tol=1e-4,
        encoding_size=10,
        hidden_size=64,
        n_layers=4,
        architecture="shared",
        learning_rate="auto",
        random_state=None,
        device="auto",
        verbose=0,
    ):
        self.estimator = estimator
        self.activations = activations
        self.sparsity = sparsity
        self.cross_source_penalty = cross_source_penalty
        self.n_free_components = n_free_components
        self.max_iter = max_iter
        self.tol = tol
        self.encoding_size = encoding_size
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.architecture = architecture
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    # -- fitting -----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit one clone of ``estimator`` per source.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            Training points of all sources: coordinates (column 0 time),
            then magnitude. Points of different sources should not share a
            time (frame) if the estimator has a free activation per time;
            they are fitted separately either way.
        y : array-like of shape (n_points,)
            The source label of each point (integers or strings).

        Returns
        -------
        self : SupervisedSeparator
            The fitted separator.
        """
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            ensure_min_samples=2,
            ensure_min_features=2,
        )
        check_points(X)
        kind = type_of_target(y, input_name="y")
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"Unknown label type {kind!r}: y must hold one source label per point "
                "(integers or strings), e.g. y = np.repeat([0, 1], [n_a, n_b])."
            )
        classes, y_index = np.unique(y, return_inverse=True)
        base = MatrixNMF() if self.estimator is None else self.estimator
        seeds = [None] * len(classes)
        if self.random_state is not None:
            rng = check_random_state(self.random_state)
            seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=len(classes))]
        estimators = []
        for i, label in enumerate(classes.tolist()):
            est = clone(base)
            if seeds[i] is not None and "random_state" in est.get_params(deep=False):
                est.set_params(random_state=seeds[i])
            points = X[y_index == i]
            try:
                est.fit(points)
            except ValueError as exc:
                raise ValueError(
                    f"Fitting the model of source y={label!r} on its {len(points)} "
                    f"point(s) failed: {exc}"
                ) from exc
            estimators.append(est)
        if self.n_free_components and "unknown" in [str(c) for c in classes]:
            raise ValueError(
                "y has a source labelled 'unknown', the name of the free components' "
                "output with n_free_components > 0; rename that source."
            )
        decoding = [not hasattr(e, "factor") and hasattr(e, "_frame_decoder") for e in estimators]
        if any(decoding) and self.activations != "frames":
            raise ValueError(
                f"activations={self.activations!r} needs templates (estimator.factor); "
                f"{type(estimators[0]).__name__} separates with activations='frames'."
            )
        if any(decoding) and self.n_free_components:
            raise ValueError(
                "n_free_components needs table templates (MatrixNMF or ImplicitNMF "
                f"sources); {type(estimators[0]).__name__} has decoders."
            )
        self.classes_ = classes
        self.estimators_ = estimators
        self.template_norms_ = (
            None if any(decoding) else self._template_norms(estimators, X.shape[1] - 1)
        )
        self.n_components_per_source_ = [int(_n_components(e)) for e in estimators]
        self.n_iter_ = max(int(getattr(e, "n_iter_", 1)) for e in estimators)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, "estimators_")

    @property
    def _decoding(self):
        """Whether the sources are frame decoders (non-negative autoencoders)
        rather than templates."""
        return self.template_norms_ is None

    # -- separation --------------------------------------------------------

    @property
    def _beta(self):
        est = self.estimators_[0]
        return beta_loss_to_float(est.get_params(deep=False).get("beta_loss", "kullback-leibler"))

    def _validate(self, X):
        check_is_fitted(self)
        return self._validate_points(X, reset=False)

    def _output_names(self):
        names = [f"source_{c}" for c in self.classes_]
        return names + (["source_unknown"] if self.n_free_components else [])

    def _masks(self, X):
        """Wiener masks (n_points, n_sources), and the models they come from."""
        V = self._source_models(X)
        total = V.sum(axis=1, keepdims=True)
        n_sources = V.shape[1]
        masks = np.divide(V, total, out=np.full_like(V, 1.0 / n_sources), where=total > 0)
        return masks, V

    def masks(self, X):
        """The Wiener mask of each source at the mixture's points.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            The mixture's points.

        Returns
        -------
        masks : ndarray of shape (n_points, n_sources)
            ``V_s / sum_r V_r`` for each source s (model parts ``V_s``), in
            [0, 1], summing to 1 at every point; ``1 / n_sources`` where the
            model is 0. Multiply a complex STFT by them to separate it
            (:meth:`STFTSynthesizer.istft_from_mask`).
        """
        X = self._validate(X)
        return self._masks(X)[0].astype(X.dtype, copy=False)

    def transform(self, X):
        """Separate a mixture: each source's Wiener-masked magnitude.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            The mixture's points, at any coordinates.

        Returns
        -------
        Z : ndarray of shape (n_points, d + n_sources)
            The coordinates, then the magnitude of each source (in the order
            of ``classes_``); the sources sum to the mixture's ``m``.
        """
        X = self._validate(X)
        masks, _ = self._masks(X)
        sources = np.asarray(X[:, -1:], dtype=np.float64) * masks
        return np.hstack([X[:, :-1], sources.astype(X.dtype, copy=False)])

    def score(self, X, y=None):
        """Minus a mean beta-divergence: of the mixture's model, or of the sources.

        Parameters
        ----------
        X : array-like of shape (n_points, d + 1)
            The mixture's points.
        y : array-like of shape (n_points, n_sources) or (n_points,), default=None
            None: score the model of the mixture (the sum of the sources'
            models before masking) against ``m``. 2-D: the true magnitude of
            each source (columns in the order of ``classes_``); the score is
            minus the mean over sources and points of the divergence between
            the true and the separated magnitudes. 1-D: a source label per
            point, read as in :meth:`fit` (the whole ``m`` of a point belongs
            to its source, 0 to the others).

        Returns
        -------
        score : float
            Higher is better.
        """
        X = self._validate(X)
        m = np.asarray(X[:, -1], dtype=np.float64)
        masks, V = self._masks(X)
        if y is None:
            return -_mean_divergence(m, V.sum(axis=1), self._beta)
        truth = self._check_truth(y, m)
        return -_mean_divergence(truth, m[:, None] * masks, self._beta)

    def _check_truth(self, y, m):
        n_sources = len(self.classes_)
        y_arr = np.asarray(y)
        if y_arr.ndim == 1:
            if y_arr.shape[0] != m.shape[0]:
                raise ValueError(
                    f"y has {y_arr.shape[0]} labels, but X has {m.shape[0]} points."
                )
            lookup = {c: i for i, c in enumerate(self.classes_.tolist())}
            pos = np.array([lookup.get(v, -1) for v in y_arr.tolist()], dtype=np.intp)
            if np.any(pos < 0):
                raise ValueError(
                    f"y has label(s) not seen in fit, e.g. {y_arr[pos < 0][0]!r}; "
                    f"known: {self.classes_.tolist()}."
                )
            truth = np.zeros((m.size, n_sources))
            truth[np.arange(m.size), pos] = m
            return truth
        truth = check_array(y, dtype=np.float64, input_name="y")
        if truth.shape != (m.shape[0], n_sources):
            raise ValueError(
                f"y has shape={truth.shape}, but the true source magnitudes of X "
                f"need shape ({m.shape[0]}, {n_sources}): one column per source "
                "in the order of classes_."
            )
        if truth.min() < 0:
            raise ValueError("y has negative values; source magnitudes are >= 0.")
        return truth


def _n_components(estimator):
    for name in ("n_components_", "n_components"):
        if hasattr(estimator, name):
            return getattr(estimator, name)
    return np.asarray(estimator.factor(0, [0.0])).shape[1]


def _mean_divergence(x, y, beta):
    return float(
        beta_divergence(
            torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float64),
            torch.as_tensor(np.ascontiguousarray(y), dtype=torch.float64),
            beta,
        )
    )
