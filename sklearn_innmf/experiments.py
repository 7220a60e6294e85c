"""The paper's experiments on synthesised signals, shared by the examples,
the tests, the benchmarks and ``python -m sklearn_innmf demo``.

* :func:`hybrid_piano_points`: two piano-like notes seen through a short
  STFT, then sinusoidal peaks, then a constant-Q transform (paper Fig. 3).
* :func:`piano_representations` and :func:`cross_representation_table`:
  models trained on one representation explaining the others with
  ``fit_activations`` (paper Fig. 4), as a matrix of KL divergences.
* :func:`synthetic_separation`: supervised separation of a 0 dB mixture of
  two synthesised harmonic sources.

Nothing is downloaded: every signal comes from :mod:`sklearn_innmf.datasets`.
"""

import re
import time

import numpy as np
from sklearn.utils import Bunch

from .datasets import harmonic_source, piano_notes, two_source_mixture
from .implicit import ImplicitNMF
from .representations import cqt_points, hybrid_points, sinusoidal_points, stft_points

__all__ = [
    "PIANO_F0",
    "small_implicit_nmf",
    "in_sine_units",
    "hybrid_piano_points",
    "piano_representations",
    "cross_representation_table",
    "cross_representation_markdown",
    "hybrid_summary",
    "plot_hybrid_factors",
    "plot_cross_representation",
    "synthetic_separation",
]

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

    from .plotting import plot_factors, plot_points

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


def _parse_representation(name):
    if name == "CQT":
        return None
    match = re.fullmatch(r"STFT-(\d+)", name)
    if not match:
        raise ValueError(f"representation {name!r} must be 'CQT' or 'STFT-<n_fft>'.")
    return int(match.group(1))


def piano_representations(
    names=("STFT-256", "STFT-1024", "CQT"), *, sr=16000, power=0.5, random_state=0
):
    """The piano notes of :func:`hybrid_piano_points` in several representations.

    The same signal (A3, then E4, then both) as STFTs of given sizes and a
    CQT (36 bins per octave from 110 Hz, ``scale="amplitude"``), with a
    hop of ``n_fft // 4`` samples for an STFT (256 for the CQT), as
    ``|X| ** power``. Each STFT is cut to the CQT's
    band (110 - 3400 Hz; the partials end at 2.7 kHz), so that no model is
    asked about frequencies it never saw.

    Parameters
    ----------
    names : sequence of str, default=("STFT-256", "STFT-1024", "CQT")
        ``"STFT-<n_fft>"`` or ``"CQT"``.
    sr : int, default=16000
        Sampling rate in Hz.
    power : float, default=0.5
        Magnitude exponent.
    random_state : int, RandomState instance or None, default=0
        Seed of :func:`~sklearn_innmf.datasets.piano_notes`.

    Returns
    -------
    representations : dict
        Name -> point array (n_points, 3), in the order of ``names``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.experiments import piano_representations
    >>> reps = piano_representations(("STFT-256", "CQT"))
    >>> {name: len(np.unique(X[:, 1])) for name, X in reps.items()}
    {'STFT-256': 54, 'CQT': 180}
    """
    sizes = [_parse_representation(name) for name in names]
    y, sr = piano_notes(("A3", "E4"), sr=sr, random_state=random_state)
    cqt = cqt_points(y, sr=sr, hop_length=256, power=power, scale="amplitude", **_PIANO_CQT)
    low, high = cqt[:, 1].min(), cqt[:, 1].max()
    reps = {}
    for name, n_fft in zip(names, sizes):
        if n_fft is None:
            reps[name] = cqt
        else:
            X = stft_points(y, sr=sr, n_fft=n_fft, power=power)
            reps[name] = X[(X[:, 1] >= low) & (X[:, 1] <= high)]
    return reps


