"""Evaluation: divergences on point arrays, separation metrics on waveforms.

* :func:`beta_divergence_points`: the beta-divergence between the values of
  two point arrays at the same coordinates (the estimators' ``score`` is
  minus its mean).
* :func:`bss_eval`: SDR, SIR and SAR of separated waveforms (BSS Eval v3,
  ``bss_eval_sources``, best permutation), computed with ``fast_bss_eval``
  (a dependency of the package), or with ``mir_eval``; both give the same
  numbers.
* :func:`stoi`: short-time objective intelligibility, with ``pystoi``.

``mir_eval`` and ``pystoi`` are optional, imported when called
(``pip install -e ".[separation]"`` in the source tree).
"""

import contextlib
import importlib
from collections import namedtuple

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from .divergences import beta_divergence, beta_loss_to_float

__all__ = ["beta_divergence_points", "bss_eval", "BSSEvalResult", "hoyer_sparsity", "stoi"]


@contextlib.contextmanager
def _one_torch_thread():
    """torch (and the MKL under it) on one thread in this block, for the
    calling thread only: torch.set_num_threads is process-wide, so other
    threads would run on one thread meanwhile. torch's OpenMP backend takes
    its count from the calling thread's OpenMP setting, which threadpoolctl
    limits and restores; a torch on another backend is set and restored."""
    with threadpool_limits(limits=1, user_api="openmp"):
        threads = torch.get_num_threads()
        if threads == 1:
            yield
            return
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def beta_divergence_points(
    X, X_hat, *, beta_loss="kullback-leibler", n_coordinates=None, reduction="mean"
):
    """Beta-divergence d(X | X_hat) between the values of two point arrays.

    Parameters
    ----------
    X : array-like of shape (n_points, d + v)
        Reference points: ``d`` coordinate columns, then ``v >= 1`` value
        columns (magnitudes, or one column per source), all >= 0.
    X_hat : array-like of shape (n_points, d + v)
        Estimated points at the same coordinates, in the same row order
        (for example ``estimator.inverse_transform(estimator.transform(X))``
        or a separator's ``transform``).
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, \
            default="kullback-leibler"
        The divergence, as the estimators' ``beta_loss``.
    n_coordinates : int, default=None
        ``d``, the number of coordinate columns; None means one value column
        (``d = n_columns - 1``).
    reduction : {"mean", "sum", "none"}, default="mean"
        Mean or sum over points and value columns, or the array of shape
        (n_points, v).

    Returns
    -------
    divergence : float or ndarray of shape (n_points, v)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.metrics import beta_divergence_points
    >>> X = np.array([[0.0, 100.0, 1.0], [0.0, 200.0, 2.0]])
    >>> beta_divergence_points(X, X)
    0.0
    >>> round(beta_divergence_points(X, X * [1, 1, 2], beta_loss="frobenius"), 6)
    1.25
    """
    beta = beta_loss_to_float(beta_loss)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction={reduction!r} must be 'mean', 'sum' or 'none'.")
    X = np.asarray(X)
    X_hat = np.asarray(X_hat)
    for name, A in (("X", X), ("X_hat", X_hat)):
        if A.ndim != 2:
            raise ValueError(f"{name} must be a 2-D point array, got shape={A.shape}.")
    if X.shape != X_hat.shape:
        raise ValueError(
            f"X has shape={X.shape} but X_hat has shape={X_hat.shape}; they must be "
            "the same points (same coordinates, same row order)."
        )
    d = X.shape[1] - 1 if n_coordinates is None else int(n_coordinates)
    if not 0 <= d < X.shape[1]:
        raise ValueError(
            f"n_coordinates={n_coordinates!r} leaves no value column in X of "
            f"shape={X.shape}."
        )
    for name, A in (("X", X), ("X_hat", X_hat)):
        if np.iscomplexobj(A) or not np.issubdtype(A.dtype, np.number):
            raise ValueError(f"{name} must be real, got dtype={A.dtype}.")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"{name} contains NaN or infinity.")
        if A[:, d:].size and A[:, d:].min() < 0:
            raise ValueError(
                f"Negative values in data passed to {name}: its value columns "
                f"(from column {d}) must be >= 0."
            )
    if not np.array_equal(X[:, :d], X_hat[:, :d]):
        rows = np.flatnonzero(np.any(X[:, :d] != X_hat[:, :d], axis=1))
        raise ValueError(
            f"X and X_hat have different coordinates (first at row {rows[0]}); "
            "compare values at the same points, in the same order."
        )
    div = beta_divergence(
        torch.as_tensor(np.ascontiguousarray(X[:, d:]), dtype=torch.float64),
        torch.as_tensor(np.ascontiguousarray(X_hat[:, d:]), dtype=torch.float64),
        beta,
        reduction=reduction,
    )
    return div.numpy() if reduction == "none" else float(div)


