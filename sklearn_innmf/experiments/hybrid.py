"""The hybrid representation of the paper (Fig. 3): two piano-like notes seen
through a short STFT, then sinusoidal peaks, then a constant-Q transform,
factorised by one small :class:`~sklearn_innmf.ImplicitNMF`.
"""

import numpy as np
from sklearn.utils import Bunch

from ..datasets.synthetic import piano_notes
from ..models.implicit import ImplicitNMF
from ..representations.cqt import cqt_points
from ..representations.hybrid import hybrid_points
from ..representations.sinusoidal import sinusoidal_points
from ..representations.stft import stft_points

#: Fundamentals (Hz) of the two notes of :func:`hybrid_piano_points`.
PIANO_F0 = {"A3": 220.0, "E4": 329.63}

# A small, smooth template network (see examples/plot_hybrid_representation.py)
_SMALL_NETWORK = dict(
    encoding_size=8, hidden_size=16, n_layers=2, time_factor="table", learning_rate=1e-2
)

# The CQT of the piano experiments: 36 bins per octave from 110 Hz (5 octaves)
_PIANO_CQT = dict(fmin=110.0, n_bins=180, bins_per_octave=36)


def small_implicit_nmf(n_components=2, *, max_iter=500, tol=0.0, random_state=0, **params):
    """The ImplicitNMF of the piano experiments: a small, smooth template network.

    ``encoding_size=8``, ``hidden_size=16``, ``n_layers=2`` (instead of the
    defaults 6, 64 and 4: a narrower, shallower network with somewhat finer
    Fourier features), table activations (a free value per frame) and an
    initial Rprop step of ``1e-2``. A small network interpolates smoothly
    between the frequencies it was trained on, so its templates can be
    sampled between the bins of another representation (sinusoidal peaks, a
    CQT), and peak at a note's fundamental rather than at a spike.

    It trains for a fixed number of steps (``tol=0``, so reaching
    ``max_iter`` is not reported as a failure to converge): the number of
    steps is its regulariser. On the hybrid piano points
    (:func:`hybrid_piano_points`) the loss keeps falling slowly for about
    5000 steps before it stops on ``tol=1e-4`` (mean KL 1.59e-3 after 500,
    1.20e-3 after 5000), while the templates overfit: both templates peak
    within 3% of their notes' fundamentals for 5 of random_state 0-4 after
    500 steps, 2 of 5 after 1000 and 1 of 5 after 2000 (the others move
    their strongest peak to a partial, an octave or more up).

    Parameters
    ----------
    n_components : int, default=2
        Number of components.
    max_iter : int, default=500
        Training steps.
    tol : float, default=0.0
        ``ImplicitNMF``'s tolerance; 0 trains for exactly ``max_iter`` steps
        (see above).
    random_state : int, RandomState instance or None, default=0
        Seed of the networks' initialisation.
    **params
        Any other :class:`~sklearn_innmf.ImplicitNMF` parameter, overriding
        the settings above.

    Returns
    -------
    estimator : ImplicitNMF
        Not fitted.

    Examples
    --------
    >>> from sklearn_innmf.experiments import small_implicit_nmf
    >>> est = small_implicit_nmf(max_iter=100, device="cpu")
    >>> est.hidden_size, est.time_factor, est.max_iter, est.tol
    (16, 'table', 100, 0.0)
    """
    settings = dict(_SMALL_NETWORK, max_iter=max_iter, tol=tol, random_state=random_state)
    settings.update(params)
    return ImplicitNMF(n_components, **settings)


def in_sine_units(representation, *, reference_hz=1000.0):
    """A representation in "amplitude of the sinusoid here" units.

    Each representation measures the energy near ``(t, f)`` in its own unit
    (an STFT peak grows with the window length, for instance). The returned
    function divides the representation's magnitudes by the largest magnitude
    it gives for a sinusoid of amplitude 1 at ``reference_hz`` (one second
    long, same ``sr`` and parameters), so that different analyses of one
    signal can be mixed in one point array.

    Parameters
    ----------
    representation : callable
        ``representation(y, sr=sr, **kwargs)`` returning a point array whose
        last column is the magnitude, such as
        :func:`~sklearn_innmf.representations.stft_points`.
    reference_hz : float, default=1000.0
        Frequency of the reference sinusoid. For a CQT that is not
        ``scale="amplitude"`` the result depends on it.

    Returns
    -------
    points : callable
        ``points(y, sr=sr, **kwargs)``, the same points with rescaled
        magnitudes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.experiments import in_sine_units
    >>> from sklearn_innmf.representations import stft_points
    >>> sr = 8000
    >>> y = 0.5 * np.sin(2 * np.pi * 1000.0 * np.arange(sr) / sr)
    >>> X = in_sine_units(stft_points)(y, sr=sr, n_fft=256)
    >>> round(float(X[:, 2].max()), 3)  # the amplitude of the sinusoid
    0.5
    """

    def points(y, *, sr, **kwargs):
        X = representation(y, sr=sr, **kwargs)
        tone = np.sin(2 * np.pi * reference_hz * np.arange(int(sr)) / sr)
        X[:, 2] /= representation(tone, sr=sr, **kwargs)[:, 2].max()
        return X

    points.__name__ = f"{getattr(representation, '__name__', 'points')}_in_sine_units"
    return points