def cross_representation_table(make_model, representations, *, verbose=0):
    """KL of models trained on one representation, explaining another.

    One model is fitted on each representation (the "self-fit"); then each
    model explains every other representation with its templates frozen and
    new activations (``fit_activations``). ``kl[i, j]`` is the mean KL
    divergence per point (``-score``) of the model trained on representation
    ``i`` explaining representation ``j``. KLs are in the unit of the
    explained representation, so they compare only within a column: ``ratio``
    divides each column by its diagonal cell, the self-fit.

    Parameters
    ----------
    make_model : callable
        ``make_model()`` returns a new, unfitted estimator with ``fit``,
        ``fit_activations`` and ``score``.
    representations : dict
        Name -> point array, e.g. from :func:`piano_representations`.
    verbose : int, default=0
        1 prints one line per fit, with its time.

    Returns
    -------
    table : :class:`~sklearn.utils.Bunch`
        ``names`` (list of str), ``kl`` and ``ratio`` (ndarrays of shape
        (n, n)), ``models`` (name -> self-fitted estimator), ``transfers``
        ((trained_on, explained) -> the estimator of ``fit_activations``) and
        ``seconds`` (ndarray (n, n), time of each fit).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf import MatrixNMF
    >>> from sklearn_innmf.experiments import (
    ...     cross_representation_table, piano_representations)
    >>> reps = piano_representations(("STFT-512", "STFT-1024"))
    >>> table = cross_representation_table(
    ...     lambda: MatrixNMF(2, max_iter=50, tol=0, random_state=0), reps)
    >>> table.names, table.kl.shape
    (['STFT-512', 'STFT-1024'], (2, 2))
    >>> np.diag(table.ratio).tolist()
    [1.0, 1.0]
    """
    names = list(representations)
    n = len(names)
    kl = np.empty((n, n))
    seconds = np.empty((n, n))
    models, transfers = {}, {}

    def timed(i, j, what, fit):
        start = time.perf_counter()
        est = fit()
        seconds[i, j] = time.perf_counter() - start
        if verbose:
            print(f"    {what}: {seconds[i, j]:.1f} s", flush=True)
        return est

    for i, name in enumerate(names):
        models[name] = timed(i, i, f"fit on {name}",
                             lambda: make_model().fit(representations[name]))
        kl[i, i] = -models[name].score(representations[name])
    for i, source in enumerate(names):
        for j, target in enumerate(names):
            if i == j:
                continue
            X = representations[target]
            est = timed(i, j, f"{source} -> {target}",
                        lambda: models[source].fit_activations(X))
            transfers[source, target] = est
            kl[i, j] = -est.score(X)
    ratio = kl / np.diag(kl)[None, :]
    return Bunch(names=names, kl=kl, ratio=ratio, models=models, transfers=transfers,
                 seconds=seconds)


