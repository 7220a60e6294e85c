"""Synthesised signals: piano-like notes, FM tones, harmonic "voices" with formants,
and 0 dB mixtures of two sources.

Every signal here is computed, never downloaded, and is deterministic given
``random_state`` (an int, a :class:`numpy.random.RandomState`, or ``None`` for
fresh randomness, as in scikit-learn). Signal functions return ``(y, sr)``
like :func:`librosa.load`: a 1-D float64 waveform and its sampling rate.
"""

import librosa
import numpy as np
from sklearn.utils import check_random_state

from ._checks import _check_count, _check_positive, _check_sr, _n_samples


def _piano_note(f0, n, sr, rng, *, n_partials, inharmonicity, decay):
    """One piano-like note: inharmonic partials with exponential decay."""
    t = np.arange(n) / sr
    k = np.arange(1, n_partials + 1)[:, None]
    freqs = k * f0 * np.sqrt(1.0 + inharmonicity * k**2)
    # Higher partials are weaker and die away faster, as on a struck string.
    amps = (1.0 / k) * rng.uniform(0.8, 1.2, size=(n_partials, 1))
    amps = np.where(freqs < 0.95 * sr / 2, amps, 0.0)
    phases = rng.uniform(0, 2 * np.pi, size=(n_partials, 1))
    envelopes = np.exp(-t / decay * np.sqrt(k))
    attack = np.minimum(1.0, t / 0.005)  # 5 ms onset ramp, no click
    return attack * np.sum(amps * envelopes * np.sin(2 * np.pi * freqs * t + phases), 0)


def piano_notes(
    notes=("A3", "E4"),
    *,
    sr=16000,
    note_duration=0.6,
    together=True,
    n_partials=8,
    inharmonicity=4e-4,
    decay=0.4,
    random_state=None,
    return_spans=False,
):
    """Piano-like notes, one after the other, then all together.

    Each note is a sum of ``n_partials`` inharmonic partials
    ``f_n = n f0 sqrt(1 + B n^2)`` (``B = inharmonicity``) with amplitude
    ``1 / n`` (times a random factor in [0.8, 1.2]), a random phase and an
    exponential decay of time constant ``decay / sqrt(n)`` seconds. This is the
    signal of Fig. 3 of the iN-NMF paper: two notes alone, then the chord.

    Note ``i`` (counting from 0) sounds alone in
    ``[i * note_duration, (i + 1) * note_duration)`` seconds; with
    ``together=True`` all notes then sound in
    ``[len(notes) * note_duration, (len(notes) + 1) * note_duration)``.
    ``return_spans=True`` also returns these spans.

    Parameters
    ----------
    notes : sequence of str or float, default=("A3", "E4")
        Note names (as :func:`librosa.note_to_hz` reads them) or fundamental
        frequencies in Hz.
    sr : int, default=16000
        Sampling rate in Hz.
    note_duration : float, default=0.6
        Length of each note (and of the chord) in seconds.
    together : bool, default=True
        Whether to end with all notes played at once.
    n_partials : int, default=8
        Number of partials per note; those above 0.95 * sr / 2 are left out.
    inharmonicity : float, default=4e-4
        The string's inharmonicity coefficient ``B >= 0``.
    decay : float, default=0.4
        Decay time constant of the fundamental, in seconds.
    random_state : int, RandomState instance or None, default=None
        Draws the partials' phases and amplitude factors.
    return_spans : bool, default=False
        Whether to return the time span of each note and of the chord.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The waveform, float64, peak amplitude 0.9. ``n_samples`` is
        ``round((len(notes) + together) * note_duration * sr)``.
    sr : int
        The sampling rate.
    spans : list of (str, float, float)
        Only if ``return_spans=True``: ``(label, t_start, t_end)`` for each
        note, then ``("+".join(labels), t_start, t_end)`` for the chord.

    Examples
    --------
    >>> from sklearn_innmf.datasets import piano_notes
    >>> y, sr, spans = piano_notes(random_state=0, return_spans=True)
    >>> y.shape, sr
    ((28800,), 16000)
    >>> spans[-1]
    ('A3+E4', 1.2, 1.8)
    """
    sr = _check_sr(sr)
    note_duration = _check_positive("note_duration", note_duration)
    decay = _check_positive("decay", decay)
    if isinstance(notes, (str, float, int)):
        notes = (notes,)
    notes = tuple(notes)
    if len(notes) == 0:
        raise ValueError("notes=() is empty; give at least one note.")
    n_partials = _check_count("n_partials", n_partials)
    if not np.isfinite(inharmonicity) or inharmonicity < 0:
        raise ValueError(f"inharmonicity={inharmonicity!r} must be >= 0.")
    f0s = []
    for note in notes:
        f0 = librosa.note_to_hz(note) if isinstance(note, str) else float(note)
        if not np.isfinite(f0) or f0 <= 0 or f0 >= sr / 2:
            raise ValueError(
                f"notes contains {note!r} with fundamental {f0} Hz, outside "
                f"(0, sr / 2) = (0, {sr / 2})."
            )
        f0s.append(float(f0))
    labels = [n if isinstance(n, str) else f"{float(n):g}Hz" for n in notes]

    rng = check_random_state(random_state)
    n_note = _n_samples(note_duration, sr, "note_duration")
    kwargs = dict(n_partials=n_partials, inharmonicity=inharmonicity, decay=decay)
    parts = [_piano_note(f0, n_note, sr, rng, **kwargs) for f0 in f0s]
    # Spans from sample counts: the times at which the samples really change.
    spans = [(label, i * n_note / sr, (i + 1) * n_note / sr) for i, label in enumerate(labels)]
    if together:
        parts.append(sum(_piano_note(f0, n_note, sr, rng, **kwargs) for f0 in f0s))
        n = len(f0s)
        spans.append(("+".join(labels), n * n_note / sr, (n + 1) * n_note / sr))
    y = np.concatenate(parts)
    y *= 0.9 / np.max(np.abs(y))
    return (y, sr, spans) if return_spans else (y, sr)


