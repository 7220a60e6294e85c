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
from scipy.stats import rankdata
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from ._base import PointTransformer
from .matrix import MatrixNMF
from .representations import STFTSynthesizer

__all__ = ["ComponentGroupSeparator", "component_features", "separate_by_grouping", "FEATURES"]

#: The per-component features :class:`ComponentGroupSeparator` can cluster on.
#: "log_spectrum" is ``n_bands`` numbers, the others one each.
FEATURES = (
    "log_spectrum",
    "centroid",
    "flatness",
    "harmonicity",
    "tonality",
    "sparsity",
    "onset",
)
_TEMPLATE_FEATURES = {"log_spectrum", "centroid", "flatness", "harmonicity", "tonality"}
_DEFAULT_FEATURES = ("tonality", "onset")

# floor of templates and activations relative to their maximum, for logs
_FLOOR = 1e-6


class ComponentGroupSeparator(PointTransformer):
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
    >>> from sklearn_innmf.grouping import ComponentGroupSeparator
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

    # -- checks ------------------------------------------------------------

    def _check_features(self, d):
        names = list(self.features)
        unknown = [n for n in names if n not in FEATURES]
        if not names or unknown:
            raise ValueError(
                f"features={self.features!r} must be a non-empty list of names from "
                f"{list(FEATURES)}" + (f"; unknown: {unknown}." if unknown else ".")
            )
        if len(set(names)) != len(names):
            raise ValueError(f"features={self.features!r} names a feature twice.")
        if d < 2:
            names = [n for n in names if n not in _TEMPLATE_FEATURES]
            if not names:
                raise ValueError(
                    f"features={self.features!r} are all template features, but X has "
                    "one coordinate column (d=1), so the model has no templates; add "
                    "'sparsity' or 'onset'."
                )
        return names

    def _check_groups_structure(self):
        """The groups as lists of ints, before the number of components is known."""
        groups = self.groups
        if len(groups) != self.n_sources:
            raise ValueError(
                f"groups has {len(groups)} group(s) but n_sources={self.n_sources}; "
                f"set n_sources={len(groups)} or give one group per source."
            )
        out = []
        for s, group in enumerate(groups):
            if isinstance(group, (str, bytes)) or not hasattr(group, "__iter__"):
                raise ValueError(
                    f"groups[{s}]={group!r} is not a list of component indices; "
                    "give e.g. groups=[[0, 1, 2], [3, 4]]."
                )
            group = list(group)
            if not group:
                raise ValueError(
                    f"groups[{s}] is empty: every source needs at least one component."
                )
            for k in group:
                if isinstance(k, (bool, np.bool_)) or not isinstance(k, Integral) or k < 0:
                    raise ValueError(
                        f"groups[{s}] holds {k!r}, which is not a component index "
                        "(an integer >= 0)."
                    )
            out.append([int(k) for k in group])
        seen = {}
        for s, group in enumerate(out):
            for k in group:
                if k in seen:
                    where = (
                        f"twice in groups[{s}]" if seen[k] == s
                        else f"in groups[{seen[k]}] and groups[{s}]"
                    )
                    raise ValueError(
                        f"groups puts component {k} {where}; each component belongs "
                        "to exactly one source."
                    )
                seen[k] = s
        return out

    @staticmethod
    def _check_groups_cover(groups, n_components):
        flat = sorted(k for g in groups for k in g)
        too_big = [k for k in flat if k >= n_components]
        if too_big:
            raise ValueError(
                f"groups names component(s) {too_big}, but the estimator has "
                f"n_components={n_components} (indices 0..{n_components - 1})."
            )
        missing = sorted(set(range(n_components)) - set(flat))
        if missing:
            raise ValueError(
                f"groups leaves component(s) {missing} out; every component "
                f"0..{n_components - 1} must be in exactly one group."
            )

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


def _standardise(F, columns):
    """Ranks of every column over the rows, z-scored; a feature of c columns
    is divided by sqrt(c), so that it weighs as much as one of one column."""
    R = rankdata(F, axis=0) if F.shape[0] else F
    std = R.std(axis=0)
    Z = np.divide(R - R.mean(axis=0), std, out=np.zeros_like(R), where=std > 0)
    prefixes = [c.rsplit("_", 1)[0] if c.startswith("log_spectrum_") else c for c in columns]
    counts = {p: prefixes.count(p) for p in set(prefixes)}
    return Z / np.sqrt([counts[p] for p in prefixes])


# ---------------------------------------------------------------------------
# Features of components


def _uniform_samples(lo, hi, n):
    return np.linspace(lo, hi, n) if hi > lo else np.array([lo])


