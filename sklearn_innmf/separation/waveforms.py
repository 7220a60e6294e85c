"""From waveforms to separated waveforms through STFT points: training points of
labelled recordings (:func:`training_points`), a fitted separator
(:func:`fit_separator`), and the separated sources of a mixture
(:func:`separate_mixture`, :func:`separate_waveforms`).
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..representations.resynthesis import STFTSynthesizer
from ..representations.stft import stft_points
from .supervised import SupervisedSeparator

# ---------------------------------------------------------------------------
# Waveforms in, waveforms out


def _check_sources(sources):
    msg = (
        "sources must be a list with one entry per source, each a waveform (1-D "
        "array) or a list of waveforms."
    )
    if isinstance(sources, np.ndarray) or not isinstance(sources, (list, tuple)):
        raise ValueError(msg)
    out = []
    for s in sources:
        if isinstance(s, (list, tuple)) and s and np.ndim(s[0]) == 1:
            recordings = list(s)
        else:
            recordings = [s]
        for y in recordings:
            if np.ndim(y) != 1:
                raise ValueError(f"{msg} Got an entry of shape={np.shape(y)}.")
        out.append(recordings)
    if not out:
        raise ValueError("sources is empty: give training waveforms of each source.")
    return out


def training_points(sources, sr, *, n_fft=1024, hop_length=None, power=1.0):
    """STFT points of every source's training recordings, with source labels.

    All recordings are laid end to end in time (each one starts one hop
    after the previous one's last frame), so every frame has its own time.

    Parameters
    ----------
    sources : list of (1-D array or list of 1-D arrays)
        ``sources[s]``: the training waveform(s) of source s.
    sr : float
        Sampling rate in Hz of every waveform.
    n_fft, hop_length : int
        STFT settings, as :func:`~sklearn_innmf.representations.stft_points`.
    power : float, default=1.0
        Exponent of the magnitudes.

    Returns
    -------
    X : ndarray of shape (n_points, 3)
        ``(t, f, |X| ** power)`` of all recordings.
    y : ndarray of shape (n_points,)
        Source index (0, 1, ...) of each point.
    """
    sources = _check_sources(sources)
    parts, labels = [], []
    offset = 0.0
    for s, recordings in enumerate(sources):
        for y in recordings:
            X = stft_points(y, sr=sr, n_fft=n_fft, hop_length=hop_length, power=power)
            X[:, 0] += offset
            hop = (n_fft // 4 if hop_length is None else hop_length) / sr
            offset = float(X[:, 0].max()) + hop
            parts.append(X)
            labels.append(np.full(len(X), s))
    return np.vstack(parts), np.concatenate(labels)


def fit_separator(
    sources,
    sr,
    *,
    estimator=None,
    n_fft=1024,
    hop_length=None,
    power=1.0,
    activations="frames",
    max_iter=200,
    random_state=None,
    verbose=0,
):
    """Fit a :class:`SupervisedSeparator` on training waveforms of each source.

    Parameters
    ----------
    sources : list of (1-D array or list of 1-D arrays)
        ``sources[s]``: the training waveform(s) of source s, mono, at ``sr``.
    sr : float
        Sampling rate in Hz.
    estimator : estimator object, default=None
        The factorisation of each source (``MatrixNMF()`` when None).
    n_fft : int, default=1024
        FFT size of the training STFT.
    hop_length : int, default=None
        Hop of the training STFT; None means ``n_fft // 4``.
    power : float, default=1.0
        Magnitude exponent (0.5 as in the iN-NMF paper's experiments).
    activations, max_iter, random_state, verbose
        Passed to :class:`SupervisedSeparator`.

    Returns
    -------
    separator : SupervisedSeparator
        Fitted; its ``classes_`` are 0..n_sources-1 in the order of ``sources``.
    """
    X, y = training_points(sources, sr, n_fft=n_fft, hop_length=hop_length, power=power)
    separator = SupervisedSeparator(
        estimator,
        activations=activations,
        max_iter=max_iter,
        random_state=random_state,
        verbose=verbose,
    )
    return separator.fit(X, y)


def separate_mixture(separator, mixture, sr, *, n_fft=1024, hop_length=None, power=1.0):
    """Separate a mixture waveform with a fitted separator.

    The mixture's STFT magnitudes ``|X| ** power`` (at any ``n_fft``, not
    necessarily the training one) are split with the separator's Wiener
    masks, which multiply the complex STFT before the inverse STFT.

    Parameters
    ----------
    separator : SupervisedSeparator
        Fitted on (t, f, m) points with the same ``power``.
    mixture : ndarray of shape (n_samples,)
        Mono mixture at ``sr``.
    sr : float
        Sampling rate in Hz.
    n_fft : int, default=1024
        FFT size of the mixture's analysis.
    hop_length : int, default=None
        Hop; None means ``n_fft // 4``.
    power : float, default=1.0
        Magnitude exponent the separator was trained with.

    Returns
    -------
    estimates : ndarray of shape (n_sources, n_samples)
        One waveform per source (order of ``separator.classes_``); they sum
        to the mixture up to the STFT's round-trip error.
    """
    check_is_fitted(separator)
    synth = STFTSynthesizer(mixture, sr=sr, n_fft=n_fft, hop_length=hop_length)
    X = synth.points(power=power)
    masks = separator.masks(X)
    estimates = synth.istft_from_mask(masks)
    return np.atleast_2d(estimates)


def separate_waveforms(
    sources,
    mixture,
    sr,
    *,
    estimator=None,
    n_fft=1024,
    hop_length=None,
    power=1.0,
    activations="frames",
    max_iter=200,
    random_state=None,
    verbose=0,
):
    """Train on each source's recordings, then separate a mixture.

    :func:`fit_separator` then :func:`separate_mixture` at the same STFT
    settings; call those two to train and separate at different sizes.

    Parameters
    ----------
    sources : list of (1-D array or list of 1-D arrays)
        ``sources[s]``: the training waveform(s) of source s.
    mixture : ndarray of shape (n_samples,)
        The mixture to separate.
    sr : float
        Sampling rate in Hz of all waveforms.
    estimator : estimator object, default=None
        The factorisation of each source (``MatrixNMF()`` when None), e.g.
        ``ImplicitNMF(20, time_factor="table")``.
    n_fft, hop_length, power
        STFT settings and magnitude exponent, for training and mixture.
    activations, max_iter, random_state, verbose
        Passed to :class:`SupervisedSeparator`.

    Returns
    -------
    estimates : ndarray of shape (n_sources, n_samples)
        The separated waveforms, in the order of ``sources``.

    Examples
    --------
    >>> from sklearn_innmf.datasets import harmonic_source, two_source_mixture
    >>> from sklearn_innmf import MatrixNMF
    >>> from sklearn_innmf.separation import separate_waveforms
    >>> a, sr = harmonic_source(sr=8000, f0=120.0, duration=0.5, random_state=0)
    >>> b, sr = harmonic_source(sr=8000, f0=300.0, formants=(400.0, 2000.0, 2800.0),
    ...                         duration=0.5, random_state=1)
    >>> mix, a, b = two_source_mixture(a, b)
    >>> est = separate_waveforms([a, b], mix, sr, estimator=MatrixNMF(max_iter=1000),
    ...                          n_fft=256, random_state=0)
    >>> est.shape
    (2, 4000)
    """
    separator = fit_separator(
        sources,
        sr,
        estimator=estimator,
        n_fft=n_fft,
        hop_length=hop_length,
        power=power,
        activations=activations,
        max_iter=max_iter,
        random_state=random_state,
        verbose=verbose,
    )
    return separate_mixture(
        separator, mixture, sr, n_fft=n_fft, hop_length=hop_length, power=power
    )
