"""Short-time Fourier transform points: :func:`stft_points`, a full (t, f) grid."""

import librosa
import numpy as np

from .._docstrings import fill_doc
from ..points import grid_to_points
from ._audio import _check_audio, _check_power, _frame_times, _stft, _stft_params

# ---------------------------------------------------------------------------
# Grids


@fill_doc
def stft_points(
    y,
    *,
    sr,
    n_fft=2048,
    hop_length=None,
    win_length=None,
    window="hann",
    center=True,
    power=1.0,
):
    """Short-time Fourier transform magnitudes as a point array.

    Parameters
    ----------
    %(audio)s
    %(stft_frames)s
    center : bool, default=True
        Centre frame ``n`` at sample ``n * hop_length`` (padding the signal);
        otherwise frame ``n`` starts there and its time is its centre,
        ``(n * hop_length + n_fft // 2) / sr``.
    power : float, default=1.0
        Exponent of the magnitude: 1 for ``|X|``, 2 for power, 0.5 as in the
        iN-NMF paper's experiments.

    Returns
    -------
    X : ndarray of shape (n_frames * (1 + n_fft // 2), 3)
        Columns ``(t, f, |X| ** power)`` in grid order (time-major, as
        :func:`grid_to_points` makes them); ``t`` from
        :func:`librosa.frames_to_time`, ``f`` from
        :func:`librosa.fft_frequencies`. float32 for float32 ``y``, float64
        otherwise. :func:`points_to_grid` gives the spectrogram back.

    See Also
    --------
    STFTSynthesizer : the same points, plus the way back to audio.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.representations import stft_points
    >>> sr = 8000
    >>> y = np.sin(2 * np.pi * 440.0 * np.arange(sr) / sr)
    >>> X = stft_points(y, sr=sr, n_fft=512, hop_length=128)
    >>> X.shape  # 63 frames x 257 bins
    (16191, 3)
    >>> float(X[np.argmax(X[:, 2]), 1])  # the loudest bin, 440 Hz +- 8 Hz
    437.5
    """
    y, sr = _check_audio(y, sr)
    n_fft, hop_length, win_length = _stft_params(y.size, n_fft, hop_length, win_length)
    power = _check_power(power)
    D = _stft(
        y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
        center=center,
    )
    times = _frame_times(D.shape[1], sr=sr, hop_length=hop_length, n_fft=n_fft, center=center)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    return grid_to_points(np.abs(D) ** power, times, freqs)
