"""Audio to point arrays, and back: one module per representation.

Each function here turns a waveform into a point array of shape
``(n_points, 3)`` with columns ``(t, f, m)``: time in seconds, frequency in Hz,
magnitude ``m >= 0`` (``|X| ** power``). That is the transpose of what a
scikit-learn user might expect from a spectrogram: librosa returns
``(n_freqs, n_frames)`` matrices and :class:`sklearn.decomposition.NMF`
wants ``(n_samples, n_features)``, which invites factorising the wrong
orientation. A point array has no orientation to get wrong: every row says
where it is.

* :func:`stft_points`: the short-time Fourier transform, a full grid.
* :func:`cqt_points`: the constant-Q transform (librosa or nnAudio), a grid
  with log-spaced frequencies.
* :func:`reassigned_points`: the reassigned spectrogram, every point at its own
  time and frequency (fully irregular).
* :func:`sinusoidal_points`: spectral peaks per frame, at interpolated
  frequencies off the bin grid.
* :func:`hybrid_points`: different representations over different time spans
  of one signal (Fig. 3 of the iN-NMF paper).
* :class:`STFTSynthesizer`: keeps a mixture's complex STFT and turns per-point
  masks or magnitudes back into waveforms with the mixture's phase.

All functions use librosa's parameter names and defaults (``n_fft=2048``,
``hop_length=win_length // 4``, ``window="hann"``, ``center=True``), and time
``t`` of a frame is its centre, :func:`librosa.frames_to_time`.
"""

from ..points import grid_to_points, points_to_grid
from .cqt import cqt_points
from .hybrid import hybrid_points
from .reassigned import reassigned_points
from .resynthesis import STFTSynthesizer
from .sinusoidal import sinusoidal_points
from .stft import stft_points

__all__ = [
    "stft_points",
    "cqt_points",
    "reassigned_points",
    "sinusoidal_points",
    "hybrid_points",
    "STFTSynthesizer",
    "grid_to_points",
    "points_to_grid",
]