def fm_tone(*, sr=16000, duration=1.0, f0=440.0, depth=50.0, rate=4.0, amplitude=0.5):
    """A frequency-modulated sinusoid (vibrato), as in Fig. 1 of the paper.

    The instantaneous frequency is ``f0 + depth * sin(2 pi rate t)`` Hz.

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate in Hz.
    duration : float, default=1.0
        Length in seconds.
    f0 : float, default=440.0
        Centre frequency in Hz.
    depth : float, default=50.0
        Peak frequency deviation in Hz, ``0 <= depth < f0``.
    rate : float, default=4.0
        Modulation rate in Hz.
    amplitude : float, default=0.5
        Peak amplitude.

    Returns
    -------
    y : ndarray of shape (round(duration * sr),)
        The waveform, float64.
    sr : int
        The sampling rate.

    Examples
    --------
    >>> from sklearn_innmf.datasets import fm_tone
    >>> y, sr = fm_tone(duration=0.5)
    >>> y.shape
    (8000,)
    """
    sr = _check_sr(sr)
    duration = _check_positive("duration", duration)
    f0 = _check_positive("f0", f0)
    rate = _check_positive("rate", rate)
    amplitude = _check_positive("amplitude", amplitude)
    if not np.isfinite(depth) or depth < 0 or depth >= f0:
        raise ValueError(f"depth={depth!r} must be in [0, f0={f0}).")
    if f0 + depth >= sr / 2:
        raise ValueError(
            f"f0 + depth = {f0 + depth} Hz reaches the Nyquist frequency sr / 2 = "
            f"{sr / 2}; lower f0 or depth, or raise sr."
        )
    t = np.arange(_n_samples(duration, sr)) / sr
    # Phase is the integral of the instantaneous frequency.
    phase = 2 * np.pi * f0 * t + depth / rate * (1 - np.cos(2 * np.pi * rate * t))
    return amplitude * np.sin(phase), sr


def _formant_weights(freqs, formants, bandwidths):
    """Sum of resonance peaks (Lorentzian in frequency) at ``formants``."""
    f = freqs[..., None]
    return np.sum(1.0 / (1.0 + ((f - formants) / (bandwidths / 2)) ** 2), -1)


