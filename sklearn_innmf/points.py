"""Point arrays: the one validation of the package's data format.

A point array has shape ``(L, d + 1)``: ``d >= 1`` coordinate columns (column 0
is the activation axis, usually time in seconds; the others are template axes,
usually frequency in Hz), then the magnitude ``m >= 0``.

This module knows nothing of torch or of the estimators.
"""

import numpy as np

__all__ = ["check_points", "unique_coordinates", "grid_to_points", "points_to_grid"]


def check_points(X, *, name="X", n_coordinates=None, allow_all_zero=True):
    """Check the semantics of a numeric 2-D point array.

    ``X`` must already be a finite 2-D float array (sklearn's ``validate_data``
    guarantees that for the estimators). This adds what the point format means:
    coordinates are non-negative, magnitudes are non-negative.

    Parameters
    ----------
    X : ndarray of shape (n_points, d + 1)
        Coordinates then magnitude.
    name : str, default="X"
        The argument's name, used in error messages.
    n_coordinates : int, default=None
        The expected number of coordinate columns ``d``, if known.
    allow_all_zero : bool, default=True
        If False, raise when every magnitude is zero.

    Returns
    -------
    X : ndarray of shape (n_points, d + 1)
        The same array.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D point array, got ndim={X.ndim}.")
    if np.iscomplexobj(X):
        raise ValueError(
            f"{name} has complex dtype={X.dtype}; pass magnitudes (np.abs) instead."
        )
    if X.shape[1] < 2:
        raise ValueError(
            f"{name} has {X.shape[1]} feature(s) (shape={X.shape}) while a minimum "
            "of 2 is required: at least one coordinate column then the magnitude."
        )
    if n_coordinates is not None and X.shape[1] != n_coordinates + 1:
        raise ValueError(
            f"{name} has {X.shape[1]} columns, but {n_coordinates} coordinate "
            f"column(s) and one magnitude column ({n_coordinates + 1}) are expected."
        )
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinity.")
    coords, m = X[:, :-1], X[:, -1]
    if m.size and m.min() < 0:
        i = int(np.argmin(m))
        raise ValueError(
            f"Negative values in data passed to {name}: magnitude m={float(m[i])!r} at "
            f"row {i}. Magnitudes (the last column) must be >= 0."
        )
    if coords.size and coords.min() < 0:
        i, j = np.unravel_index(int(np.argmin(coords)), coords.shape)
        raise ValueError(
            f"Negative values in data passed to {name}: coordinate column {j} is "
            f"{float(coords[i, j])!r} at row {i}. Coordinates (time in seconds, frequency "
            "in Hz, ...) must be >= 0; shift them if yours are not."
        )
    if not allow_all_zero and m.size and not np.any(m > 0):
        raise ValueError(
            f"All magnitudes in {name} are zero: there is nothing to factorise."
        )
    return X


def unique_coordinates(coords):
    """Sorted unique values and inverse indices of each coordinate column.

    Parameters
    ----------
    coords : ndarray of shape (n_points, d)

    Returns
    -------
    uniques : list of d ndarrays
        ``uniques[a]`` holds the sorted distinct values of column ``a``.
    inverse : list of d int64 ndarrays of shape (n_points,)
        ``uniques[a][inverse[a]] == coords[:, a]``.
    """
    uniques, inverse = [], []
    for a in range(coords.shape[1]):
        u, inv = np.unique(coords[:, a], return_inverse=True)
        uniques.append(u)
        inverse.append(inv.astype(np.int64).ravel())
    return uniques, inverse


def grid_to_points(V, times, freqs):
    """Turn a (frequency x time) matrix into a point array.

    Parameters
    ----------
    V : array-like of shape (n_freqs, n_times)
        Non-negative magnitudes, frequency along rows as librosa returns them.
    times : array-like of shape (n_times,)
        Time of each column, in seconds.
    freqs : array-like of shape (n_freqs,)
        Frequency of each row, in Hz.

    Returns
    -------
    X : ndarray of shape (n_freqs * n_times, 3)
        Columns ``(t, f, m)``, time-major: all frequencies of the first frame,
        then of the second, and so on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf import grid_to_points, points_to_grid
    >>> V = np.arange(6.0).reshape(3, 2)
    >>> X = grid_to_points(V, times=[0.0, 0.5], freqs=[0.0, 100.0, 200.0])
    >>> X.shape
    (6, 3)
    >>> V2, times, freqs = points_to_grid(X)
    >>> bool(np.array_equal(V, V2))
    True
    """
    V = np.asarray(V)
    times = np.asarray(times, dtype=float).ravel()
    freqs = np.asarray(freqs, dtype=float).ravel()
    if V.ndim != 2:
        raise ValueError(f"V must be 2-D (n_freqs, n_times), got shape={V.shape}.")
    if V.shape != (freqs.size, times.size):
        raise ValueError(
            f"V has shape={V.shape}, but len(freqs)={freqs.size} and "
            f"len(times)={times.size} ask for ({freqs.size}, {times.size})."
        )
    if np.iscomplexobj(V):
        raise ValueError("V is complex; pass magnitudes (np.abs(V)) instead.")
    dtype = np.result_type(V.dtype, np.float32)
    T, F = np.meshgrid(times, freqs, indexing="xy")  # both (n_freqs, n_times)
    X = np.column_stack([T.T.ravel(), F.T.ravel(), V.T.ravel()]).astype(dtype)
    return X


def points_to_grid(X, *, fill_value=np.nan):
    """Turn a point array with columns (t, f, m) back into a matrix.

    Parameters
    ----------
    X : array-like of shape (n_points, 3)
        Points; their unique times and frequencies span the grid.
    fill_value : float, default=np.nan
        Value of grid cells that no point covers.

    Returns
    -------
    V : ndarray of shape (n_freqs, n_times)
        Magnitudes, frequency along rows.
    times : ndarray of shape (n_times,)
    freqs : ndarray of shape (n_freqs,)

    Raises
    ------
    ValueError
        If ``X`` does not have 3 columns or two points share a grid cell.
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 3:
        raise ValueError(
            f"points_to_grid needs an (n_points, 3) array of (t, f, m), got "
            f"shape={X.shape}."
        )
    (times, freqs), (it, jf) = unique_coordinates(X[:, :2])
    cell = it * freqs.size + jf
    if np.unique(cell).size != cell.size:
        raise ValueError("X has several points at the same (t, f): not a grid.")
    V = np.full((freqs.size, times.size), fill_value, dtype=X.dtype)
    V[jf, it] = X[:, 2]
    return V, times, freqs


def frame_chunks(t_index, n_frames, m, size, *, audible_only=True):
    """Row indices in chunks of whole frames, about ``size`` points a chunk.

    Parameters
    ----------
    t_index : ndarray of shape (n_points,)
        Each point's frame (index of its unique time).
    n_frames : int
    m : ndarray of shape (n_points,)
        Magnitudes.
    size : int
        Points per chunk (a chunk holds whole frames, so it may hold more).
    audible_only : bool, default=True
        Leave out the frames whose magnitudes are all 0.

    Returns
    -------
    chunks : list of ndarray
        Row indices, grouped by frame in frame order; no chunk is empty.
    """
    counts = np.bincount(t_index, minlength=n_frames)
    group = (np.cumsum(counts) - counts) // size
    bounds = [0, *(np.flatnonzero(np.diff(group)) + 1), n_frames]
    order = np.argsort(t_index, kind="stable")
    row_bounds = np.concatenate([[0], np.cumsum(counts)])
    audible = np.bincount(t_index, weights=m, minlength=n_frames) > 0
    chunks = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        rows = order[row_bounds[lo] : row_bounds[hi]]
        if audible_only:
            rows = rows[audible[t_index[rows]]]
        if rows.size:
            chunks.append(rows)
    return chunks
