"""Figures of point arrays and of fitted factors.

This is the only module that imports matplotlib, and it does so inside the
functions, so that ``import sklearn_innmf`` stays light and works without it.
"""

import numbers

import numpy as np

from .points import check_points

__all__ = ["plot_points", "plot_factors", "plot_component_groups"]


def _figure_and_axes(ax, n_axes, figsize):
    """The given axes and their figure, or a new figure with ``n_axes`` side by side."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, axes = plt.subplots(1, n_axes, figsize=figsize, squeeze=False, layout="constrained")
        return fig, list(axes[0])
    axes = [ax] if n_axes == 1 else list(ax)
    if len(axes) != n_axes:
        raise ValueError(f"ax must hold {n_axes} Axes, got {len(axes)}.")
    return axes[0].figure, axes


def plot_points(
    X,
    *,
    ax=None,
    db=True,
    power=1.0,
    top_db=80.0,
    log_freq=True,
    cmap="magma",
    marker_size=None,
    colorbar=True,
):
    """Scatter a point array on time and frequency axes, coloured by magnitude.

    Unlike a spectrogram image this draws each point where it is, so it shows
    irregular points (reassigned, sinusoidal, hybrid) as they are. Louder
    points are drawn on top.

    Parameters
    ----------
    X : array-like of shape (n_points, 3)
        Columns ``(t, f, m)``: seconds, Hz, magnitude ``>= 0``.
    ax : matplotlib Axes, default=None
        Where to draw; ``None`` makes a new figure.
    db : bool, default=True
        Colour by level in dB relative to the loudest point,
        ``20 / power * log10(m / max(m))``, floored at ``-top_db``; otherwise by
        ``m`` itself.
    power : float, default=1.0
        The exponent the magnitudes were computed with (``m = |X| ** power``),
        so that dB are those of ``|X|``.
    top_db : float, default=80.0
        Dynamic range of the colour scale in dB, when ``db=True``.
    log_freq : bool, default=True
        Logarithmic frequency axis. Points at 0 Hz cannot be placed on it and
        are not drawn.
    cmap : str or Colormap, default="magma"
        Colour map.
    marker_size : float, default=None
        Marker area in points^2; ``None`` picks one from the number of points.
    colorbar : bool, default=True
        Add a colour bar.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_innmf.plotting import plot_points
    >>> from sklearn_innmf.representations import sinusoidal_points
    >>> sr = 8000
    >>> y = np.sin(2 * np.pi * 440.0 * np.arange(sr) / sr)
    >>> fig = plot_points(sinusoidal_points(y, sr=sr, n_fft=512))
    >>> fig.axes[0].get_xlabel()
    'Time (s)'
    """
    X = check_points(np.asarray(X, dtype=float), name="X", n_coordinates=2)
    if isinstance(power, bool) or not isinstance(power, numbers.Real) or power <= 0:
        raise ValueError(f"power={power!r} must be a positive number.")
    if db and (not isinstance(top_db, numbers.Real) or not top_db > 0):
        raise ValueError(f"top_db={top_db!r} must be a positive number of dB.")
    fig, (ax,) = _figure_and_axes(ax, 1, (7, 4))

    if log_freq:
        X = X[X[:, 1] > 0]
    t, f, m = X.T
    if db:
        peak = m.max(initial=0.0)
        with np.errstate(divide="ignore"):
            level = 20.0 / power * np.log10(m / peak) if peak > 0 else np.zeros_like(m)
        colour = np.maximum(level, -top_db)
        vmin, vmax, label = -top_db, 0.0, "Level (dB re. max)"
    else:
        colour, vmin, vmax, label = m, None, None, "Magnitude"
    order = np.argsort(colour, kind="stable")
    if marker_size is None:
        marker_size = float(np.clip(1e5 / max(len(m), 1), 1.0, 20.0))
    artist = ax.scatter(
        t[order],
        f[order],
        c=colour[order],
        s=marker_size,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        marker="o",
        linewidths=0,
        rasterized=len(m) > 5000,
    )
    if log_freq:
        ax.set_yscale("log")
    ax.set_xlabel("Time (s)")
    ax.set_ylabel("Frequency (Hz)")
    if colorbar:
        fig.colorbar(artist, ax=ax, label=label)
    return fig


def _sample_axis(values, name, coordinate_range, n, log):
    """The given sample positions, or ``n`` positions spanning the fitted range."""
    if values is not None:
        values = np.asarray(values, dtype=float).ravel()
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise ValueError(f"{name} must be a non-empty array of finite values.")
        return values
    if coordinate_range is None:
        raise ValueError(
            f"{name}=None needs a fitted estimator with coordinate_ranges_; pass "
            f"{name} explicitly."
        )
    lo, hi = (float(v) for v in coordinate_range)
    if log and hi > 0:
        # A log axis cannot reach 0 Hz: start ten octaves below the top.
        return np.geomspace(max(lo, hi / 2**10), hi, n)
    return np.linspace(lo, hi, n)


def _factor_values(method, values, n_components, what):
    out = np.asarray(method(values), dtype=float)
    if out.ndim != 2 or out.shape[0] != values.size:
        raise ValueError(
            f"estimator.{what}() returned shape={out.shape}, expected "
            f"({values.size}, n_components)."
        )
    if n_components is not None and out.shape[1] != n_components:
        raise ValueError(
            f"estimator.{what}() returned {out.shape[1]} components but "
            f"estimator.n_components={n_components}."
        )
    return out


def plot_factors(
    estimator,
    *,
    times=None,
    freqs=None,
    n_times=400,
    n_freqs=400,
    log_freq=True,
    ax=None,
    figsize=(10, 4),
):
    """Draw a fitted estimator's templates and activations as curves.

    The layout of Fig. 3 of the iN-NMF paper: the K templates ``W_k(f)`` on
    one panel against frequency, the K activations ``H_k(t)`` on the other
    against time, one colour per component. Implicit factors can be sampled
    anywhere, so the curves are smooth at any sampling.

    Parameters
    ----------
    estimator : fitted estimator
        Anything with ``templates(freqs) -> (n_freqs, K)`` and
        ``activations(times) -> (n_times, K)``; ``n_components`` and
        ``coordinate_ranges_`` (``[(t_min, t_max), (f_min, f_max), ...]``)
        are used when present.
    times : array-like of shape (n_times,), default=None
        Times (s) at which to sample the activations; ``None`` spans
        ``coordinate_ranges_[0]`` with ``n_times`` points.
    freqs : array-like of shape (n_freqs,), default=None
        Frequencies (Hz) at which to sample the templates; ``None`` spans
        ``coordinate_ranges_[1]`` with ``n_freqs`` points (log-spaced from ten
        octaves below the top when ``log_freq``).
    n_times, n_freqs : int, default=400
        Number of default sample positions.
    log_freq : bool, default=True
        Logarithmic frequency axis for the templates.
    ax : pair of matplotlib Axes, default=None
        Axes for the templates and the activations; ``None`` makes a new
        figure with both side by side.
    figsize : (float, float), default=(10, 4)
        Size of a new figure.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn_innmf.plotting import plot_factors
    >>> class TwoTones:  # stands in for a fitted estimator
    ...     n_components = 2
    ...     coordinate_ranges_ = [(0.0, 1.0), (0.0, 4000.0)]
    ...     def templates(self, freqs):
    ...         return np.exp(-((freqs[:, None] - [440.0, 660.0]) / 20.0) ** 2)
    ...     def activations(self, times):
    ...         return np.column_stack([times, 1 - times])
    >>> fig = plot_factors(TwoTones())
    >>> [a.get_title() for a in fig.axes]
    ['Templates', 'Activations']
    """
    for method in ("templates", "activations"):
        if not callable(getattr(estimator, method, None)):
            raise ValueError(
                f"estimator {type(estimator).__name__} has no {method}() method; "
                "plot_factors needs a fitted estimator with templates(freqs) and "
                "activations(times)."
            )
    ranges = getattr(estimator, "coordinate_ranges_", None)
    n_components = getattr(estimator, "n_components", None)
    if not isinstance(n_components, numbers.Integral):
        n_components = None  # e.g. "auto": trust what the factors return
    times = _sample_axis(times, "times", None if ranges is None else ranges[0], n_times, False)
    freqs = _sample_axis(freqs, "freqs", None if ranges is None else ranges[1], n_freqs, log_freq)
    W = _factor_values(estimator.templates, freqs, n_components, "templates")
    H = _factor_values(estimator.activations, times, n_components, "activations")
    if W.shape[1] != H.shape[1]:
        raise ValueError(
            f"estimator.templates() gives {W.shape[1]} components but "
            f"estimator.activations() gives {H.shape[1]}."
        )

    fig, (ax_w, ax_h) = _figure_and_axes(ax, 2, figsize)
    f_order, t_order = np.argsort(freqs), np.argsort(times)
    for k in range(W.shape[1]):
        ax_w.plot(freqs[f_order], W[f_order, k], color=f"C{k % 10}", label=f"{k}")
        ax_h.plot(times[t_order], H[t_order, k], color=f"C{k % 10}", label=f"{k}")
    if log_freq and np.any(freqs > 0):
        ax_w.set_xscale("log")
    ax_w.set_title("Templates")
    ax_w.set_xlabel("Frequency (Hz)")
    ax_w.set_ylabel("W_k(f)")
    ax_h.set_title("Activations")
    ax_h.set_xlabel("Time (s)")
    ax_h.set_ylabel("H_k(t)")
    if W.shape[1] <= 10:
        ax_h.legend(title="component", fontsize="small")
    return fig


def plot_component_groups(
    separator,
    *,
    times=None,
    freqs=None,
    n_times=400,
    n_freqs=400,
    log_freq=True,
    source_names=None,
    ax=None,
    figsize=(11, 5),
):
    """Draw a grouping separator's templates and activations, coloured by source.

    The walk-through figure of blind NMF separation: every component's
    template (left, against frequency) and activation (right, against time),
    one row per component, each scaled to its own maximum, in the colour of
    the source it was grouped into. Components are drawn source by source.

    Parameters
    ----------
    separator : fitted ComponentGroupSeparator
        Anything with ``estimator_`` (with ``templates(freqs)`` and
        ``activations(times)``) and ``components_to_sources_``.
    times : array-like of shape (n_times,), default=None
        Times (s) of the activations; None spans the fitted range.
    freqs : array-like of shape (n_freqs,), default=None
        Frequencies (Hz) of the templates; None spans the fitted range
        (log-spaced from ten octaves below the top when ``log_freq``).
    n_times, n_freqs : int, default=400
        Number of default sample positions.
    log_freq : bool, default=True
        Logarithmic frequency axis.
    source_names : list of str, default=None
        A name per source for the legend; None is "source 0", "source 1", ...
    ax : pair of matplotlib Axes, default=None
        Axes for the templates and the activations; None makes a new figure.
    figsize : (float, float), default=(11, 5)
        Size of a new figure.

    Returns
    -------
    fig : matplotlib Figure
        The figure drawn on.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn_innmf import MatrixNMF
    >>> from sklearn_innmf.datasets import drums_and_notes
    >>> from sklearn_innmf.separation import ComponentGroupSeparator
    >>> from sklearn_innmf.plotting import plot_component_groups
    >>> from sklearn_innmf.representations import stft_points
    >>> mix, _, _, sr = drums_and_notes(sr=8000, random_state=0)
    >>> X = stft_points(mix, sr=sr, n_fft=512)
    >>> sep = ComponentGroupSeparator(MatrixNMF(6, random_state=0), random_state=0).fit(X)
    >>> fig = plot_component_groups(sep, source_names=["drums?", "notes?"])
    >>> [a.get_title() for a in fig.axes]
    ['Templates', 'Activations']
    """
    estimator = getattr(separator, "estimator_", None)
    assignment = getattr(separator, "components_to_sources_", None)
    if estimator is None or assignment is None:
        raise ValueError(
            f"separator {type(separator).__name__} is not a fitted grouping separator "
            "(it needs estimator_ and components_to_sources_); fit it first."
        )
    assignment = np.asarray(assignment)
    n_sources = int(assignment.max()) + 1
    if source_names is None:
        source_names = [f"source {s}" for s in range(n_sources)]
    source_names = list(source_names)
    if len(source_names) != n_sources:
        raise ValueError(
            f"source_names has {len(source_names)} name(s) but the separator has "
            f"{n_sources} sources."
        )
    ranges = getattr(estimator, "coordinate_ranges_", None)
    times = _sample_axis(times, "times", None if ranges is None else ranges[0], n_times, False)
    freqs = _sample_axis(freqs, "freqs", None if ranges is None else ranges[1], n_freqs, log_freq)
    K = assignment.size
    W = _factor_values(estimator.templates, freqs, K, "templates")
    H = _factor_values(estimator.activations, times, K, "activations")

    fig, (ax_w, ax_h) = _figure_and_axes(ax, 2, figsize)
    f_order, t_order = np.argsort(freqs), np.argsort(times)
    order = sorted(range(K), key=lambda k: (assignment[k], k))
    for row, k in enumerate(order):
        colour = f"C{assignment[k] % 10}"
        for axis, values, x, idx in ((ax_w, W, freqs, f_order), (ax_h, H, times, t_order)):
            peak = values[:, k].max()
            curve = values[idx, k] / peak if peak > 0 else values[idx, k]
            axis.fill_between(x[idx], row, row + 0.9 * curve, color=colour, alpha=0.35,
                              linewidth=0)
            axis.plot(x[idx], row + 0.9 * curve, color=colour, linewidth=1.0)
    for axis in (ax_w, ax_h):
        axis.set_yticks(np.arange(K) + 0.45, [str(k) for k in order])
        axis.set_ylim(-0.1, K)
    if log_freq and np.any(freqs > 0):
        ax_w.set_xscale("log")
    ax_w.set(title="Templates", xlabel="Frequency (Hz)", ylabel="component")
    ax_h.set(title="Activations", xlabel="Time (s)")
    from matplotlib.patches import Patch

    handles = [Patch(color=f"C{s % 10}", alpha=0.6, label=name)
               for s, name in enumerate(source_names)]
    ax_h.legend(handles=handles, loc="upper right", fontsize="small", framealpha=0.9)
    return fig
