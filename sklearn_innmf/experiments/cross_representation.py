"""Templates across representations (paper Fig. 4, Table 1): models trained on one
representation explain the others with ``fit_activations``; a matrix of KL
divergences, as a table, Markdown and a figure.
"""

import re
import time

import numpy as np
from sklearn.utils import Bunch

from ..datasets.synthetic import piano_notes
from ..representations.cqt import cqt_points
from ..representations.stft import stft_points
from .hybrid import _PIANO_CQT


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
