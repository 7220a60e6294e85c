"""Audio to point arrays, and back.

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

import contextlib
import numbers
import warnings

import librosa
import numpy as np

from ._device import resolve_device
from ._points import grid_to_points, points_to_grid

__all__ = [
    "stft_points",
    "cqt_points",
    "reassigned_points",
    "sinusoidal_points",
    "hybrid_points",
    "grid_to_points",
    "points_to_grid",
    "STFTSynthesizer",
]


# ---------------------------------------------------------------------------
# Validation shared by the representations


@contextlib.contextmanager
def _librosa_errors():
    """Re-raise librosa's ParameterError (not a ValueError) as a ValueError."""
    try:
        yield
    except librosa.util.exceptions.ParameterError as exc:
        raise ValueError(str(exc)) from exc


def _check_audio(y, sr):
    """Validate a mono waveform and its sampling rate; return float y and sr."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"y must be a 1-D (mono) waveform, got ndim={y.ndim} with "
            f"shape={y.shape}; average channels with y.mean(axis=0) first."
        )
    if np.iscomplexobj(y) or not np.issubdtype(y.dtype, np.number):
        raise ValueError(f"y must be real-valued audio, got dtype={y.dtype}.")
    if not np.issubdtype(y.dtype, np.floating):
        y = y.astype(np.float64)
    if y.size == 0:
        raise ValueError("y is empty (length=0).")
    if not np.all(np.isfinite(y)):
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(
            f"y contains non-finite values (y[{i}]={float(y[i])}); audio must be finite."
        )
    if (
        isinstance(sr, bool)
        or not isinstance(sr, numbers.Real)
        or not np.isfinite(sr)
        or sr <= 0
    ):
        raise ValueError(f"sr={sr!r} must be a positive number (samples per second).")
    return y, sr


def _check_int(name, value, *, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name}={value!r} must be an integer >= {minimum}.")
    return int(value)


def _check_power(power):
    if isinstance(power, bool) or not isinstance(power, numbers.Real) or not (
        np.isfinite(power) and power > 0
    ):
        raise ValueError(
            f"power={power!r} must be a positive number (1 for magnitude, 2 for "
            "power)."
        )
    return float(power)


def _check_top_db(top_db):
    if top_db is None:
        return None
    if isinstance(top_db, bool) or not isinstance(top_db, numbers.Real) or not (
        np.isfinite(top_db) and top_db > 0
    ):
        raise ValueError(f"top_db={top_db!r} must be a positive number of dB or None.")
    return float(top_db)


def _stft_params(length, n_fft, hop_length, win_length):
    """Resolve librosa's STFT defaults and check them against the signal."""
    n_fft = _check_int("n_fft", n_fft, minimum=2)
    if n_fft > length:
        raise ValueError(
            f"n_fft={n_fft} is too large for a signal of length={length}; "
            f"use n_fft <= {length} or a longer signal."
        )
    win_length = n_fft if win_length is None else _check_int("win_length", win_length)
    if win_length > n_fft:
        raise ValueError(f"win_length={win_length} must be <= n_fft={n_fft}.")
    if hop_length is None:
        hop_length = max(win_length // 4, 1)
    hop_length = _check_int("hop_length", hop_length)
    return n_fft, hop_length, win_length


def _frame_times(n_frames, *, sr, hop_length, n_fft, center):
    """Time of each frame's centre, in seconds."""
    # Without centring, frame n spans [n * hop, n * hop + n_fft): its centre
    # is n_fft // 2 later, as librosa's reassigned spectrogram also counts.
    return librosa.frames_to_time(
        np.arange(n_frames), sr=sr, hop_length=hop_length, n_fft=None if center else n_fft
    )


def _stft(y, *, n_fft, hop_length, win_length, window, center):
    with _librosa_errors():
        return librosa.stft(
            y,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=center,
        )


def _db_floor(peak, top_db, power):
    """Smallest kept value of ``|X| ** power`` for a threshold ``top_db`` below ``peak``."""
    if top_db is None:
        return 0.0
    return peak * 10.0 ** (-top_db * power / 20.0)


# ---------------------------------------------------------------------------
# Grids


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
    y : ndarray of shape (n_samples,)
        Mono audio, real and finite.
    sr : float
        Sampling rate in Hz.
    n_fft : int, default=2048
        FFT length in samples, ``2 <= n_fft <= n_samples``.
    hop_length : int, default=None
        Samples between frames; ``None`` means ``win_length // 4``.
    win_length : int, default=None
        Window length, ``<= n_fft``; ``None`` means ``n_fft``.
    window : str, tuple, number, callable or ndarray, default="hann"
        Any window :func:`librosa.stft` accepts.
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


def _check_cqt_params(sr, hop_length, fmin, n_bins, bins_per_octave):
    hop_length = _check_int("hop_length", hop_length)
    n_bins = _check_int("n_bins", n_bins)
    bins_per_octave = _check_int("bins_per_octave", bins_per_octave)
    if fmin is None:
        fmin = float(librosa.note_to_hz("C1"))
    if isinstance(fmin, bool) or not isinstance(fmin, numbers.Real) or not (
        np.isfinite(fmin) and fmin > 0
    ):
        raise ValueError(f"fmin={fmin!r} must be a positive frequency in Hz.")
    freqs = librosa.cqt_frequencies(n_bins=n_bins, fmin=fmin, bins_per_octave=bins_per_octave)
    # The same bound librosa.cqt applies: the top filter's band must fit below
    # Nyquist. Checked here so both backends refuse the same settings.
    with _librosa_errors():
        _, cutoff = librosa.filters.wavelet_lengths(
            freqs=freqs,
            sr=sr,
            window="hann",
            gamma=0.0,
            alpha=np.full(n_bins, _relative_bandwidth(bins_per_octave)),
        )
    if cutoff > sr / 2:
        raise ValueError(
            f"n_bins={n_bins} bins from fmin={fmin:g} Hz at bins_per_octave="
            f"{bins_per_octave} reach {freqs[-1]:.1f} Hz, whose filter band ends at "
            f"{cutoff:.1f} Hz, above the Nyquist frequency sr / 2 = {sr / 2:g} Hz; "
            "use fewer bins or a lower fmin."
        )
    return hop_length, float(fmin), n_bins, bins_per_octave, freqs


def _relative_bandwidth(bins_per_octave):
    """librosa's relative filter bandwidth of a constant-Q transform."""
    r = 2.0 ** (2.0 / bins_per_octave)
    return (r - 1.0) / (r + 1.0)


def _nnaudio_cqt(y, *, sr, hop_length, fmin, n_bins, bins_per_octave, device):
    """CQT magnitudes from nnAudio, scaled like librosa.cqt."""
    import torch
    from nnAudio.features import CQT

    device = resolve_device(device)
    # nnAudio sizes its filters with Q = filter_scale / (2**(1/B) - 1) while
    # librosa uses Q = filter_scale / alpha with alpha = (2**(2/B) - 1) /
    # (2**(2/B) + 1), about 3% apart; matching the filter lengths (and
    # librosa's zero padding) makes the two transforms agree closely.
    alpha = _relative_bandwidth(bins_per_octave)
    layer = CQT(
        sr=sr,
        hop_length=hop_length,
        fmin=fmin,
        n_bins=n_bins,
        bins_per_octave=bins_per_octave,
        filter_scale=(2.0 ** (1.0 / bins_per_octave) - 1.0) / alpha,
        norm=1,
        window="hann",
        center=True,
        pad_mode="constant",
        output_format="Magnitude",
        verbose=False,
    ).to(device)
    with torch.no_grad():
        x = torch.as_tensor(y, dtype=torch.float32, device=device)
        C = layer(x, normalization_type="librosa")
    return C[0].cpu().numpy()


def cqt_points(
    y,
    *,
    sr,
    hop_length=512,
    fmin=None,
    n_bins=84,
    bins_per_octave=12,
    power=1.0,
    scale="librosa",
    backend="librosa",
    device="cpu",
):
    """Constant-Q transform magnitudes as a point array.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono audio, real and finite.
    sr : float
        Sampling rate in Hz.
    hop_length : int, default=512
        Samples between frames. librosa's multi-rate algorithm halves it once
        per octave while it stays even, so a power of two is fastest.
    fmin : float, default=None
        Frequency of the lowest bin in Hz; ``None`` means C1 (32.70 Hz).
    n_bins : int, default=84
        Number of bins. The top bin's filter band must end below ``sr / 2``.
    bins_per_octave : int, default=12
        Bins per octave.
    power : float, default=1.0
        Exponent of the magnitude.
    scale : {"librosa", "amplitude"}, default="librosa"
        "librosa": :func:`librosa.cqt`'s scaling (``scale=True``), under which
        a sinusoid's magnitude falls as ``1 / sqrt(f)``: a spectral tilt that
        no STFT has.
        "amplitude": each bin divided by half the square root of its filter
        length, so that a sinusoid of amplitude ``a`` reads ``a`` in its bin
        at every frequency (before ``power``), which makes CQT points
        comparable with other representations (e.g. in :func:`hybrid_points`).
    backend : {"librosa", "nnaudio"}, default="librosa"
        :func:`librosa.cqt`, or :class:`nnAudio.features.CQT` (a convolution
        in torch, on ``device``). nnAudio is given librosa's filter lengths,
        normalisation and zero padding, so both backends give the same scale:
        magnitudes correlate above 0.999 on speech-like signals. They differ
        most in the lowest octaves, where librosa works on a resampled signal.
    device : str or torch.device, default="cpu"
        Torch device of the nnAudio backend ("auto" picks CUDA when present);
        the librosa backend runs on the CPU and ignores it.

    Returns
    -------
    X : ndarray of shape (n_frames * n_bins, 3)
        Columns ``(t, f, |C| ** power)`` in grid order (time-major), with
        ``n_frames = 1 + n_samples // hop_length``, ``t`` the frame centre
        (:func:`librosa.frames_to_time`) and ``f`` from
        :func:`librosa.cqt_frequencies`. float32 for float32 ``y``, float64
        otherwise, for both backends.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.representations import cqt_points
    >>> sr = 8000
    >>> y = np.sin(2 * np.pi * 440.0 * np.arange(sr) / sr)
    >>> X = cqt_points(y, sr=sr, fmin=55.0, n_bins=48, hop_length=256)
    >>> X.shape  # 32 frames x 48 bins
    (1536, 3)
    >>> float(X[np.argmax(X[:, 2]), 1])  # A4
    440.0
    """
    y, sr = _check_audio(y, sr)
    power = _check_power(power)
    if scale not in ("librosa", "amplitude"):
        raise ValueError(f"scale={scale!r} must be 'librosa' or 'amplitude'.")
    hop_length, fmin, n_bins, bins_per_octave, freqs = _check_cqt_params(
        sr, hop_length, fmin, n_bins, bins_per_octave
    )
    if backend == "librosa":
        with _librosa_errors(), warnings.catch_warnings():
            # librosa's multi-rate CQT takes STFTs of the signal downsampled
            # once per octave; on short signals these are shorter than its
            # internal n_fft and it warns about its own call. The zero padding
            # it then uses is the same as at the signal's ends.
            warnings.filterwarnings("ignore", message="n_fft=.* is too large for input")
            C = np.abs(
                librosa.cqt(
                    y,
                    sr=sr,
                    hop_length=hop_length,
                    fmin=fmin,
                    n_bins=n_bins,
                    bins_per_octave=bins_per_octave,
                )
            )
    elif backend == "nnaudio":
        C = _nnaudio_cqt(
            y, sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins,
            bins_per_octave=bins_per_octave, device=device,
        )
    else:
        raise ValueError(f"backend={backend!r} must be 'librosa' or 'nnaudio'.")
    if scale == "amplitude":  # a unit sinusoid reads sqrt(length) / 2 in its bin
        lengths, _ = librosa.filters.wavelet_lengths(
            freqs=freqs, sr=sr, window="hann", gamma=0.0,
            alpha=np.full(n_bins, _relative_bandwidth(bins_per_octave)),
        )
        C = C * (2.0 / np.sqrt(lengths))[:, None]
    C = C.astype(np.result_type(y.dtype, np.float32), copy=False)
    times = librosa.frames_to_time(np.arange(C.shape[1]), sr=sr, hop_length=hop_length)
    return grid_to_points(C**power, times, freqs)


# ---------------------------------------------------------------------------
# Irregular points


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
    y : ndarray of shape (n_samples,)
        Mono audio, real and finite.
    sr : float
        Sampling rate in Hz.
    n_fft : int, default=2048
        FFT length in samples, ``2 <= n_fft <= n_samples``.
    hop_length : int, default=None
        Samples between frames; ``None`` means ``win_length // 4``.
    win_length : int, default=None
        Window length, ``<= n_fft``; ``None`` means ``n_fft``.
    window : str, tuple, number, callable or ndarray, default="hann"
        Any window :func:`librosa.stft` accepts.
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
    y : ndarray of shape (n_samples,)
        Mono audio, real and finite.
    sr : float
        Sampling rate in Hz.
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


_REPRESENTATIONS = {
    "stft": stft_points,
    "cqt": cqt_points,
    "reassigned": reassigned_points,
    "sinusoidal": sinusoidal_points,
}


def hybrid_points(y, *, sr, segments):
    """Different representations over different time spans, concatenated.

    Each representation is computed on the whole signal, so that times are
    absolute and spans start without edge effects, and only its points with
    ``t_start <= t < t_end`` are kept. This is the mixed input of Fig. 3 of the
    iN-NMF paper: a short STFT for the attacks, sinusoidal peaks, then a CQT.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Mono audio, real and finite.
    sr : float
        Sampling rate in Hz.
    segments : sequence of (t_start, t_end, representation, kwargs)
        ``t_start < t_end`` in seconds (``t_end`` may be ``np.inf``);
        ``representation`` is one of ``"stft"``, ``"cqt"``, ``"reassigned"``,
        ``"sinusoidal"`` or a callable ``f(y, sr=sr, **kwargs)`` returning a
        point array (such as :func:`stft_points`); ``kwargs`` is a dict of its
        parameters (or ``None``). Spans must not overlap; gaps are allowed.

    Returns
    -------
    X : ndarray of shape (n_points, 3)
        The kept points of each segment, in the order of ``segments``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.representations import hybrid_points
    >>> sr = 8000
    >>> y = np.sin(2 * np.pi * 440.0 * np.arange(sr) / sr)
    >>> X = hybrid_points(y, sr=sr, segments=[
    ...     (0.0, 0.5, "stft", {"n_fft": 256}),
    ...     (0.5, np.inf, "sinusoidal", {"n_fft": 1024, "max_peaks": 1}),
    ... ])
    >>> bool(X[X[:, 0] >= 0.5, 1].std() < 1.0)  # one peak per frame after 0.5 s
    True
    """
    y, sr = _check_audio(y, sr)
    if isinstance(segments, (str, bytes)) or not hasattr(segments, "__len__"):
        raise ValueError(
            "segments must be a list of (t_start, t_end, representation, kwargs), "
            f"got {segments!r}."
        )
    if len(segments) == 0:
        raise ValueError("segments is empty; give at least one (t_start, t_end, "
                         "representation, kwargs).")
    parsed = []
    for i, segment in enumerate(segments):
        if not isinstance(segment, (tuple, list)) or len(segment) != 4:
            raise ValueError(
                f"segments[{i}]={segment!r} must be (t_start, t_end, representation, "
                "kwargs)."
            )
        t_start, t_end, func, kwargs = segment
        if not (
            isinstance(t_start, numbers.Real)
            and isinstance(t_end, numbers.Real)
            and np.isfinite(t_start)
            and 0 <= t_start < t_end
        ):
            raise ValueError(
                f"segments[{i}] spans [t_start={t_start!r}, t_end={t_end!r}); "
                "need 0 <= t_start < t_end."
            )
        if isinstance(func, str):
            if func not in _REPRESENTATIONS:
                raise ValueError(
                    f"segments[{i}] has representation={func!r}; use one of "
                    f"{sorted(_REPRESENTATIONS)} or a callable."
                )
            func = _REPRESENTATIONS[func]
        elif not callable(func):
            raise ValueError(
                f"segments[{i}] has representation={func!r}, neither a name nor a "
                "callable."
            )
        kwargs = {} if kwargs is None else dict(kwargs)
        parsed.append((float(t_start), float(t_end), func, kwargs))

    order = sorted(range(len(parsed)), key=lambda i: parsed[i][0])
    for i, j in zip(order[:-1], order[1:]):
        if parsed[j][0] < parsed[i][1]:
            raise ValueError(
                f"segments[{i}] [{parsed[i][0]:g}, {parsed[i][1]:g}) and segments[{j}] "
                f"[{parsed[j][0]:g}, {parsed[j][1]:g}) overlap; spans must be disjoint."
            )

    parts = []
    for t_start, t_end, func, kwargs in parsed:
        X = np.asarray(func(y, sr=sr, **kwargs))
        if X.ndim != 2 or X.shape[1] != 3:
            raise ValueError(
                f"{getattr(func, '__name__', func)} returned shape={X.shape}, not an "
                "(n_points, 3) point array."
            )
        parts.append(X[(X[:, 0] >= t_start) & (X[:, 0] < t_end)])
    return np.concatenate(parts, axis=0)


# ---------------------------------------------------------------------------
# The way back


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
    y : ndarray of shape (n_samples,)
        Mono audio, real and finite.
    sr : float
        Sampling rate in Hz.
    n_fft : int, default=2048
        FFT length in samples, ``2 <= n_fft <= n_samples``.
    hop_length : int, default=None
        Samples between frames; ``None`` means ``win_length // 4``.
    win_length : int, default=None
        Window length, ``<= n_fft``; ``None`` means ``n_fft``.
    window : str, tuple, number, callable or ndarray, default="hann"
        Any window :func:`librosa.stft` accepts.
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
