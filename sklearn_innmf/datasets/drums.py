"""A synthesised drum loop (kick, snare, hi-hat) and a drums + notes mixture, for
blind separation.
"""

import numpy as np
from sklearn.utils import check_random_state

from ._checks import _check_count, _check_positive, _check_sr, _n_samples
from .synthetic import _DEFAULT_PATTERN, piano_notes, two_source_mixture


def _kick(n, sr, rng):
    """A pitch-dropping sine: about 150 Hz falling to 50 Hz in ~0.1 s."""
    t = np.arange(n) / sr
    f_start = 150.0 * rng.uniform(0.95, 1.05)
    freq = 50.0 + (f_start - 50.0) * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    return np.exp(-t / 0.15) * np.sin(phase) * np.minimum(1.0, t / 0.002)


def _filtered_noise(n, sr, rng, cutoff, btype):
    """White noise through a 2nd-order Butterworth filter, peak 1."""
    from scipy.signal import butter, sosfilt

    sos = butter(2, cutoff, btype=btype, fs=sr, output="sos")
    y = sosfilt(sos, rng.standard_normal(n))
    return y / np.max(np.abs(y))


def _snare(n, sr, rng):
    """A band-passed noise burst over a decaying two-partial tone near 190 Hz."""
    t = np.arange(n) / sr
    nyquist = sr / 2
    noise = _filtered_noise(n, sr, rng, (1000.0, min(5000.0, 0.8 * nyquist)), "bandpass")
    f0 = 185.0 * rng.uniform(0.97, 1.03)
    tone = np.sin(2 * np.pi * f0 * t) + 0.5 * np.sin(2 * np.pi * 1.78 * f0 * t)
    return 0.7 * np.exp(-t / 0.07) * noise + 0.5 * np.exp(-t / 0.05) * tone


def _hihat(n, sr, rng):
    """A short burst of high-passed noise."""
    t = np.arange(n) / sr
    cutoff = min(7000.0, 0.7 * sr / 2)
    return 0.35 * np.exp(-t / 0.025) * _filtered_noise(n, sr, rng, cutoff, "highpass")


def drum_loop(
    *,
    sr=16000,
    duration=2.0,
    tempo=120.0,
    pattern=None,
    random_state=None,
    return_parts=False,
):
    """A synthesised drum loop: kick, snare and hi-hat on an eighth-note grid.

    * kick: a sine whose pitch drops from about 150 Hz to 50 Hz (time
      constant 30 ms), decaying in 0.15 s;
    * snare: a noise burst band-passed to 1-5 kHz (decay 70 ms) over a tone
      near 185 Hz with a partial at 1.78 times it (decay 50 ms);
    * hi-hat: noise high-passed at 7 kHz (at most 0.7 of the Nyquist
      frequency), decaying in 25 ms.

    Each hit has a random level in [0.75, 1] and its own noise, so two
    ``random_state`` give two performances of the same pattern.

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate in Hz, at least 4000.
    duration : float, default=2.0
        Length in seconds; the pattern repeats until then.
    tempo : float, default=120.0
        Quarter notes per minute; a step of the pattern is an eighth note
        (0.25 s at 120).
    pattern : dict of str to str, default=None
        ``{"kick": ..., "snare": ..., "hihat": ...}``: one string per
        instrument (any subset of the three), one character per eighth
        note, ``"x"`` for a hit and ``"."`` for a rest; all strings of one
        length. None is ``{"kick": "x...x.x.", "snare": "..x...x.",
        "hihat": "xxxxxxxx"}`` (one 4/4 bar).
    random_state : int, RandomState instance or None, default=None
        Draws the levels of the hits, the noise and small pitch changes.
    return_parts : bool, default=False
        Whether to return each instrument's track as well.

    Returns
    -------
    y : ndarray of shape (round(duration * sr),)
        The waveform, float64, peak amplitude 0.9.
    sr : int
        The sampling rate.
    parts : dict of str to ndarray
        Only if ``return_parts=True``: each instrument's track, at the scale
        of ``y`` (they sum to ``y``).

    Examples
    --------
    >>> from sklearn_innmf.datasets import drum_loop
    >>> y, sr, parts = drum_loop(duration=1.0, random_state=0, return_parts=True)
    >>> y.shape, sorted(parts)
    ((16000,), ['hihat', 'kick', 'snare'])
    """
    sr = _check_sr(sr)
    if sr < 4000:
        raise ValueError(f"sr={sr} is too low for a hi-hat; use sr >= 4000.")
    duration = _check_positive("duration", duration)
    tempo = _check_positive("tempo", tempo)
    pattern = dict(_DEFAULT_PATTERN if pattern is None else pattern)
    voices = {"kick": _kick, "snare": _snare, "hihat": _hihat}
    if not pattern or not set(pattern) <= set(voices):
        raise ValueError(
            f"pattern={pattern!r} must map some of {sorted(voices)} to strings of "
            "'x' (hit) and '.' (rest)."
        )
    lengths = {len(p) for p in pattern.values() if isinstance(p, str)}
    if (
        len(lengths) != 1
        or 0 in lengths
        or not all(isinstance(p, str) and set(p) <= {"x", "."} for p in pattern.values())
    ):
        raise ValueError(
            f"pattern={pattern!r}: every instrument needs a non-empty string of 'x' "
            "and '.', all of the same length."
        )
    n_steps = lengths.pop()
    rng = check_random_state(random_state)
    n = _n_samples(duration, sr)
    step = 60.0 / tempo / 2
    starts = np.arange(0.0, duration, step)
    lengths_s = {"kick": 0.45, "snare": 0.3, "hihat": 0.12}
    parts = {}
    for name in ("kick", "snare", "hihat"):
        if name not in pattern:
            continue
        track = np.zeros(n)
        for i, start in enumerate(starts):
            if pattern[name][i % n_steps] != "x":
                continue
            a = int(round(start * sr))
            m = min(int(lengths_s[name] * sr), n - a)
            if m <= 0:
                continue
            track[a : a + m] += rng.uniform(0.75, 1.0) * voices[name](m, sr, rng)
        parts[name] = track
    y = sum(parts.values())
    peak = np.max(np.abs(y))
    if peak == 0:
        raise ValueError(
            f"duration={duration!r} holds no hit of pattern={pattern!r}; make it longer."
        )
    gain = 0.9 / peak
    y = y * gain
    if return_parts:
        return y, sr, {name: track * gain for name, track in parts.items()}
    return y, sr