#: What :func:`bss_eval` returns, in the order of ``mir_eval``'s ``bss_eval_sources``.
BSSEvalResult = namedtuple("BSSEvalResult", ["sdr", "sir", "sar", "permutation"])
BSSEvalResult.__doc__ = """SDR, SIR, SAR (dB) per reference source, and the permutation.

``sdr[j]`` (and ``sir[j]``, ``sar[j]``) compare reference ``j`` with estimate
``permutation[j]``.
"""


def _check_waveforms(name, a):
    a = np.asarray(a)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(
            f"{name} must have shape (n_sources, n_samples) (or (n_samples,) for one "
            f"source), got shape={a.shape}."
        )
    if np.iscomplexobj(a) or not np.issubdtype(a.dtype, np.number):
        raise ValueError(f"{name} must be real waveforms, got dtype={a.dtype}.")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinity.")
    return a


def _optional(module, purpose, package):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs the optional package {package!r}: pip install {package}"
        ) from exc


def bss_eval(reference_sources, estimated_sources, *, compute_permutation=True, backend="auto"):
    """SDR, SIR and SAR of separated sources (BSS Eval v3, ``bss_eval_sources``).

    The numbers of ``mir_eval.separation.bss_eval_sources`` (distortion
    filters of 512 taps), computed by ``fast_bss_eval`` when it is installed
    (several times faster), else by ``mir_eval``.

    Parameters
    ----------
    reference_sources : array-like of shape (n_sources, n_samples)
        The true sources (none silent).
    estimated_sources : array-like of shape (n_sources, n_samples)
        The estimates, in any order when ``compute_permutation``.
    compute_permutation : bool, default=True
        Match estimates to references by the permutation of best mean SIR.
        False compares estimate j with reference j.
    backend : {"auto", "fast_bss_eval", "mir_eval"}, default="auto"
        "auto": fast_bss_eval if installed, else mir_eval.

    Returns
    -------
    result : BSSEvalResult
        ``(sdr, sir, sar, permutation)``, arrays of shape (n_sources,) in the
        order of the references; estimate ``permutation[j]`` was matched to
        reference ``j``.

    Raises
    ------
    ImportError
        If neither fast_bss_eval nor mir_eval is installed.
    ValueError
        On shapes that differ, non-finite values or a silent reference.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf.metrics import bss_eval
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.standard_normal((2, 4000))
    >>> est = ref[::-1] + 0.1 * rng.standard_normal((2, 4000))   # swapped, noisy
    >>> result = bss_eval(ref, est)  # doctest: +SKIP
    >>> result.permutation.tolist(), bool(np.all(result.sdr > 15))  # doctest: +SKIP
    ([1, 0], True)
    """
    ref = _check_waveforms("reference_sources", reference_sources)
    est = _check_waveforms("estimated_sources", estimated_sources)
    if ref.shape != est.shape:
        raise ValueError(
            f"reference_sources has shape={ref.shape} but estimated_sources has "
            f"shape={est.shape}; give one estimate per reference, of the same length."
        )
    silent = np.flatnonzero(~np.any(ref != 0, axis=1))
    if silent.size:
        raise ValueError(
            f"reference_sources[{silent[0]}] is silent (all zeros): SDR, SIR and SAR "
            "are undefined."
        )
    if backend not in ("auto", "fast_bss_eval", "mir_eval"):
        raise ValueError(
            f"backend={backend!r} must be 'auto', 'fast_bss_eval' or 'mir_eval'."
        )
    if backend == "auto":
        backend = "fast_bss_eval"
        try:
            importlib.import_module("fast_bss_eval")
        except ImportError:
            backend = "mir_eval"
            try:
                importlib.import_module("mir_eval")
            except ImportError as exc:
                raise ImportError(
                    "bss_eval needs the optional package 'fast_bss_eval' (or "
                    "'mir_eval'): pip install fast_bss_eval"
                ) from exc
    n = ref.shape[0]
    if backend == "fast_bss_eval":
        fbe = _optional("fast_bss_eval", "bss_eval(backend='fast_bss_eval')", "fast_bss_eval")
        # torch tensors: fast_bss_eval 0.1.4's numpy path fails without the
        # permutation (a shape error in its non-pairwise solve); torch's does not
        # (and its permutation solver fails on one source, which needs none)
        # one torch thread: its batched LU (linalg.solve) nests MKL's OpenMP
        # team inside torch's parallel_for, which was seen to spin forever
        # on a loaded 2-core machine; these systems are small anyway
        with _one_torch_thread():
            out = fbe.bss_eval_sources(
                torch.as_tensor(ref), torch.as_tensor(est),
                compute_permutation=compute_permutation and n > 1,
            )
        out = [o.numpy() for o in out]
    else:
        sep = _optional("mir_eval.separation", "bss_eval(backend='mir_eval')", "mir_eval")
        import warnings

        with warnings.catch_warnings():
            # mir_eval 0.8 deprecates bss_eval_sources (kept for its numbers)
            warnings.simplefilter("ignore", FutureWarning)
            out = sep.bss_eval_sources(ref, est, compute_permutation=compute_permutation)
    sdr, sir, sar = (np.asarray(v, dtype=np.float64).reshape(n) for v in out[:3])
    if compute_permutation and len(out) > 3:
        perm = np.asarray(out[3], dtype=np.intp).reshape(n)
    else:
        perm = np.arange(n)
    return BSSEvalResult(sdr, sir, sar, perm)


