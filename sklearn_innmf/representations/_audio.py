"""What the representations share: checks of audio and parameters (messages that
name the argument), the STFT and its frame times, the dB floor.
"""

import contextlib
import numbers

import librosa
import numpy as np

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