def harmonic_source(
    *,
    sr=16000,
    duration=1.0,
    f0=(140.0, 200.0),
    vibrato_depth=0.03,
    vibrato_rate=5.0,
    n_harmonics=30,
    formants=(700.0, 1200.0, 2600.0),
    formant_bandwidths=(130.0, 150.0, 250.0),
    syllable_rate=3.0,
    random_state=None,
):
    """A speech-like harmonic source with moving pitch and formants.

    The pitch glides linearly (on a log scale) from ``f0[0]`` to ``f0[1]``
    with a relative vibrato ``vibrato_depth``; harmonic ``k`` has the
    amplitude of a formant envelope (resonances at ``formants``) at its
    instantaneous frequency ``k f(t)``, so the spectral envelope stays put
    while the harmonics move through it, as in a voiced vowel. A syllable-like
    envelope at ``syllable_rate`` Hz opens and closes the voice. Harmonics fade
    out between 0.85 and 0.95 of the Nyquist frequency ``sr / 2``. Two calls
    with different ``f0`` and ``formants`` give two distinguishable "speakers"
    for separation tests.

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate in Hz.
    duration : float, default=1.0
        Length in seconds.
    f0 : float or (float, float), default=(140.0, 200.0)
        Fundamental frequency in Hz: constant, or the start and end of a glide.
    vibrato_depth : float, default=0.03
        Relative peak deviation of the pitch (0.03 is 3%).
    vibrato_rate : float, default=5.0
        Vibrato rate in Hz.
    n_harmonics : int, default=30
        Number of harmonics.
    formants : sequence of float, default=(700.0, 1200.0, 2600.0)
        Resonance frequencies in Hz.
    formant_bandwidths : sequence of float, default=(130.0, 150.0, 250.0)
        Resonance bandwidths in Hz, one per formant.
    syllable_rate : float or None, default=3.0
        Rate of the raised-cosine amplitude envelope in Hz; ``None`` for a
        steady tone.
    random_state : int, RandomState instance or None, default=None
        Draws the harmonics' phases and the vibrato phase.

    Returns
    -------
    y : ndarray of shape (round(duration * sr),)
        The waveform, float64, peak amplitude 0.9.
    sr : int
        The sampling rate.

    Examples
    --------
    >>> from sklearn_innmf.datasets import harmonic_source
    >>> y, sr = harmonic_source(duration=0.5, random_state=0)
    >>> y.shape, float(abs(y).max())
    ((8000,), 0.9)
    """
    sr = _check_sr(sr)
    duration = _check_positive("duration", duration)
    f0 = np.atleast_1d(np.asarray(f0, dtype=float))
    if f0.shape not in ((1,), (2,)) or not np.all(np.isfinite(f0)) or np.any(f0 <= 0):
        raise ValueError(
            f"f0={f0.tolist()} must be one positive frequency or a (start, end) pair."
        )
    if np.any(f0 >= sr / 2):
        raise ValueError(f"f0={f0.tolist()} must stay below sr / 2 = {sr / 2}.")
    if not 0 <= vibrato_depth < 1:
        raise ValueError(f"vibrato_depth={vibrato_depth!r} must be in [0, 1).")
    vibrato_rate = _check_positive("vibrato_rate", vibrato_rate)
    n_harmonics = _check_count("n_harmonics", n_harmonics)
    formants = np.asarray(formants, dtype=float).ravel()
    bandwidths = np.asarray(formant_bandwidths, dtype=float).ravel()
    if formants.shape != bandwidths.shape or formants.size == 0:
        raise ValueError(
            f"formants has {formants.size} value(s) and formant_bandwidths "
            f"{bandwidths.size}; give one bandwidth per formant (at least one)."
        )
    if np.any(formants <= 0) or np.any(bandwidths <= 0):
        raise ValueError("formants and formant_bandwidths must be positive.")
    if syllable_rate is not None:
        syllable_rate = _check_positive("syllable_rate", syllable_rate)

    rng = check_random_state(random_state)
    n = _n_samples(duration, sr)
    t = np.arange(n) / sr
    glide = f0[0] * (f0[-1] / f0[0]) ** (t / duration)
    vibrato = 1 + vibrato_depth * np.sin(
        2 * np.pi * vibrato_rate * t + rng.uniform(0, 2 * np.pi)
    )
    inst_f0 = glide * vibrato
    phase = 2 * np.pi * np.cumsum(inst_f0) / sr
    k = np.arange(1, n_harmonics + 1)[:, None]
    inst_freqs = k * inst_f0  # (n_harmonics, n_samples)
    # A small floor keeps harmonics between formants audible, as in real voices.
    amps = _formant_weights(inst_freqs, formants, bandwidths) + 0.05
    # Fade harmonics out between 0.85 and 0.95 of Nyquist: no aliasing, and no
    # clicks when vibrato moves a harmonic across the limit.
    fade = np.clip((0.95 - inst_freqs / (sr / 2)) / 0.1, 0.0, 1.0)
    amps = amps * fade / np.sqrt(k)
    phases = rng.uniform(0, 2 * np.pi, size=(n_harmonics, 1))
    y = np.sum(amps * np.sin(k * phase + phases), 0)
    if syllable_rate is not None:
        y *= 0.55 - 0.45 * np.cos(2 * np.pi * syllable_rate * t)
    y *= 0.9 / np.max(np.abs(y))
    return y, sr


