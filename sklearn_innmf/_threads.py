"""How many threads torch uses inside the package's fits and evaluations.

On a machine whose cores other work shares, torch's default of one thread
per core is much slower than one thread: its OpenMP threads wait for each
other while the cores are busy elsewhere. Measured on this project's 2-core
machine under load: the README's example fitted in 109.5 s with torch's
default (2 threads) and in 8.3 s with 1; the demo took 421 s and 65 s. On an
idle machine the second thread gains at most 1.6x (a 1025 x 400 MatrixNMF
fit, benchmarks/speed.md), and nothing on small problems.

So the package decides per call, with :func:`num_threads` as the override:

* ``"auto"`` (default): 1 thread for small problems (fewer than
  ``_SMALL`` point x component values per iteration); otherwise torch's
  thread count, but no more than the cores that the 1-minute load average
  leaves idle (at least 1);
* an integer: that many threads (``num_threads(None)`` or the
  ``SKLEARN_INNMF_NUM_THREADS`` environment variable set it too).

The limit is set with threadpoolctl (OpenMP, from which torch's OpenMP
backend takes its count for the calling thread, and the BLAS libraries) and
with ``torch.set_num_threads``, and restored at the end of each call.
"""

import contextlib
import os

import torch
from threadpoolctl import threadpool_limits

__all__ = ["num_threads", "get_num_threads", "limit_threads"]

# problems with fewer point x component values than this run on one thread
_SMALL = 2_000_000
_setting = None  # None: from the environment, else "auto" or an int


def _parse(value, name):
    if value == "auto":
        return "auto"
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if isinstance(value, bool) or n < 1 or (not isinstance(value, str) and n != value):
        raise ValueError(f"{name}={value!r} must be 'auto' or an integer >= 1.")
    return n


def get_num_threads():
    """The thread setting: ``"auto"`` or an integer (see the module doc)."""
    if _setting is not None:
        return _setting
    env = os.environ.get("SKLEARN_INNMF_NUM_THREADS", "auto")
    return _parse(env.strip() or "auto", "SKLEARN_INNMF_NUM_THREADS")


def num_threads(n):
    """Set the number of torch threads of the package's computations.

    Parameters
    ----------
    n : int or "auto"
        Threads per fit or evaluation; "auto" chooses per problem (1 for
        small ones, otherwise torch's count capped by the idle cores).

    Returns
    -------
    context : context manager
        The setting is made at once; used in a ``with`` block, the previous
        one is restored at its end.

    Examples
    --------
    >>> import sklearn_innmf
    >>> with sklearn_innmf.num_threads(1):
    ...     pass  # every fit in here runs on one thread
    >>> sklearn_innmf.get_num_threads()
    'auto'
    """
    global _setting
    value = _parse(n, "n")
    old = _setting
    _setting = value

    @contextlib.contextmanager
    def restore():
        global _setting
        try:
            yield
        finally:
            _setting = old

    return restore()


def _choose(work):
    setting = get_num_threads()
    if setting != "auto":
        return setting
    default = torch.get_num_threads()
    if work < _SMALL or default <= 1:
        return 1
    try:
        idle = (os.cpu_count() or 1) - os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return default
    return max(1, min(default, int(idle + 0.5)))


@contextlib.contextmanager
def limit_threads(work):
    """Run the block with the thread count chosen for ``work`` (point x
    component values per iteration)."""
    n = _choose(work)
    with threadpool_limits(limits=n):
        threads = torch.get_num_threads()
        if threads == n:
            yield
            return
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(threads)
