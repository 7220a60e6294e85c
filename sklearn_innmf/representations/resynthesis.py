"""Back to audio: :class:`STFTSynthesizer` keeps a mixture's complex STFT and turns
per-point masks or magnitudes into waveforms with the mixture's phase.
"""

import librosa
import numpy as np

from .._docstrings import fill_doc
from ..points import grid_to_points
from ._audio import (
    _check_audio,
    _check_power,
    _frame_times,
    _librosa_errors,
    _stft,
    _stft_params,
)

# ---------------------------------------------------------------------------
# The way back


@fill_doc
class STFTSynthesizer:
    """A signal's complex STFT, its points, and resynthesis from point values.

    The separation path: turn a mixture into points with :meth:`points`, let a
    model give a mask or a magnitude per point (for example a
    ``SupervisedSeparator``'s Wiener-masked magnitudes), and turn those back
    into waveforms with the mixture's phase (:func:`librosa.istft`, trimmed or
    padded to the mixture's length).

    For Wiener filtering (the iN-NMF paper's separation), divide each source's
    model magnitude by the mixture's ``m`` (or by the sum of the sources) and
    pass the ratios to :meth:`istft_from_mask`: the mask then scales the
    complex STFT whatever ``power`` the model was fitted at.

    Parameters
    ----------
    %(audio)s
    %(stft_frames)s
    center : bool, default=True
        Centre frames at ``n * hop_length``; with ``center=False`` the first
        and last ``n_fft - hop_length`` samples are not fully covered by
        windows and come back attenuated.

    Attributes
    ----------
    stft : ndarray of shape (1 + n_fft // 2, n_frames), complex
        The complex STFT of ``y``.
    times : ndarray of shape (n_frames,)
        Frame times in seconds.
    freqs : ndarray of shape (1 + n_fft // 2,)
        Bin frequencies in Hz.
    n_points : int
        ``n_frames * (1 + n_fft // 2)``, the length of :meth:`points`.
    length : int
        ``n_samples``, the length of every resynthesised waveform.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.representations import STFTSynthesizer
    >>> sr = 8000
    >>> y = np.sin(2 * np.pi * 440.0 * np.arange(sr) / sr)
    >>> synth = STFTSynthesizer(y, sr=sr, n_fft=512)
    >>> X = synth.points(power=0.5)
    >>> X.shape == (synth.n_points, 3)
    True
    >>> y_hat = synth.istft_from_mask(np.ones(synth.n_points))
    >>> bool(np.allclose(y_hat, y, atol=1e-6))
    True
    """

    def __init__(
        self,
        y,
        *,
        sr,
        n_fft=2048,
        hop_length=None,
        win_length=None,
        window="hann",
        center=True,
    ):
        y, sr = _check_audio(y, sr)
        n_fft, hop_length, win_length = _stft_params(y.size, n_fft, hop_length, win_length)
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.length = y.size
        self.dtype = y.dtype
        self.stft = _stft(
            y, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
            window=window, center=center,
        )
        self.times = _frame_times(
            self.stft.shape[1], sr=sr, hop_length=hop_length, n_fft=n_fft, center=center
        )
        self.freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
        self.n_points = self.stft.size

    def __repr__(self):
        return (
            f"{type(self).__name__}(length={self.length}, sr={self.sr}, "
            f"n_fft={self.n_fft}, hop_length={self.hop_length}, "
            f"win_length={self.win_length}, n_points={self.n_points})"
        )

    def points(self, power=1.0):
        """The STFT magnitudes as a point array.

        Parameters
        ----------
        power : float, default=1.0
            Exponent of the magnitude.

        Returns
        -------
        X : ndarray of shape (n_points, 3)
            Columns ``(t, f, |X| ** power)`` in grid order (time-major), the
            same as :func:`stft_points` with these settings.
        """
        power = _check_power(power)
        return grid_to_points(np.abs(self.stft) ** power, self.times, self.freqs)

    def _values_to_grid(self, values, name):
        """Per-point values (n_points,) or (n_points, n_sources) to (S, F, T)."""
        values = np.asarray(values)
        if values.ndim not in (1, 2) or values.shape[0] != self.n_points:
            raise ValueError(
                f"{name} must have shape (n_points,) or (n_points, n_sources) with "
                f"n_points={self.n_points} (in the order of .points()), got "
                f"shape={values.shape}."
            )
        if np.iscomplexobj(values) or not np.issubdtype(values.dtype, np.number):
            raise ValueError(f"{name} must be real, got dtype={values.dtype}.")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if values.min() < 0:
            raise ValueError(f"{name} has negative values (min={values.min()!r}); "
                             "masks and magnitudes are >= 0.")
        n_freqs, n_frames = self.stft.shape
        grid = values.reshape(n_frames, n_freqs, -1)  # time-major, like points()
        return np.moveaxis(grid, (0, 1, 2), (2, 1, 0)), values.ndim == 1

    def _istft(self, D, squeeze):
        with _librosa_errors():
            y = librosa.istft(
                D,
                hop_length=self.hop_length,
                win_length=self.win_length,
                n_fft=self.n_fft,
                window=self.window,
                center=self.center,
                length=self.length,
            )
        y = y.astype(self.dtype, copy=False)
        return y[0] if squeeze else y

    def istft_from_mask(self, mask):
        """Waveform(s) of the mixture STFT times a mask, with the mixture's phase.

        Parameters
        ----------
        mask : array-like of shape (n_points,) or (n_points, n_sources)
            Non-negative gain per point, in the order of :meth:`points`; one
            column per source.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_sources, n_samples)
            The masked signal(s). A mask of ones gives ``y`` back (up to
            float rounding, and edge attenuation when ``center=False``).
        """
        mask, squeeze = self._values_to_grid(mask, "mask")
        return self._istft(mask * self.stft, squeeze)

    def istft_from_magnitude(self, magnitude, *, power=1.0):
        """Waveform(s) of given magnitudes with the mixture's phase.

        Parameters
        ----------
        magnitude : array-like of shape (n_points,) or (n_points, n_sources)
            Non-negative ``|X| ** power`` per point, in the order of
            :meth:`points`; one column per source.
        power : float, default=1.0
            The exponent the magnitudes were computed with (the one given to
            :meth:`points`); they are raised to ``1 / power`` first.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_sources, n_samples)
            The resynthesised signal(s).
        """
        power = _check_power(power)
        magnitude, squeeze = self._values_to_grid(magnitude, "magnitude")
        phase = np.exp(1j * np.angle(self.stft))
        return self._istft(magnitude ** (1.0 / power) * phase, squeeze)
