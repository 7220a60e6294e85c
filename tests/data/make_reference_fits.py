"""Fits of every estimator at a fixed ``random_state``, for the bitwise test.

``python tests/data/make_reference_fits.py`` rewrites ``reference_fits.npz``.
It was run once before the package was split into subpackages (0.1 layout,
commit 4489494); an estimator added later gets its entries when it is added
(the script adds only what the file lacks); ``tests/test_bitwise.py`` refits the same estimators and asserts
that every array is bitwise equal, so a restructuring cannot change a result.
Run it again only on purpose (a change that is meant to alter results), and
say so in the changelog. It uses only the top-level public imports, which both
layouts share.
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def _field(n=240, seed=0):
    rng = np.random.RandomState(seed)
    t = np.repeat(np.linspace(0, 1, 12), n // 12)
    f = np.tile(np.linspace(50, 4000, n // 12), 12)
    W = np.stack([np.exp(-(((f - 1000) / 400) ** 2)), np.exp(-(((f - 3000) / 500) ** 2))], 1)
    H = np.stack([1 + np.sin(2 * np.pi * t), 1 + np.cos(3 * np.pi * t)], 1)
    m = (W * H).sum(1) + 0.05 + 0.01 * rng.rand(n)
    return np.column_stack([t, f, m])


def reference_fits():
    """name -> array, for every estimator and the methods that fit."""
    from sklearn_innmf import (
        ComponentGroupSeparator,
        ImplicitNMF,
        MatrixNMF,
        MiniBatchMatrixNMF,
        NonNegativeAutoencoder,
        SupervisedSeparator,
    )

    X = _field()
    X_b = _field(seed=1)
    X_b[:, 2] = X_b[::-1, 2]  # another source: the same grid, other values
    y = np.r_[np.zeros(len(X)), np.ones(len(X_b))]
    mix = X.copy()
    mix[:, 2] += np.interp(X[:, 1], X_b[:240:12, 1], X_b[:240:12, 2])

    tiny = dict(hidden_size=8, n_layers=2, encoding_size=3, max_iter=30, tol=0)
    estimators = {
        "matrix": MatrixNMF(3, max_iter=40, tol=0, random_state=0),
        "implicit": ImplicitNMF(3, random_state=0, **tiny),
        "implicit_table": ImplicitNMF(3, time_factor="table", random_state=1, **tiny),
        "implicit_shared": ImplicitNMF(3, architecture="shared", random_state=2, **tiny),
        "nae": NonNegativeAutoencoder(3, max_iter=30, latent_iter=10, tol=0, random_state=0),
        # added in 0.2 (after the split): recorded then, kept as recorded
        "minibatch": MiniBatchMatrixNMF(3, batch_size=4, max_iter=10, tol=0, random_state=0),
    }
    out = {}
    for name, est in estimators.items():
        Z = est.fit_transform(X)
        out[f"{name}.transform"] = Z
        out[f"{name}.loss_curve"] = np.asarray(est.loss_curve_, dtype=float)
        out[f"{name}.score"] = np.array([est.score(X_b)])
        refit = est.fit_activations(X_b)
        out[f"{name}.fit_activations"] = refit.transform(X_b)
    bases = {
        "matrix": MatrixNMF(2, max_iter=30, tol=0, random_state=0),
        "implicit": ImplicitNMF(2, random_state=0, **tiny),
        "nae": NonNegativeAutoencoder(2, max_iter=20, latent_iter=10, tol=0, random_state=0),
    }
    for name, base in bases.items():
        sep = SupervisedSeparator(base, max_iter=15).fit(np.vstack([X, X_b]), y)
        out[f"supervised_{name}.transform"] = sep.transform(mix)
    grouping = ComponentGroupSeparator(MatrixNMF(4, max_iter=40, tol=0, random_state=0))
    out["grouping.transform"] = grouping.fit(mix).transform(mix)
    out["grouping.components_to_sources"] = np.asarray(grouping.components_to_sources_, dtype=float)
    return out


def main():
    """Add the entries the file lacks (an estimator added later); with
    ``--all``, rewrite every entry (a change meant to alter results)."""
    torch.set_num_threads(1)
    path = os.path.join(HERE, "reference_fits.npz")
    fits = reference_fits()
    if "--all" not in sys.argv and os.path.exists(path):
        fits.update(dict(np.load(path)))
    np.savez(path, **fits)


if __name__ == "__main__":
    sys.exit(main())
