"""Features of a factorisation's components for grouping them into sources: of the
template (log spectrum, centroid, flatness, harmonicity, tonality) and of the
activation (sparsity, onset sharpness), standardised by ranks.
"""

import numpy as np
from scipy.stats import rankdata

_TEMPLATE_FEATURES = {"log_spectrum", "centroid", "flatness", "harmonicity", "tonality"}
_DEFAULT_FEATURES = ("tonality", "onset")

# floor of templates and activations relative to their maximum, for logs
_FLOOR = 1e-6


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