def hybrid_piano_points(
    *, sr=16000, power=0.5, hop_length=256, boundaries=(1.2, 1.5), random_state=0
):
    """Two piano-like notes as a hybrid of STFT, sinusoidal peaks and CQT.

    The signal of Fig. 3 of the iN-NMF paper: A3 (220 Hz) alone, E4
    (329.6 Hz) alone, then both, 0.6 s each
    (:func:`~sklearn_innmf.datasets.piano_notes`). Its points come from three
    representations over three time spans
    (:func:`~sklearn_innmf.representations.hybrid_points`), all with the same
    hop, all in :func:`in_sine_units` and as ``|X| ** power``:

    * ``[0, boundaries[0])``: an STFT of 1024 samples, a full grid of 513
      frequencies per frame (both solo notes, which pins the templates down:
      peaks alone never say where energy is *not*);
    * ``[boundaries[0], boundaries[1])``: sinusoidal peaks of a 2048-sample
      analysis, at interpolated frequencies between the bins;
    * ``[boundaries[1], end)``: a CQT with 36 bins per octave from 110 Hz
      (``scale="amplitude"``: no ``1 / sqrt(f)`` tilt), log-spaced bins.

    Parameters
    ----------
    sr : int, default=16000
        Sampling rate in Hz.
    power : float, default=0.5
        Magnitude exponent (0.5 as in the paper).
    hop_length : int, default=256
        Hop of all three representations, so that their frames share times.
    boundaries : (float, float), default=(1.2, 1.5)
        Times in seconds where the STFT gives way to peaks, and the peaks to
        the CQT.
    random_state : int, RandomState instance or None, default=0
        Seed of :func:`~sklearn_innmf.datasets.piano_notes`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X`` (n_points, 3) the hybrid points; ``y`` and ``sr`` the
        waveform; ``spans`` the ``(label, t_start, t_end)`` of each note and
        of the chord; ``segments`` the ``(name, t_start, t_end)`` of each
        representation; ``f0`` the notes' fundamentals.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.experiments import hybrid_piano_points
    >>> data = hybrid_piano_points()
    >>> [name for name, _, _ in data.segments]
    ['STFT', 'sinusoidal peaks', 'CQT']
    >>> cqt = data.X[data.X[:, 0] >= 1.5]
    >>> len(np.unique(cqt[:, 1]))  # the CQT's bins
    180
    """
    y, sr, spans = piano_notes(("A3", "E4"), sr=sr, random_state=random_state,
                               return_spans=True)
    first, second = boundaries
    stft = {"n_fft": 1024, "hop_length": hop_length, "power": power}
    peaks = {"n_fft": 2048, "hop_length": hop_length, "power": power}
    cqt = dict(_PIANO_CQT, hop_length=hop_length, power=power, scale="amplitude")
    segments = [
        ("STFT", 0.0, first, stft_points, stft),
        ("sinusoidal peaks", first, second, sinusoidal_points, peaks),
        ("CQT", second, np.inf, cqt_points, cqt),
    ]
    X = hybrid_points(y, sr=sr, segments=[
        (start, end, in_sine_units(func), kwargs) for _, start, end, func, kwargs in segments
    ])
    return Bunch(
        X=X, y=y, sr=sr, spans=spans, segments=[s[:3] for s in segments], f0=dict(PIANO_F0)
    )


