"""Streamed STFT points of long files and corpora, and fitting from them.

A file is read block by block (soundfile), so only one batch of frames and
its samples are in memory; the frames are exactly those of
:func:`~sklearn_innmf.representations.stft_points` with ``center=True``
(the signal padded with ``n_fft // 2`` zeros at both ends).
"""

import numpy as np

__all__ = ["stream_stft_points", "stft_blocks", "block_points", "n_stft_frames", "fit_corpus"]


def _source_info(source, sr):
    """(n_samples, sr, reader) of a path or an array; ``reader(start, stop)``
    returns those mono samples as float32 (zeros outside the signal)."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        import soundfile as sf

        info = sf.info(source)
        if sr is not None and info.samplerate != sr:
            raise ValueError(
                f"{source!s} has sampling rate {info.samplerate} Hz, but sr={sr} was "
                "asked; resample the files first (e.g. sox) or pass sr=None."
            )
        n = info.frames

        def read(start, stop):
            with sf.SoundFile(source) as f:
                f.seek(start)
                y = f.read(stop - start, dtype="float32", always_2d=True)
            return y.mean(axis=1)

        return n, info.samplerate, read
    y = np.asarray(source)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.floating):
        raise ValueError(
            f"an audio array of the corpus has shape {y.shape} and dtype {y.dtype}; "
            "expected a 1-D float array (mono)."
        )
    if sr is None:
        raise ValueError("audio arrays need sr= (their sampling rate).")
    if not np.all(np.isfinite(y)):
        raise ValueError("an audio array of the corpus contains NaN or infinity.")
    return y.size, sr, lambda start, stop: y[start:stop].astype(np.float32)


def n_stft_frames(n_samples, hop_length):
    """The number of frames of a centred STFT (librosa's)."""
    return 1 + n_samples // hop_length


def stream_stft_points(
    source, *, sr=None, n_fft=2048, hop_length=None, power=1.0, batch_size=1024, window="hann"
):
    """Yield the STFT points of a file or array, ``batch_size`` frames at a time.

    Parameters
    ----------
    source : path or ndarray of shape (n_samples,)
        A sound file (read in blocks, mixed to mono) or mono audio.
    sr : int, default=None
        The sampling rate: required for arrays; for files, checked if given.
    n_fft, hop_length, power, window
        As :func:`~sklearn_innmf.representations.stft_points` (``center=True``).
    batch_size : int, default=1024
        Frames per yielded point array.

    Yields
    ------
    X : ndarray of shape (n_batch_frames * (1 + n_fft // 2), 3)
        (t, f, |STFT| ** power) of consecutive frames, t in seconds from the
        start of the source, float32. Concatenated, they are
        ``stft_points(y, sr=sr, n_fft=n_fft, hop_length=hop_length,
        power=power)`` (to float32 rounding).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.representations.streaming import stream_stft_points
    >>> y = np.random.default_rng(0).standard_normal(8000)
    >>> [X.shape for X in stream_stft_points(y, sr=8000, n_fft=256, batch_size=64)]
    [(8256, 3), (7998, 3)]
    """
    freqs = None
    for a, b, D, sr_ in stft_blocks(
        source, sr=sr, n_fft=n_fft, hop_length=hop_length, batch_size=batch_size, window=window
    ):
        if freqs is None:
            import librosa

            freqs = librosa.fft_frequencies(sr=sr_, n_fft=n_fft).astype(np.float32)
        hop = n_fft // 4 if hop_length is None else int(hop_length)
        yield block_points(np.abs(D) ** power, a, b, hop, sr_, freqs)


def block_points(M, a, b, hop, sr, freqs):
    """(t, f, m) points, float32, of the magnitudes ``M`` (bins x frames) of
    frames ``a:b``."""
    times = (np.arange(a, b) * hop / sr).astype(np.float32)
    X = np.empty((b - a, freqs.size, 3), dtype=np.float32)
    X[:, :, 0] = times[:, None]
    X[:, :, 1] = freqs[None, :]
    X[:, :, 2] = M.T
    return X.reshape(-1, 3)


def stft_blocks(source, *, sr=None, n_fft=2048, hop_length=None, batch_size=1024, window="hann"):
    """Yield ``(a, b, D, sr)``: the complex centred STFT ``D`` (bins x
    frames) of frames ``a:b`` of a file or array, ``batch_size`` frames at
    a time, read block by block (see :func:`stream_stft_points`)."""
    import librosa

    n_samples, sr, read = _source_info(source, sr)
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    if n_samples < n_fft:
        raise ValueError(f"{source!s}: {n_samples} samples, fewer than n_fft={n_fft}.")
    n_frames = n_stft_frames(n_samples, hop)
    pad = n_fft // 2
    for a in range(0, n_frames, batch_size):
        b = min(a + batch_size, n_frames)
        # padded-signal samples [a * hop, (b - 1) * hop + n_fft) = original
        # samples shifted by pad, zeros outside
        lo, hi = a * hop - pad, (b - 1) * hop + n_fft - pad
        seg = np.zeros(hi - lo, dtype=np.float32)
        s0, s1 = max(lo, 0), min(hi, n_samples)
        if s1 > s0:
            seg[s0 - lo : s1 - lo] = read(s0, s1)
        D = librosa.stft(seg, n_fft=n_fft, hop_length=hop, window=window, center=False)
        yield a, b, D[:, : b - a], sr


def fit_corpus(
    estimator, corpus, *, sr=None, n_fft=2048, hop_length=None, power=1.0, batch_size=1024,
    n_epochs=1, verbose=0,
):
    """Learn an estimator's templates from a corpus streamed from disk.

    Each file (or array) of ``corpus`` is read in blocks of ``batch_size``
    frames (:func:`stream_stft_points`), and each block is one
    ``estimator.partial_fit`` step: at most one batch of points (and its
    audio) is in memory at a time. Silent blocks are skipped.

    Parameters
    ----------
    estimator : object with ``partial_fit``
        E.g. :class:`~sklearn_innmf.MiniBatchMatrixNMF`; fitted in place.
    corpus : iterable of paths or 1-D arrays
        Re-iterated once per epoch (a list, not a generator, for ``n_epochs > 1``).
    sr, n_fft, hop_length, power
        As :func:`stream_stft_points`.
    batch_size : int, default=1024
        Frames per ``partial_fit`` step.
    n_epochs : int, default=1
        Passes over the corpus.
    verbose : int, default=0
        1 shows a progress bar over the frames.

    Returns
    -------
    estimator : object
        The estimator, fitted.
    """
    if not hasattr(estimator, "partial_fit"):
        raise ValueError(f"{type(estimator).__name__} has no partial_fit.")
    if n_epochs < 1:
        raise ValueError(f"n_epochs={n_epochs!r} must be >= 1.")
    sources = corpus if n_epochs == 1 else list(corpus)
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        total = None
        if isinstance(sources, (list, tuple)):
            total = n_epochs * sum(n_stft_frames(_source_info(s, sr)[0], hop) for s in sources)
        bar = tqdm(total=total, desc=f"{type(estimator).__name__} corpus", unit="frame")
    n_steps = 0
    try:
        for _ in range(n_epochs):
            for source in sources:
                for X in stream_stft_points(
                    source, sr=sr, n_fft=n_fft, hop_length=hop, power=power, batch_size=batch_size
                ):
                    n_frames = X.shape[0] // (n_fft // 2 + 1)
                    if np.any(X[:, 2] > 0):
                        estimator.partial_fit(X)
                        n_steps += 1
                    if bar is not None:
                        bar.update(n_frames)
                        cost = getattr(estimator, "loss_curve_", [None])[-1]
                        if cost is not None:
                            bar.set_postfix(cost=f"{cost:.4g}")
    finally:
        if bar is not None:
            bar.close()
    if n_steps == 0:
        raise ValueError("the corpus has no sound: every block was silent (or it is empty).")
    return estimator
