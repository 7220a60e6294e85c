"""Synthesised demo signals (nothing is downloaded) and audio files.

:mod:`~sklearn_innmf.datasets.synthetic` (piano-like notes, FM tones,
harmonic "voices", mixtures), :mod:`~sklearn_innmf.datasets.drums` (a
synthesised drum loop) and :mod:`~sklearn_innmf.datasets.audio` (reading and
writing files with soundfile).
"""

from .audio import load_audio, save_audio
from .drums import drum_loop, drums_and_notes
from .synthetic import fm_tone, harmonic_source, piano_notes, two_source_mixture

__all__ = [
    "piano_notes",
    "fm_tone",
    "harmonic_source",
    "two_source_mixture",
    "drum_loop",
    "drums_and_notes",
    "load_audio",
    "save_audio",
]