def drums_and_notes(
    *,
    sr=16000,
    notes=("C3", "G3", "A#3", "F3"),
    note_duration=0.5,
    repeats=1,
    snr_db=0.0,
    random_state=None,
):
    """A drum loop and a line of piano-like notes, mixed at a given level.

    The drums are :func:`drum_loop` at the tempo where one eighth note is
    ``note_duration / 2``; the notes are :func:`piano_notes` played one after
    the other (``together=False``, 10 partials), ``repeats`` times. They are
    mixed with :func:`two_source_mixture` (equal energy at ``snr_db=0``).

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate in Hz.
    notes : sequence of str or float, default=("C3", "G3", "A#3", "F3")
        The line's notes (names or Hz), one per ``note_duration``.
    note_duration : float, default=0.5
        Length of each note in seconds (a quarter note of the drums).
    repeats : int, default=1
        How many times the line (and the drums under it) is played.
    snr_db : float, default=0.0
        Level of the drums over the notes in dB.
    random_state : int, RandomState instance or None, default=None
        Draws the drums' and the notes' randomness.

    Returns
    -------
    mixture : ndarray of shape (n_samples,)
        Drums plus notes; ``n_samples = round(len(notes) * note_duration *
        sr) * repeats``.
    drums : ndarray of shape (n_samples,)
        The drums, as mixed.
    harmonic : ndarray of shape (n_samples,)
        The notes, as mixed.
    sr : int
        The sampling rate.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.datasets import drums_and_notes
    >>> mix, drums, harmonic, sr = drums_and_notes(random_state=0)
    >>> mix.shape, round(float(10 * np.log10(np.sum(drums**2) / np.sum(harmonic**2))), 6)
    ((32000,), 0.0)
    """
    sr = _check_sr(sr)
    note_duration = _check_positive("note_duration", note_duration)
    repeats = _check_count("repeats", repeats)
    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=2)
    line, _ = piano_notes(notes, sr=sr, note_duration=note_duration, together=False,
                          n_partials=10, random_state=int(seeds[1]))
    line = np.tile(line, repeats)
    drums, _ = drum_loop(sr=sr, duration=line.size / sr, tempo=60.0 / note_duration,
                         random_state=int(seeds[0]))
    drums = drums[: line.size]
    mixture, drums, line = two_source_mixture(drums, line, snr_db=snr_db)
    return mixture, drums, line, sr
