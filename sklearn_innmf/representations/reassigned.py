"""Reassigned-spectrogram points (:func:`reassigned_points`): each point at its own
time and frequency, fully irregular.
"""

import warnings

import librosa
import numpy as np

from .._docstrings import fill_doc
from ._audio import (
    _check_audio,
    _check_power,
    _check_top_db,
    _db_floor,
    _librosa_errors,
    _stft_params,
)

# ---------------------------------------------------------------------------
# Irregular points


@fill_doc
def reassigned_points(
    y,
    *,
    sr,
    n_fft=2048,
    hop_length=None,
    win_length=None,
    window="hann",
    center=True,
    power=1.0,
    top_db=60.0,
):
    """Reassigned-spectrogram points: each at its own time and frequency.

    Every STFT cell's energy is moved to the centre of gravity of the energy
    around it (:func:`librosa.reassigned_spectrogram`): the instantaneous
    frequency and the group delay. Sinusoids and impulses become sharp, and no
    two points share a time or a frequency, so this is the fully irregular
    case of the point format.

    Points are dropped, never moved, when

    * their magnitude is more than ``top_db`` below the loudest cell (their
      reassignment is numerically meaningless, and there are many of them);
    * their reassigned time or frequency is not finite (cells of zero energy);
    * they are reassigned outside the signal: time outside
      ``[0, n_samples / sr]`` or frequency outside ``[0, sr / 2]``. (librosa
      would clip them onto the border, piling energy where there is none.)

    Parameters
    ----------
    %(audio)s
    %(stft_frames)s
    center : bool, default=True
        Centre frames at ``n * hop_length``, as in :func:`stft_points`.
    power : float, default=1.0
        Exponent of the magnitude.
    top_db : float or None, default=60.0
        Keep points within this many dB of the loudest one; ``None`` keeps
        every point with non-zero energy.

    Returns
    -------
    X : ndarray of shape (n_points, 3)
        Columns ``(t, f, |X| ** power)``, frame by frame, ``n_points`` at most
        ``n_frames * (1 + n_fft // 2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.representations import reassigned_points
    >>> sr = 8000
    >>> y = np.sin(2 * np.pi * 440.7 * np.arange(sr) / sr)
    >>> X = reassigned_points(y, sr=sr, n_fft=512, hop_length=128, top_db=20.0)
    >>> inner = X[(X[:, 0] > 0.1) & (X[:, 0] < 0.9)]  # away from the clicks at 0 and 1 s
    >>> bool(np.all(np.abs(inner[:, 1] - 440.7) < 1.0))  # bins are 15.6 Hz apart
    True
    >>> len(np.unique(X[:, 0])) == len(X)  # every point at its own time
    True
    """
    y, sr = _check_audio(y, sr)
    n_fft, hop_length, win_length = _stft_params(y.size, n_fft, hop_length, win_length)
    power = _check_power(power)
    top_db = _check_top_db(top_db)

    def ref_power(p):
        # Below this, librosa returns NaN for the reassigned coordinates.
        return max(_db_floor(np.max(p), top_db, 2.0), np.finfo(p.dtype).tiny)

    with (
        _librosa_errors(),
        np.errstate(divide="ignore", invalid="ignore"),
        warnings.catch_warnings(),
    ):
        # librosa 0.11 calls np.less(..., where=...) without out=; the cells it
        # leaves unset are NaN magnitudes, which a finite y never produces.
        warnings.filterwarnings("ignore", message="'where' used without 'out'")
        freqs, times, mags = librosa.reassigned_spectrogram(
            y,
            sr=sr,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
            ref_power=ref_power,
            fill_nan=False,
            clip=False,
        )
    # Time-major, like the grids: all points of frame 0, then frame 1, ...
    t, f, m = times.T.ravel(), freqs.T.ravel(), mags.T.ravel() ** power
    keep = np.isfinite(t) & np.isfinite(f) & (m > 0)
    keep &= (t >= 0) & (t <= y.size / sr) & (f >= 0) & (f <= sr / 2)
    if top_db is not None:
        keep &= m >= _db_floor(m.max(initial=0.0), top_db, power)
    dtype = np.result_type(mags.dtype, np.float32)
    return np.column_stack([t[keep], f[keep], m[keep]]).astype(dtype, copy=False)
