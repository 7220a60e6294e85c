"""Constant-Q transform points (:func:`cqt_points`), by librosa or by nnAudio on the
estimator's device: a grid with log-spaced frequencies.
"""

import numbers
import warnings

import librosa
import numpy as np

from .._device import resolve_device
from .._docstrings import fill_doc
from ..points import grid_to_points
from ._audio import _check_audio, _check_int, _check_power, _librosa_errors


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


@fill_doc
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
    %(audio)s
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