def stoi(reference, estimate, sr, *, extended=False):
    """Short-time objective intelligibility of an estimate (pystoi).

    Parameters
    ----------
    reference : array-like of shape (n_samples,)
        The clean signal.
    estimate : array-like of shape (n_samples,)
        The processed (separated) signal, same length.
    sr : int
        Sampling rate in Hz (pystoi resamples to 10 kHz).
    extended : bool, default=False
        Extended STOI (Jensen & Taal 2016).

    Returns
    -------
    score : float
        Between about 0 and 1; higher is more intelligible.

    Raises
    ------
    ImportError
        If pystoi is not installed.
    """
    ref = _check_waveforms("reference", reference)
    est = _check_waveforms("estimate", estimate)
    if ref.shape[0] != 1 or est.shape != ref.shape:
        raise ValueError(
            f"reference and estimate must be two 1-D signals of the same length, got "
            f"shapes {np.shape(reference)} and {np.shape(estimate)}."
        )
    if isinstance(sr, bool) or not np.isscalar(sr) or not sr > 0:
        raise ValueError(f"sr={sr!r} must be a positive sampling rate in Hz.")
    pystoi = _optional("pystoi", "stoi", "pystoi")
    return float(pystoi.stoi(ref[0], est[0], sr, extended=extended))


def hoyer_sparsity(H, axis=None):
    """Hoyer's sparsity of non-negative values: 0 when all are equal, 1 when
    one is non-zero.

    ``(sqrt(n) - |h|_1 / |h|_2) / (sqrt(n) - 1)`` for ``n`` values (Hoyer,
    "Non-negative matrix factorization with sparseness constraints", JMLR 5,
    2004).

    Parameters
    ----------
    H : array-like
        Non-negative values, e.g. activations of shape (n_times, n_components).
    axis : int, default=None
        None: one sparsity over all values; an int: the mean of the
        sparsities of the slices along it (e.g. ``axis=1``: per frame).

    Returns
    -------
    sparsity : float
        In [0, 1]; 0 for an all-zero input.

    Examples
    --------
    >>> from sklearn_innmf.metrics import hoyer_sparsity
    >>> hoyer_sparsity([1.0, 1.0, 1.0, 1.0]), hoyer_sparsity([0.0, 0.0, 3.0, 0.0])
    (0.0, 1.0)
    """
    H = np.asarray(H, dtype=np.float64)
    if H.size < 2:
        raise ValueError(f"hoyer_sparsity needs at least 2 values, got H of shape={H.shape}.")
    if np.any(H < 0) or not np.all(np.isfinite(H)):
        raise ValueError("hoyer_sparsity needs finite, non-negative values.")
    if axis is not None:
        H = np.moveaxis(H, axis, -1).reshape(-1, H.shape[axis])
        return float(np.mean([hoyer_sparsity(h) for h in H if h.any()] or [0.0]))
    h = H.ravel()
    l2 = np.sqrt(np.sum(h * h))
    if l2 == 0:
        return 0.0
    n = h.size
    return float((np.sqrt(n) - h.sum() / l2) / (np.sqrt(n) - 1.0))
