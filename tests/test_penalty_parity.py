"""Penalised MatrixNMF is scikit-learn's penalised KL-MU NMF, names included.

scikit-learn factorises ``X (n_samples, n_features) ~= W H`` and scales
``alpha_W`` by ``n_features`` and ``alpha_H`` by ``n_samples``. The package's
orientation (the unpenalised parity tests, ``fit(X, factors=[...])``) has the
frames as sklearn's samples: sklearn is fitted on the (times x freqs) matrix,
its ``W`` is our activations (axis 0) and its ``components_`` our templates.
``MatrixNMF(alpha_W=a, alpha_H=b)`` must then be ``NMF(alpha_W=a,
alpha_H=b).fit(V.T)`` from the same initial factors, to 1e-8 relative.
"""

import warnings

import numpy as np
import pytest
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

from sklearn_innmf import MatrixNMF, grid_to_points

N_TIMES, N_FREQS, K = 60, 40, 4
# (alpha_W, alpha_H, l1_ratio): each side alone, both, "same", pure L1 / L2 / mixed
PENALTIES = [
    (0.1, 0.0, 1.0), (0.0, 0.1, 1.0), (0.1, 0.0, 0.0), (0.0, 0.1, 0.0),
    (0.05, 0.02, 0.5), (0.02, 0.2, 0.3), (0.03, "same", 0.7), (0.5, 0.5, 1.0),
]


def lowrank_grid(seed=0, mean=3.0):
    """A (freqs x times) positive grid of rank about K, mean ``mean`` (not 1:
    the penalties are stated in the user's units, MatrixNMF works on m / mean)."""
    rng = np.random.RandomState(seed)
    V = rng.rand(N_FREQS, K) @ rng.rand(K, N_TIMES) + 0.1 * rng.rand(N_FREQS, N_TIMES)
    V *= mean / V.mean()
    times, freqs = np.arange(N_TIMES) * 0.01, np.arange(N_FREQS) * 50.0
    return V, times, freqs


def fit_both(alpha_W, alpha_H, l1_ratio, *, beta_loss="kullback-leibler", seed=0, max_iter=100):
    V, times, freqs = lowrank_grid(seed)
    rng = np.random.RandomState(seed + 1)
    A0, T0 = rng.rand(N_TIMES, K) + 0.1, rng.rand(N_FREQS, K) + 0.1  # activations, templates
    penalty = {"alpha_W": alpha_W, "alpha_H": alpha_H, "l1_ratio": l1_ratio}
    skl = NMF(K, solver="mu", beta_loss=beta_loss, init="custom", max_iter=max_iter, tol=0,
              **penalty)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # tol=0: a fixed budget
        W = skl.fit_transform(V.T.copy(), W=A0.copy(), H=T0.T.copy())  # samples = our times
    ours = MatrixNMF(K, beta_loss=beta_loss, init="custom", max_iter=max_iter, tol=0,
                     dtype="float64", **penalty).fit(grid_to_points(V, times, freqs),
                                                     factors=[A0, T0])
    return ours, skl, W, times, freqs


def relative(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("alpha_W, alpha_H, l1_ratio", PENALTIES)
def test_penalised_fit_is_sklearns(alpha_W, alpha_H, l1_ratio):
    ours, skl, W, times, freqs = fit_both(alpha_W, alpha_H, l1_ratio)
    assert ours.n_iter_ == skl.n_iter_ == 100
    assert relative(ours.activations(times), W) < 1e-8
    assert relative(ours.templates(freqs), skl.components_.T) < 1e-8
    assert ours.reconstruction_err_ == pytest.approx(skl.reconstruction_err_, rel=1e-8)


@pytest.mark.parametrize("beta_loss", ["frobenius", "itakura-saito", 0.5])
@pytest.mark.parametrize("alpha_W, alpha_H, l1_ratio", [(0.05, 0.02, 0.5), (0.0, 0.1, 1.0)])
def test_penalised_fit_is_sklearns_other_losses(beta_loss, alpha_W, alpha_H, l1_ratio):
    ours, skl, W, times, freqs = fit_both(alpha_W, alpha_H, l1_ratio, beta_loss=beta_loss,
                                          max_iter=50)
    assert relative(ours.activations(times), W) < 1e-8
    assert relative(ours.templates(freqs), skl.components_.T) < 1e-8
    assert ours.reconstruction_err_ == pytest.approx(skl.reconstruction_err_, rel=1e-8)


def test_the_penalties_sit_where_the_docstring_says():
    """The names are not swapped, and the parity is not the unpenalised fit
    twice: an L1 ``alpha_W`` shrinks the activations (sklearn's W, our axis
    0) and the templates grow to make up for it; ``alpha_H`` the other way
    round (measured: activation mass 287 -> 3.6, templates 100 -> 8090 with
    ``alpha_W=0.5``; templates 100 -> 2.3 with ``alpha_H=0.5``)."""
    plain, _, _, times, freqs = fit_both(0.0, 0.0, 0.0)
    on_w = fit_both(0.5, 0.0, 1.0)[0]
    on_h = fit_both(0.0, 0.5, 1.0)[0]

    def masses(est):
        return est.activations(times).sum(), est.templates(freqs).sum()

    (a0, t0), (a_w, t_w), (a_h, t_h) = masses(plain), masses(on_w), masses(on_h)
    assert a_w < 0.1 * a0 and t_w > 10 * t0
    assert t_h < 0.1 * t0 and a_h > 10 * a0


@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_same_takes_alpha_W(l1_ratio):
    same, _, _, times, _ = fit_both(0.04, "same", l1_ratio)
    both, _, _, _, _ = fit_both(0.04, 0.04, l1_ratio)
    np.testing.assert_array_equal(same.activations(times), both.activations(times))

