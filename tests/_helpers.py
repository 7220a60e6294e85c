"""Shared test data (imported by the test modules as ``_helpers``).

pytest's default ("prepend") import mode puts tests/ (no ``__init__.py``) on
``sys.path``, so ``from _helpers import field`` works however pytest is
started. The arrays are built in the test process; nothing here is shipped to
dask or joblib workers.
"""

import numpy as np


def field(n=200, seed=0):
    """Irregular (t, f, m) points of a rank-2 time-frequency field."""
    rng = np.random.RandomState(seed)
    t, f = rng.rand(n), 4000 * rng.rand(n)
    W = np.stack([np.exp(-(((f - 1000) / 400) ** 2)), np.exp(-(((f - 3000) / 500) ** 2))], 1)
    H = np.stack([1 + np.sin(2 * np.pi * t), 1 + np.cos(3 * np.pi * t)], 1)
    return np.column_stack([t, f, (W * H).sum(1) + 0.05])