def hybrid_summary(estimator, data, *, margin=0.05):
    """What a 2-component model of :func:`hybrid_piano_points` learned, per component.

    Each component is named after the note in whose solo span its activation
    is highest (a comparison within one component, so the scale traded
    between templates and activations does not matter). Activations are
    averaged over each span, ``margin`` seconds away from its ends (where
    frames overlap two parts); templates are sampled every 0.5 Hz from 50 to
    4000 Hz, between the bins of any representation.

    Parameters
    ----------
    estimator : fitted estimator
        With ``templates(freqs)`` and ``activations(times)``, fitted on
        ``data.X``.
    data : Bunch
        The result of :func:`hybrid_piano_points`.
    margin : float, default=0.05
        Seconds left out at each end of a span.

    Returns
    -------
    components : list of :class:`~sklearn.utils.Bunch`
        One per component: ``note`` (the note it follows), ``peak`` (Hz, the
        template's strongest peak), ``peak_error`` (``peak / f0 - 1`` for
        that note's fundamental), ``contrast`` (mean activation while its
        note sounds alone over that while the other does), ``chord`` (mean
        activation in the chord over that in its solo) and ``levels`` (span
        label -> mean activation).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_innmf.experiments import hybrid_summary
    >>> class TwoNotes:  # stands in for a fitted estimator
    ...     def templates(self, f):
    ...         return np.exp(-((f[:, None] - [220.0, 329.63]) / 5.0) ** 2)
    ...     def activations(self, t):
    ...         return np.column_stack([(t < 0.6) | (t > 1.2), t > 0.6]) + 0.01
    >>> data = Bunch(f0={"A3": 220.0, "E4": 329.63}, spans=[
    ...     ("A3", 0.0, 0.6), ("E4", 0.6, 1.2), ("A3+E4", 1.2, 1.8)])
    >>> [(c.note, float(c.peak), round(float(c.contrast))) for c in hybrid_summary(
    ...     TwoNotes(), data)]
    [('A3', 220.0, 101), ('E4', 329.5, 101)]
    """
    spans = data.spans
    levels = {
        label: np.asarray(estimator.activations(
            np.linspace(start + margin, end - margin, 200))).mean(axis=0)
        for label, start, end in spans
    }
    solos = [label for label, _, _ in spans[:2]]
    chord = spans[-1][0]
    freqs = np.linspace(50.0, 4000.0, 7901)
    W = np.asarray(estimator.templates(freqs))
    out = []
    for k in range(W.shape[1]):
        note, other = sorted(solos, key=lambda label: -levels[label][k])
        peak = float(freqs[np.argmax(W[:, k])])
        out.append(Bunch(
            note=note, peak=peak, peak_error=peak / data.f0[note] - 1,
            contrast=float(levels[note][k] / levels[other][k]),
            chord=float(levels[chord][k] / levels[note][k]),
            levels={label: float(v[k]) for label, v in levels.items()},
        ))
    return out


def plot_hybrid_factors(estimator, data, *, power=0.5, fig=None):
    """The layout of Fig. 3 of the paper: hybrid points, templates, activations.

    Top: the points of :func:`hybrid_piano_points`, each where it is
    (dashed: a change of representation). Bottom: the templates ``W_k(f)``,
    sampled at 600 log-spaced frequencies that need not be any
    representation's (dotted: the fundamentals), and the activations
    ``H_k(t)`` (grey: the chord), each component named after its note.

    Parameters
    ----------
    estimator : fitted estimator
        A 2-component model fitted on ``data.X``.
    data : Bunch
        The result of :func:`hybrid_piano_points`.
    power : float, default=0.5
        The magnitude exponent of ``data.X``.
    fig : matplotlib Figure, default=None
        Where to draw; None makes a new (10, 7) figure.

    Returns
    -------
    fig : matplotlib Figure
    """
    import matplotlib.pyplot as plt

    from ..plotting import plot_factors, plot_points

    if fig is None:
        fig = plt.figure(figsize=(10, 7), layout="constrained")
    freqs = np.geomspace(100, 4000, 600)
    times = np.linspace(data.X[:, 0].min(), data.X[:, 0].max(), 600)  # the frames' span
    top, bottom = fig.subfigures(2, 1)
    ax = top.subplots()
    plot_points(data.X, ax=ax, power=power, top_db=60.0, cmap="magma", marker_size=4.0)
    ax.set_ylim(100, 4000)
    ax_w, ax_h = bottom.subplots(1, 2)
    plot_factors(estimator, freqs=freqs, times=times, ax=(ax_w, ax_h))
    for label, f0 in data.f0.items():
        ax_w.axvline(f0, color="k", lw=0.6, ls=":")
        ax_w.text(f0, 0.97, f" {label}", va="top", transform=ax_w.get_xaxis_transform())
    for label, start, end in data.spans:
        ax_h.axvspan(start, end, color="0.92" if "+" in label else "w", zorder=0)
        ax_h.text((start + end) / 2, 0.97, label, ha="center", va="top",
                  transform=ax_h.get_xaxis_transform())
    for _, start, _ in data.segments[1:]:
        ax.axvline(start, color="0.3", lw=0.8, ls="--")
        ax_h.axvline(start, color="0.5", lw=0.8, ls="--")
    notes = [c.note for c in hybrid_summary(estimator, data)]
    ax_h.legend(ax_h.get_lines()[:len(notes)], [f"{k}: {n}" for k, n in enumerate(notes)],
                title="component", loc="center left", fontsize="small")
    return fig
