"""Shared numpydoc entries, written once: ``@fill_doc`` puts them in a docstring.

A docstring line that holds only ``%(name)s`` is replaced by the entry
``name`` of :data:`DOCS`, indented as the placeholder is (the mechanism of
MNE-Python's ``fill_doc``). The rendered docstrings (``help()``, Sphinx) are
the full text.
"""

import re

__all__ = ["DOCS", "fill_doc"]

DOCS = {
    "audio": """\
y : ndarray of shape (n_samples,)
    Mono audio, real and finite.
sr : float
    Sampling rate in Hz.""",
    "stft_frames": """\
n_fft : int, default=2048
    FFT length in samples, ``2 <= n_fft <= n_samples``.
hop_length : int, default=None
    Samples between frames; ``None`` means ``win_length // 4``.
win_length : int, default=None
    Window length, ``<= n_fft``; ``None`` means ``n_fft``.
window : str, tuple, number, callable or ndarray, default="hann"
    Any window :func:`librosa.stft` accepts.""",
}

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.M)


def fill_doc(obj):
    """Replace each ``%(name)s`` line of ``obj.__doc__`` by ``DOCS[name]``."""

    def entry(match):
        if match["name"] not in DOCS:
            raise KeyError(f"{obj.__qualname__}: no shared docstring entry {match['name']!r}")
        indent = match["indent"]
        return "\n".join(indent + line if line else line for line in DOCS[match["name"]].split("\n"))

    if obj.__doc__:
        obj.__doc__ = _PLACEHOLDER.sub(entry, obj.__doc__)
    return obj
