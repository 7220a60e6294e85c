"""Sinusoidal-peak points (:func:`sinusoidal_points`): spectral peaks per frame, at
interpolated frequencies off the bin grid.
"""

import numpy as np

from .._docstrings import fill_doc
from ._audio import (
    _check_audio,
    _check_int,
    _check_power,
    _check_top_db,
    _db_floor,
    _frame_times,
    _stft,
    _stft_params,
)


@fill_doc
def sinusoidal_points(
    y,
    *,
    sr,
    n_fft=2048,
    hop_length=None,
    window="hann",
    center=True,
    max_peaks=None,
    top_db=60.0,
    power=1.0,
):
    """Spectral peaks of each frame: a sinusoidal model as points.

    In every STFT frame, the local maxima of the magnitude spectrum (bins
    louder than both neighbours) within ``top_db`` of the loudest cell of the
    whole signal are kept. Each peak's frequency and magnitude are refined by
    fitting a parabola to the log-magnitude of the peak bin and its two
    neighbours (quadratic interpolation), so frequencies fall between bins.
    With a Hann window the frequency error is a few hundredths of a bin.

    Parameters
    ----------
    %(audio)s
    n_fft : int, default=2048
        FFT length in samples, ``4 <= n_fft <= n_samples``.
    hop_length : int, default=None
        Samples between frames; ``None`` means ``n_fft // 4``.
    window : str, tuple, number, callable or ndarray, default="hann"
        Any window :func:`librosa.stft` accepts; windows with a smooth,
        Gaussian-like main lobe interpolate best.
    center : bool, default=True
        Centre frames at ``n * hop_length``, as in :func:`stft_points`.
    max_peaks : int or None, default=None
        Keep at most this many of the loudest peaks per frame.
    top_db : float or None, default=60.0
        Keep peaks within this many dB of the loudest STFT cell; ``None``
        keeps every local maximum.
    power : float, default=1.0
        Exponent applied to the interpolated peak magnitude.

    Returns
    -------
    X : ndarray of shape (n_peaks, 3)
        Columns ``(t, f, m)``, frame by frame and by increasing frequency
        within a frame. ``t`` is the frame centre, ``f`` the interpolated peak
        frequency, ``m`` the interpolated peak magnitude ``** power``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.representations import sinusoidal_points
    >>> sr = 8000
    >>> y = np.sin(2 * np.pi * 440.7 * np.arange(sr) / sr)
    >>> X = sinusoidal_points(y, sr=sr, n_fft=1024, max_peaks=1)
    >>> X.shape  # one peak in each of the 32 frames
    (32, 3)
    >>> bool(abs(np.median(X[:, 1]) - 440.7) < 0.5)  # bins are 7.8 Hz apart
    True
    """
    y, sr = _check_audio(y, sr)
    n_fft, hop_length, win_length = _stft_params(y.size, n_fft, hop_length, None)
    if n_fft < 4:
        raise ValueError(f"n_fft={n_fft} must be >= 4 to find peaks between bins.")
    if max_peaks is not None:
        max_peaks = _check_int("max_peaks", max_peaks)
    top_db = _check_top_db(top_db)
    power = _check_power(power)

    S = np.abs(
        _stft(
            y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            window=window, center=center,
        )
    )  # (n_bins, n_frames)
    n_frames = S.shape[1]
    mid = S[1:-1]
    # DC and Nyquist bins have no two neighbours to interpolate with.
    is_peak = (mid > S[:-2]) & (mid >= S[2:])
    is_peak &= mid >= max(_db_floor(S.max(), top_db, 1.0), np.finfo(S.dtype).tiny)
    if max_peaks is not None and max_peaks < mid.shape[0]:
        score = np.where(is_peak, mid, -np.inf)
        # Rank within each frame; everything below the max_peaks-th loudest goes.
        kth = np.partition(score, -max_peaks, axis=0)[-max_peaks]
        is_peak &= score >= kth
        # Ties at the threshold could keep more than max_peaks: keep the lowest.
        is_peak &= np.cumsum(is_peak, axis=0) <= max_peaks

    k, n = np.nonzero(is_peak.T)[::-1]  # frame-major order: n sorted, then k
    k = k + 1  # index into S
    with np.errstate(divide="ignore"):
        tiny = np.finfo(S.dtype).tiny
        a, b, c = (np.log(np.maximum(S[k + d, n], tiny)) for d in (-1, 0, 1))
    curvature = a - 2 * b + c  # < 0 at a strict local maximum
    offset = np.where(curvature < 0, 0.5 * (a - c) / np.where(curvature < 0, curvature, -1), 0.0)
    offset = np.clip(offset, -0.5, 0.5)
    log_peak = b - 0.25 * (a - c) * offset

    times = _frame_times(n_frames, sr=sr, hop_length=hop_length, n_fft=n_fft, center=center)
    dtype = np.result_type(S.dtype, np.float32)
    X = np.column_stack(
        [times[n], (k + offset) * sr / n_fft, np.exp(log_peak * power)]
    )
    return X.astype(dtype, copy=False)
