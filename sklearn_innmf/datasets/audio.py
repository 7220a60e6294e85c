"""Audio files in and out (soundfile): :func:`load_audio` (mono, resampled on
request) and :func:`save_audio`.
"""

import os

import librosa
import numpy as np
import soundfile

from ._checks import _check_sr
from .synthetic import _check_signal


def load_audio(path, *, sr=None, mono=True):
    """Read an audio file with soundfile, optionally resampled and downmixed.

    Parameters
    ----------
    path : str or path-like
        A file soundfile can read (WAV, FLAC, OGG, ...).
    sr : int or None, default=None
        Target sampling rate; ``None`` keeps the file's. Resampling uses
        :func:`librosa.resample`.
    mono : bool, default=True
        Average the channels into one.

    Returns
    -------
    y : ndarray of shape (n_samples,) or (n_channels, n_samples)
        float32 samples, channels first as in librosa; 1-D when ``mono``.
    sr : int
        The sampling rate of ``y``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file cannot be decoded or ``sr`` is not a positive integer.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_innmf.datasets import fm_tone, load_audio, save_audio
    >>> y, sr = fm_tone(duration=0.25)
    >>> path = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> save_audio(path, y, sr)
    >>> y2, sr2 = load_audio(path, sr=8000)
    >>> y2.shape, sr2
    ((2000,), 8000)
    """
    if sr is not None:
        sr = _check_sr(sr)
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No audio file at path={path!r}.")
    try:
        data, file_sr = soundfile.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.SoundFileError) as exc:
        raise ValueError(f"Cannot decode audio file path={path!r}: {exc}") from exc
    y = data.T  # (n_channels, n_samples)
    if mono:
        y = np.mean(y, axis=0)
    if sr is not None and sr != file_sr:
        y = librosa.resample(y, orig_sr=file_sr, target_sr=sr, axis=-1)
    else:
        sr = int(file_sr)
    return np.ascontiguousarray(y, dtype=np.float32), sr


def save_audio(path, y, sr, *, subtype=None):
    """Write a waveform to an audio file with soundfile.

    Parameters
    ----------
    path : str or path-like
        Output file; the format follows the extension (``.wav``, ``.flac``, ...).
    y : array-like of shape (n_samples,) or (n_channels, n_samples)
        Samples, channels first as in librosa.
    sr : int
        Sampling rate in Hz.
    subtype : str or None, default=None
        soundfile subtype. ``None`` writes 32-bit float where the format
        allows it (WAV), so that saving then loading is lossless, and the
        format's default (e.g. 16-bit PCM for FLAC) elsewhere.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_innmf.datasets import fm_tone, save_audio
    >>> y, sr = fm_tone(duration=0.1)
    >>> save_audio(os.path.join(tempfile.mkdtemp(), "tone.wav"), y, sr)
    """
    sr = _check_sr(sr)
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(
            f"y must be (n_samples,) or (n_channels, n_samples), got shape={y.shape}."
        )
    y = _check_signal("y", y.ravel()).reshape(y.shape)
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lstrip(".").upper()
    if fmt not in soundfile.available_formats():
        raise ValueError(
            f"path={path!r} has an extension soundfile cannot write; use one of "
            f"{sorted(f.lower() for f in soundfile.available_formats())}."
        )
    if subtype is None and soundfile.check_format(fmt, "FLOAT"):
        subtype = "FLOAT"
    soundfile.write(path, y.T, sr, subtype=subtype)
