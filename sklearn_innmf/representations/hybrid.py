"""Hybrid point arrays (:func:`hybrid_points`): different representations over
different time spans of one signal, concatenated (paper Fig. 3).
"""

import numbers

import numpy as np

from .._docstrings import fill_doc
from ._audio import _check_audio
from .cqt import cqt_points
from .reassigned import reassigned_points
from .sinusoidal import sinusoidal_points
from .stft import stft_points


@fill_doc
def hybrid_points(y, *, sr, segments):
    """Different representations over different time spans, concatenated.

    Each representation is computed on the whole signal, so that times are
    absolute and spans start without edge effects, and only its points with
    ``t_start <= t < t_end`` are kept. This is the mixed input of Fig. 3 of the
    iN-NMF paper: a short STFT for the attacks, sinusoidal peaks, then a CQT.

    Parameters
    ----------
    %(audio)s
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


_REPRESENTATIONS = {
    "stft": stft_points,
    "cqt": cqt_points,
    "reassigned": reassigned_points,
    "sinusoidal": sinusoidal_points,
}