def cross_representation_markdown(table, *, threshold=3.0):
    """A :func:`cross_representation_table` as a Markdown table.

    Rows: the representation a model was trained on; columns: the one it
    explains. Each cell is the KL, then its ratio to the column's self-fit;
    ratios above ``threshold`` are in bold.

    Parameters
    ----------
    table : Bunch
        The result of :func:`cross_representation_table`.
    threshold : float, default=3.0
        Ratios above it are bold.

    Returns
    -------
    text : str
        The Markdown table, without a trailing newline.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_innmf.experiments import cross_representation_markdown
    >>> kl = np.array([[0.01, 0.05], [0.04, 0.02]])
    >>> table = Bunch(names=["A", "B"], kl=kl, ratio=kl / np.diag(kl))
    >>> print(cross_representation_markdown(table))
    | trained on / explained | A | B |
    |---|---|---|
    | A | 0.01 (1.00x) | 0.05 (2.50x) |
    | B | 0.04 (**4.00x**) | 0.02 (1.00x) |
    """
    names = table.names
    lines = ["| trained on / explained | " + " | ".join(names) + " |",
             "|---" * (len(names) + 1) + "|"]
    for i, source in enumerate(names):
        cells = []
        for j in range(len(names)):
            r = table.ratio[i, j]
            ratio = f"**{r:.2f}x**" if r > threshold else f"{r:.2f}x"
            cells.append(f"{table.kl[i, j]:.4g} ({ratio})")
        lines.append(f"| {source} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_cross_representation(tables, *, threshold=3.0, vmax=30.0, fig=None):
    """Heatmaps of :func:`cross_representation_table` results, side by side.

    Each cell shows the KL and its ratio to the column's self-fit, coloured
    by the ratio on a log scale from 1 to ``vmax``; ratios above
    ``threshold`` are in bold.

    Parameters
    ----------
    tables : dict
        Title (e.g. the method) -> result of :func:`cross_representation_table`.
    threshold : float, default=3.0
        Ratios above it are bold.
    vmax : float, default=30.0
        Ratio at the top of the colour scale.
    fig : matplotlib Figure, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    fig : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from sklearn_innmf.experiments import plot_cross_representation
    >>> kl = np.array([[0.01, 0.05], [0.04, 0.02]])
    >>> table = Bunch(names=["A", "B"], kl=kl, ratio=kl / np.diag(kl))
    >>> fig = plot_cross_representation({"model": table})
    >>> fig.axes[0].get_title()
    'model'
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    n = max(len(t.names) for t in tables.values())
    if fig is None:
        fig = plt.figure(figsize=(5 * len(tables), 0.85 * n + 1.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(tables)))
    norm = LogNorm(vmin=1.0, vmax=vmax)
    for ax, (title, table) in zip(axes, tables.items()):
        image = ax.imshow(table.ratio, cmap="RdYlGn_r", norm=norm)
        size = len(table.names)
        for i in range(size):
            for j in range(size):
                r = table.ratio[i, j]
                ax.text(j, i, f"{table.kl[i, j]:.3g}\n{r:.1f}x", ha="center", va="center",
                        fontsize="small" if size > 3 else "medium",
                        fontweight="bold" if r > threshold else "normal")
        ax.set(xticks=range(size), yticks=range(size), xticklabels=table.names,
               yticklabels=table.names, xlabel="explained representation",
               ylabel="trained on", title=title)
    fig.colorbar(image, ax=list(axes),
                 label=f"KL / self-fit KL of the column (bold: > {threshold:g}x)")
    return fig


def synthetic_separation(
    estimator,
    *,
    sr=16000,
    train_duration=3.0,
    test_duration=2.0,
    n_fft=1024,
    power=0.5,
    max_iter=100,
    random_state=0,
    verbose=0,
):
    """Supervised separation of a 0 dB mixture of two synthesised voices.

    Two speech-like "speakers" (:func:`~sklearn_innmf.datasets.harmonic_source`):
    a low voice (pitch 110 - 150 Hz, formants 700, 1200, 2600 Hz) and a high
    one (200 - 260 Hz, formants 400, 2000, 2800 Hz). Each is trained on one
    recording; the test recordings are other draws (other phases, vibrato
    and glide direction), mixed at 0 dB
    (:func:`~sklearn_innmf.datasets.two_source_mixture`). A
    :class:`~sklearn_innmf.SupervisedSeparator` of ``estimator`` learns one
    model per speaker on STFT points and separates the mixture with Wiener
    masks (:func:`~sklearn_innmf.separation.separate_mixture`). SDR, SIR and
    SAR come from :func:`~sklearn_innmf.metrics.bss_eval`.

    Parameters
    ----------
    estimator : estimator object
        The factorisation of each source, e.g.
        ``ImplicitNMF(10, time_factor="table")``.
    sr : int, default=16000
        Sampling rate in Hz.
    train_duration, test_duration : float, default=3.0, 2.0
        Seconds of each training recording and of the mixture.
    n_fft : int, default=1024
        STFT size (hop ``n_fft // 4``) of training and mixture.
    power : float, default=0.5
        Magnitude exponent.
    max_iter : int, default=100
        Multiplicative updates of each mixture frame's activations.
    random_state : int, default=0
        Seed of the signals and of the separator.
    verbose : int, default=0
        Passed to the separator (1: progress bars).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``sr``, ``mixture`` (n_samples,), ``sources`` and ``estimates``
        (2, n_samples), ``separator`` (fitted), ``names`` (the speakers),
        ``sdr``, ``sir``, ``sar`` (dB per source) and ``sdr_mixture`` (SDR of
        the unprocessed mixture against each source, the reference point).

    Examples
    --------
    >>> from sklearn_innmf import MatrixNMF
    >>> from sklearn_innmf.experiments import synthetic_separation
    >>> result = synthetic_separation(  # doctest: +SKIP
    ...     MatrixNMF(8, max_iter=50), sr=8000, train_duration=1.0,
    ...     test_duration=1.0, n_fft=512)
    >>> bool(all(result.sdr > result.sdr_mixture))  # doctest: +SKIP
    True
    """
    from .metrics import bss_eval
    from .separation import fit_separator, separate_mixture

    seed = int(random_state)
    voices = {
        "low voice": dict(formants=(700.0, 1200.0, 2600.0)),
        "high voice": dict(formants=(400.0, 2000.0, 2800.0)),
    }
    pitch = {"low voice": (110.0, 150.0), "high voice": (200.0, 260.0)}
    train, test = [], []
    for s, name in enumerate(voices):
        low, high = pitch[name]
        a, _ = harmonic_source(sr=sr, duration=train_duration, f0=(low, high),
                               random_state=seed + 10 * s, **voices[name])
        b, _ = harmonic_source(sr=sr, duration=test_duration, f0=(high, low),
                               syllable_rate=2.5, random_state=seed + 10 * s + 1,
                               **voices[name])
        train.append(a)
        test.append(b)
    mixture, s1, s2 = two_source_mixture(test[0], test[1], snr_db=0.0)
    sources = np.stack([s1, s2])
    separator = fit_separator(train, sr, estimator=estimator, n_fft=n_fft, power=power,
                              max_iter=max_iter, random_state=seed, verbose=verbose)
    estimates = separate_mixture(separator, mixture, sr, n_fft=n_fft, power=power)
    scores = bss_eval(sources, estimates, compute_permutation=False)
    baseline = bss_eval(sources, np.stack([mixture, mixture]), compute_permutation=False)
    return Bunch(sr=sr, mixture=mixture, sources=sources, estimates=estimates,
                 separator=separator, names=list(voices), sdr=np.asarray(scores.sdr),
                 sir=np.asarray(scores.sir), sar=np.asarray(scores.sar),
                 sdr_mixture=np.asarray(baseline.sdr))
