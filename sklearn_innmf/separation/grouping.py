"""Separation without training data: grouping a mixture's components into sources.

:class:`ComponentGroupSeparator` factorises the mixture itself (``MatrixNMF``
or ``ImplicitNMF``), sorts its K components into ``n_sources`` groups, one per
source, and gives each group its Wiener-masked share of the mixture. The
grouping is given by hand, or found by a scikit-learn clusterer over features
of each component's template and activation (how harmonic, flat and high its
template is, how sparse and sharp its activation is).
:func:`separate_by_grouping` goes from a waveform to separated waveforms
through STFT points.
"""

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from ..models.matrix import MatrixNMF
from ..representations.resynthesis import STFTSynthesizer
from .features import (
    _DEFAULT_FEATURES,
    _standardise,
    component_features,
)
from .grouping_checks import GroupingChecks


class ComponentGroupSeparator(GroupingChecks):
    """Blind separation: factorise a mixture, group its components into sources.

    ``fit(X)`` fits a clone of ``estimator`` to the mixture's points, then
    assigns each of its K components to one of ``n_sources`` groups: the
    ``groups`` given, or clusters found by ``clusterer`` over
    :func:`component_features`. ``transform(X)`` evaluates the fitted
    components at X's coordinates (``estimator_.transform``), sums them per
    group (``V_s``) and returns each group's Wiener-masked magnitude
    ``m * V_s / sum_r V_r``: the sources sum to ``m``.

    What ``fit`` and ``transform`` mean for a separator without training
    data: ``fit`` *is* the analysis of one mixture (its templates and its
    activations over time). ``transform(X)`` then separates X's points with
    that model: the mixture's own points (``fit_transform``), or other
    points of the same signal (a subset, another order, other frequencies
    or times within the fitted ranges, where the factors are interpolated or,
    for ``ImplicitNMF``, evaluated). It does not re-analyse: to separate
    another recording, ``fit`` on it.

    Parameters
    ----------
    estimator : estimator object, default=None
        A factorisation with ``fit``, ``transform`` and ``factor(axis,
        values)`` and an ``n_components_`` attribute once fitted. None
        means ``MatrixNMF()`` (K = 10).
    n_sources : int, default=2
        The number of sources (groups). With ``groups`` it must equal
        ``len(groups)``.
    groups : list of lists of int, default=None
        A manual assignment: ``groups[s]`` lists the components of source s.
        Every component ``0 .. K-1`` must appear in exactly one group. None
        groups the components automatically.
    clusterer : estimator object, default=None
        A scikit-learn clusterer with ``fit_predict``, cloned and fitted on
        the standardised features (one row per component). Its
        ``n_clusters`` (or ``n_components``, for mixtures) is set to
        ``n_sources``, and its ``random_state``, if it has one, is derived
        from ``random_state`` when that is not None. None means
        ``KMeans(n_clusters=n_sources, n_init=10)`` with a ``random_state``
        derived from ``random_state``: the grouping is deterministic for a
        given ``random_state``.
    features : tuple of str, default=("tonality", "onset")
        The component features to cluster on, from :data:`FEATURES`; see
        :func:`component_features`. Each feature column is replaced by the
        ranks of its values over the components, then z-scored, so that one
        extreme component (a hi-hat's very sharp onsets) does not decide the
        clusters alone; a feature of several numbers ("log_spectrum") weighs
        as much as one number in all. The default (and the rank scaling and
        KMeans) were chosen on synthesised drums + piano-like notes, where
        it groups within 1 dB of the best grouping (``benchmarks/grouping.md``,
        on other seeds than the tuning ones). It fails on two harmonic
        sources: for a piano and a voice, ``("centroid", "sparsity")`` is
        within 2 dB of the best grouping instead. Choose them for the
        material. With one coordinate column (d = 1) the template features
        are left out.
    n_bands : int, default=16
        Number of log-spaced bands of the "log_spectrum" feature (8 octaves
        below the highest frequency).
    random_state : int, RandomState instance or None, default=None
        If not None, seeds the clone of ``estimator`` (replacing its
        ``random_state``) and the clusterer. None keeps the estimator's own
        ``random_state``.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    n_components_ : int
        Number of components K of ``estimator_``.
    components_to_sources_ : ndarray of shape (n_components,)
        The source (group) of each component.
    groups_ : list of lists of int
        The components of each source, in increasing order; source s is
        column ``d + s`` of :meth:`transform`.
    features_ : ndarray of shape (n_components, n_feature_columns)
        The features of each component, before standardisation (empty when
        ``groups`` was given).
    feature_names_ : list of str
        Names of the columns of ``features_``.
    n_features_in_ : int
        Number of columns of X (d + 1).
    feature_names_in_ : ndarray of str
        Column names of X, when it was a DataFrame.

    See Also
    --------
    sklearn_innmf.separation.SupervisedSeparator : separation with training
        data for every source.
    separate_by_grouping : waveform in, separated waveforms out.
    sklearn_innmf.plotting.plot_component_groups : the templates and
        activations coloured by group.

    Notes
    -----
    Automatic groups are numbered by decreasing share of the mixture's model
    (source 0 is the group whose components explain most of the fitted
    points' magnitude). The clusterer cannot know which group is which
    instrument: compare the outputs with references, or listen. A clusterer
    that leaves a group empty gets it filled with the highest-numbered
    component of the largest group, so that every source has a component.

    Where the model is 0 at a point, its magnitude is split evenly between
    the sources; masks are never NaN.

    References
    ----------
    .. [1] P. Smaragdis, "Non-negative matrix factor deconvolution;
       extraction of multiple sound sources from monophonic inputs", ICA
       2004. :doi:`10.1007/978-3-540-30110-3_63`
    .. [2] T. Virtanen, "Monaural sound source separation by nonnegative
       matrix factorization with temporal continuity and sparseness
       criteria", IEEE TASLP 15(3), 2007. :doi:`10.1109/TASL.2006.885253`

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf import MatrixNMF, grid_to_points
    >>> from sklearn_innmf.separation import ComponentGroupSeparator
    >>> f, t = np.arange(32) * 100.0, np.arange(40) * 0.01
    >>> W = np.stack([np.exp(-((f - c) / 200) ** 2) for c in (500, 900, 2500)], 1)
    >>> H = np.random.default_rng(0).random((40, 3)) + 0.1
    >>> X = grid_to_points(W @ H.T, times=t, freqs=f)
    >>> sep = ComponentGroupSeparator(MatrixNMF(3, max_iter=500), groups=[[0, 1], [2]],
    ...                               random_state=0).fit(X)
    >>> sep.components_to_sources_.tolist()
    [0, 0, 1]
    >>> Z = sep.transform(X)                     # t, f, source 0, source 1
    >>> bool(np.allclose(Z[:, 2] + Z[:, 3], X[:, 2]))
    True
    >>> sep.get_feature_names_out().tolist()
    ['x0', 'x1', 'source_0', 'source_1']
    """

    _output_kind = "sources"

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "transform", "factor"]), None],
        "n_sources": [Interval(Integral, 1, None, closed="left")],
        "groups": [list, tuple, None],
        "clusterer": [HasMethods(["fit_predict"]), None],
        "features": [list, tuple],
        "n_bands": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_sources=2,
        groups=None,
        clusterer=None,
        features=_DEFAULT_FEATURES,
        n_bands=16,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_sources = n_sources
        self.groups = groups
        self.clusterer = clusterer
        self.features = features
        self.n_bands = n_bands
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Factorise the mixture and group its components.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            The mixture's points: coordinates (column 0 time, then
            frequency, ...), then magnitude.
        y : None
            Ignored.

        Returns
        -------
        self : ComponentGroupSeparator
            The fitted separator.
        """
        X = self._validate_points(X, reset=True)
        d = X.shape[1] - 1
        groups = None
        names = None
        if self.groups is None:
            names = self._check_features(d)
        else:
            groups = self._check_groups_structure()
        base = MatrixNMF() if self.estimator is None else self.estimator
        K_param = base.get_params(deep=False).get("n_components")
        if isinstance(K_param, Integral) and not isinstance(K_param, bool):
            self._check_n_components(int(K_param))
            if groups is not None:
                self._check_groups_cover(groups, int(K_param))

        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=2)
        est = clone(base)
        if self.random_state is not None and "random_state" in est.get_params(deep=False):
            est.set_params(random_state=int(seeds[0]))
        try:
            est.fit(X)
        except ValueError as exc:
            raise ValueError(f"Fitting the estimator to the mixture failed: {exc}") from exc
        K = int(est.n_components_)
        self._check_n_components(K)

        if groups is None:
            F, columns = component_features(est, X, features=names, n_bands=self.n_bands)
            labels = self._cluster(F, columns, int(seeds[1]))
            groups = _groups_from_labels(labels, self.n_sources)
            share = np.asarray(est.transform(X))[:, d:].astype(np.float64).sum(axis=0)
            # by decreasing share of the model, ties by first component
            groups.sort(key=lambda g: (-share[g].sum(), g[0]))
            self.features_ = F
            self.feature_names_ = columns
        else:
            self._check_groups_cover(groups, K)
            self.features_ = np.empty((K, 0))
            self.feature_names_ = []
        self.estimator_ = est
        self.n_components_ = K
        self.groups_ = [sorted(g) for g in groups]
        assignment = np.empty(K, dtype=np.intp)
        for s, g in enumerate(self.groups_):
            assignment[g] = s
        self.components_to_sources_ = assignment
        return self

    def _check_n_components(self, K):
        if K < self.n_sources:
            raise ValueError(
                f"The estimator has n_components={K}, fewer than n_sources="
                f"{self.n_sources}: every source needs a component."
            )

    def _cluster(self, F, columns, seed):
        Z = _standardise(F, columns)
        if self.clusterer is None:
            seed = seed if self.random_state is not None else None
            clusterer = KMeans(n_clusters=self.n_sources, n_init=10, random_state=seed)
        else:
            clusterer = clone(self.clusterer)
            params = clusterer.get_params(deep=False)
            for name in ("n_clusters", "n_components"):
                if name in params:
                    clusterer.set_params(**{name: self.n_sources})
                    break
            if self.random_state is not None and "random_state" in params:
                clusterer.set_params(random_state=seed)
        labels = np.asarray(clusterer.fit_predict(Z)).ravel()
        if labels.shape != (F.shape[0],):
            raise ValueError(
                f"clusterer={self.clusterer!r} returned {labels.shape[0]} labels for "
                f"{F.shape[0]} components."
            )
        return labels

    def __sklearn_is_fitted__(self):
        return hasattr(self, "estimator_")

    # -- separation --------------------------------------------------------

    def _output_names(self):
        return [f"source_{s}" for s in range(len(self.groups_))]

    def _masks(self, X):
        d = X.shape[1] - 1
        # np.asarray: a global set_output(transform="pandas") reaches estimator_
        V = np.asarray(self.estimator_.transform(X))[:, d:].astype(np.float64, copy=False)
        S = len(self.groups_)
        onehot = np.zeros((self.n_components_, S))
        onehot[np.arange(self.n_components_), self.components_to_sources_] = 1.0
        parts = V @ onehot
        total = parts.sum(axis=1, keepdims=True)
        return np.divide(parts, total, out=np.full_like(parts, 1.0 / S), where=total > 0)

    def masks(self, X):
        """The Wiener mask of each source at X's points.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            Points of the fitted mixture.

        Returns
        -------
        masks : ndarray of shape (n_points, n_sources)
            ``V_s / sum_r V_r`` in [0, 1], summing to 1 at every point
            (``1 / n_sources`` where the model is 0). Multiply a complex STFT
            by them to separate it
            (:meth:`~sklearn_innmf.representations.STFTSynthesizer.istft_from_mask`).
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        return self._masks(X).astype(X.dtype, copy=False)

    def transform(self, X):
        """Each group's Wiener-masked share of the magnitude at X's points.

        A pure function of each row: the fitted components at the row's
        coordinates and its magnitude.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            Points of the fitted mixture (any subset, order or resolution).

        Returns
        -------
        Z : ndarray of shape (n_points, d + n_sources)
            The coordinates, then the magnitude of each source (``groups_``
            order); the sources sum to ``m``.
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        masks = self._masks(X)
        sources = np.asarray(X[:, -1:], dtype=np.float64) * masks
        return np.hstack([X[:, :-1], sources.astype(X.dtype, copy=False)])


def _groups_from_labels(labels, n_sources):
    """Cluster labels -> n_sources non-empty lists of component indices."""
    values, index = np.unique(labels, return_inverse=True)
    if values.size > n_sources:
        raise ValueError(
            f"The clusterer found {values.size} groups of components, more than "
            f"n_sources={n_sources}; use a clusterer that takes n_clusters."
        )
    groups = [np.flatnonzero(index == c).tolist() for c in range(values.size)]
    while len(groups) < n_sources:
        largest = max(range(len(groups)), key=lambda s: (len(groups[s]), -s))
        groups.append([groups[largest].pop()])
    return groups


# ---------------------------------------------------------------------------
# Waveform in, waveforms out


def separate_by_grouping(
    mixture,
    sr,
    *,
    estimator=None,
    n_sources=2,
    groups=None,
    clusterer=None,
    features=_DEFAULT_FEATURES,
    n_fft=1024,
    hop_length=None,
    power=1.0,
    random_state=None,
):
    """Separate a mixture waveform by grouping the components of its own NMF.

    The mixture's STFT magnitudes ``|X| ** power`` are fitted by a
    :class:`ComponentGroupSeparator`; its Wiener masks multiply the complex
    STFT before the inverse STFT.

    Parameters
    ----------
    mixture : ndarray of shape (n_samples,)
        Mono mixture.
    sr : float
        Sampling rate in Hz.
    estimator, n_sources, groups, clusterer, features, random_state
        Passed to :class:`ComponentGroupSeparator`.
    n_fft : int, default=1024
        FFT size.
    hop_length : int, default=None
        Hop; None means ``n_fft // 4``.
    power : float, default=1.0
        Magnitude exponent of the points.

    Returns
    -------
    estimates : ndarray of shape (n_sources, n_samples)
        One waveform per group (order of ``separator.groups_``); they sum
        to the mixture up to the STFT's round-trip error.
    separator : ComponentGroupSeparator
        The fitted separator (its groups, features and factorisation).

    Examples
    --------
    >>> from sklearn_innmf import MatrixNMF
    >>> from sklearn_innmf.datasets import drums_and_notes
    >>> from sklearn_innmf.separation import separate_by_grouping
    >>> mix, drums, notes, sr = drums_and_notes(sr=8000, random_state=0)
    >>> est, sep = separate_by_grouping(mix, sr, estimator=MatrixNMF(8, max_iter=1000,
    ...                                                                  random_state=0),
    ...                                 n_fft=512, random_state=0)
    >>> est.shape, len(sep.groups_)
    ((2, 16000), 2)
    """
    synth = STFTSynthesizer(mixture, sr=sr, n_fft=n_fft, hop_length=hop_length)
    X = synth.points(power=power)
    separator = ComponentGroupSeparator(
        estimator,
        n_sources=n_sources,
        groups=groups,
        clusterer=clusterer,
        features=features,
        random_state=random_state,
    ).fit(X)
    estimates = np.atleast_2d(synth.istft_from_mask(separator.masks(X)))
    return estimates, separator