def _harmonicity(W):
    """Height of each column's autocorrelation peak after its first minimum.

    ``W`` (n, K) is sampled on a uniform axis. Evenly spaced peaks (the
    partials of a harmonic template) give a high second peak, close to 1;
    noise or a single smooth hump give none (0).
    """
    n, K = W.shape
    out = np.zeros(K)
    if n < 4:
        return out
    centred = W - W.mean(axis=0)
    spectrum = np.fft.rfft(centred, n=2 * n, axis=0)
    ac = np.fft.irfft(np.abs(spectrum) ** 2, n=2 * n, axis=0)[: n // 2]
    ac = np.divide(ac, ac[:1], out=np.zeros_like(ac), where=ac[:1] > 0)
    slope = np.diff(ac, axis=0)
    for k in range(K):
        minima = np.flatnonzero((slope[:-1, k] < 0) & (slope[1:, k] >= 0))
        if minima.size:
            out[k] = max(0.0, float(ac[minima[0] + 1 :, k].max()))
    return out


def component_features(estimator, X, *, features=_DEFAULT_FEATURES, n_bands=16):
    """Features of each component of a fitted factorisation, for grouping.

    Templates are the factor of axis 1 (frequency), sampled at evenly
    spaced points over the range of X's column 1 (as many as X has unique
    values there, 64 to 4096); activations are the factor of axis 0, at
    X's unique times. Per component k:

    * ``"log_spectrum"``: the template's mean in ``n_bands`` log-spaced
      bands from 8 octaves below the highest frequency, normalised to sum 1
      (its shape on a log-frequency axis);
    * ``"centroid"``: the template's centre of mass in octaves (log2 of
      frequency);
    * ``"flatness"``: log of the template's geometric over arithmetic mean
      (0 for a flat, noise-like template; very negative for a few peaks);
    * ``"harmonicity"``: the second peak of the template's autocorrelation
      along frequency, near 1 for evenly spaced partials, near 0 for a
      single hump (a kick drum); noise templates can score high by chance;
    * ``"tonality"``: a comb of narrow peaks, harmonic *and* peaky: the
      smaller of the component's two ranks among the K components, by
      harmonicity and by minus flatness, divided by K (in (0, 1]). Noise
      (flat) and a kick drum (one smooth hump) score low, a note's partials
      high;
    * ``"sparsity"``: Hoyer's sparsity of the activation over time (0 when
      constant, 1 when active at a single time);
    * ``"onset"``: the sum of the activation's rises divided by its sum,
      ``sum(max(dH, 0)) / sum(H)``: about one over the length of a hit, high
      for sharp, short events.

    Parameters
    ----------
    estimator : fitted estimator
        A factorisation with ``factor(axis, values)`` (``MatrixNMF``,
        ``ImplicitNMF``).
    X : ndarray of shape (n_points, d + 1)
        The points it was fitted on (their coordinates set the sampling).
    features : sequence of str, default=("tonality", "onset")
        Names from :data:`FEATURES`; template features need d >= 2.
    n_bands : int, default=16
        Bands of "log_spectrum".

    Returns
    -------
    F : ndarray of shape (n_components, n_columns)
        One row per component.
    columns : list of str
        The name of each column ("log_spectrum_0", ... for the bands).
    """
    X = np.asarray(X, dtype=np.float64)
    times = np.unique(X[:, 0])
    H = np.asarray(estimator.factor(0, times), dtype=np.float64)
    K = H.shape[1]
    blocks, columns = [], []
    eps = np.finfo(np.float64).tiny
    if any(f in _TEMPLATE_FEATURES for f in features):
        f_lo, f_hi = float(X[:, 1].min()), float(X[:, 1].max())
        n_freqs = int(np.clip(np.unique(X[:, 1]).size, 64, 4096))
        freqs = _uniform_samples(f_lo, f_hi, n_freqs)
        W = np.asarray(estimator.factor(1, freqs), dtype=np.float64)
        W_floor = np.maximum(W, _FLOOR * W.max(axis=0, keepdims=True) + eps)
    for name in features:
        if name == "log_spectrum":
            # 8 samples per band, averaged; log-spaced when frequencies are > 0
            if f_hi > 0:
                fine = np.geomspace(max(f_lo, f_hi / 2**8), f_hi, 8 * n_bands + 1)
            else:
                fine = np.linspace(f_lo, f_hi, 8 * n_bands + 1)
            fine = 0.5 * (fine[:-1] + fine[1:])
            Wb = np.asarray(estimator.factor(1, fine), dtype=np.float64)
            B = Wb.reshape(n_bands, 8, K).mean(axis=1)
            B = B / np.maximum(B.sum(axis=0, keepdims=True), eps)
            blocks.append(B.T)
            columns += [f"log_spectrum_{b}" for b in range(n_bands)]
        elif name == "centroid":
            positive = freqs > 0
            logf = np.log2(np.where(positive, freqs, freqs[positive].min() if positive.any()
                                    else 1.0))
            weights = W / np.maximum(W.sum(axis=0, keepdims=True), eps)
            blocks.append((weights * logf[:, None]).sum(axis=0)[:, None])
            columns.append(name)
        elif name == "flatness":
            flat = np.exp(np.log(W_floor).mean(axis=0)) / W_floor.mean(axis=0)
            blocks.append(np.log(flat)[:, None])
            columns.append(name)
        elif name == "harmonicity":
            blocks.append(_harmonicity(W)[:, None])
            columns.append(name)
        elif name == "tonality":
            peaky = -np.log(np.exp(np.log(W_floor).mean(axis=0)) / W_floor.mean(axis=0))
            ranks = np.minimum(rankdata(_harmonicity(W)), rankdata(peaky))
            blocks.append((ranks / K)[:, None])
            columns.append(name)
        elif name == "sparsity":
            n = times.size
            l1, l2 = H.sum(axis=0), np.sqrt((H**2).sum(axis=0))
            ratio = np.divide(l1, l2, out=np.full(K, np.sqrt(n)), where=l2 > 0)
            hoyer = (np.sqrt(n) - ratio) / (np.sqrt(n) - 1) if n > 1 else np.zeros(K)
            blocks.append(hoyer[:, None])
            columns.append(name)
        elif name == "onset":
            rises = np.maximum(np.diff(H, axis=0), 0.0).sum(axis=0)
            total = H.sum(axis=0)
            blocks.append(np.divide(rises, total, out=np.zeros(K), where=total > 0)[:, None])
            columns.append(name)
        else:
            raise ValueError(f"features holds {name!r}; known: {list(FEATURES)}.")
    return np.hstack(blocks), columns


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
    >>> from sklearn_innmf.grouping import separate_by_grouping
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