def _check_signal(name, s):
    s = np.asarray(s)
    if s.ndim != 1:
        raise ValueError(f"{name} must be a 1-D waveform, got shape={s.shape}.")
    if not np.issubdtype(s.dtype, np.floating):
        if np.iscomplexobj(s) or not np.issubdtype(s.dtype, np.number):
            raise ValueError(f"{name} must be real, got dtype={s.dtype}.")
        s = s.astype(float)
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return s


def two_source_mixture(s1, s2, *, snr_db=0.0):
    """Mix two sources at a given signal-to-noise ratio.

    ``s1`` is kept as it is and ``s2`` is scaled so that
    ``10 log10(sum(s1**2) / sum(s2_scaled**2)) == snr_db``.

    Parameters
    ----------
    s1, s2 : array-like of shape (n_samples,)
        The two sources, of the same length, neither silent.
    snr_db : float, default=0.0
        Level of ``s1`` over ``s2`` in dB (0 dB: equal energy).

    Returns
    -------
    mixture : ndarray of shape (n_samples,)
        ``s1 + s2_scaled``.
    s1 : ndarray of shape (n_samples,)
        The first source, unchanged.
    s2_scaled : ndarray of shape (n_samples,)
        The second source at the requested level.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.datasets import harmonic_source, two_source_mixture
    >>> s1, sr = harmonic_source(f0=(120.0, 150.0), random_state=0)
    >>> s2, sr = harmonic_source(f0=(220.0, 180.0), formants=(400.0, 2000.0, 2800.0),
    ...                          random_state=1)
    >>> mix, s1, s2 = two_source_mixture(s1, s2, snr_db=6.0)
    >>> round(float(10 * np.log10(np.sum(s1**2) / np.sum(s2**2))), 6)
    6.0
    """
    s1 = _check_signal("s1", s1)
    s2 = _check_signal("s2", s2)
    if s1.shape != s2.shape:
        raise ValueError(
            f"s1 and s2 must have the same length, got len(s1)={s1.size} and "
            f"len(s2)={s2.size}."
        )
    if not np.isscalar(snr_db) or not np.isfinite(snr_db):
        raise ValueError(f"snr_db={snr_db!r} must be a finite number.")
    e1, e2 = np.sum(s1.astype(float) ** 2), np.sum(s2.astype(float) ** 2)
    for name, e in (("s1", e1), ("s2", e2)):
        if e == 0:
            raise ValueError(f"{name} is silent (all zeros): its level is undefined.")
    gain = np.sqrt(e1 / e2 * 10 ** (-snr_db / 10))
    s2_scaled = (gain * s2).astype(np.result_type(s2.dtype, s1.dtype))
    return s1 + s2_scaled, s1, s2_scaled


# ---------------------------------------------------------------------------
# A drum loop, and drums mixed with a line of notes

_DEFAULT_PATTERN = {"kick": "x...x.x.", "snare": "..x...x.", "hihat": "xxxxxxxx"}
