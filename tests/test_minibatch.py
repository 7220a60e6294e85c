"""Mini-batch MatrixNMF (MiniBatchMatrixNMF): the one-batch correspondence
with the full-batch fit, partial_fit, and the MiniBatchNMF tests of
scikit-learn's test_nmf.py that apply to point arrays.

A matrix ``A`` (n_samples x n_features) of sklearn's tests is the point
array of the spectrogram ``A.T``: samples are frames (column 0), features
frequencies; sklearn's ``W`` is our activation table and its
``components_`` our templates.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_innmf import MatrixNMF, grid_to_points
from sklearn_innmf import MiniBatchMatrixNMF


def points(A, dt=0.01, df=50.0):
    """The point array of sklearn's data matrix A (samples = frames)."""
    n, p = A.shape
    return grid_to_points(np.asarray(A).T, times=np.arange(n) * dt, freqs=np.arange(p) * df)


def frames(X, start, stop, dt=0.01):
    """The points of frames start:stop of ``points(A)``."""
    i = np.rint(X[:, 0] / dt).astype(int)
    return X[(i >= start) & (i < stop)]


def tables(est):
    return [f.values.detach().clone() for f in est.model_.factors]


ONE_BATCH = dict(forget_factor=0.0, tol=0, max_no_improvement=None, batch_size=10_000)


# -- the exact correspondence with MatrixNMF --------------------------------------


@pytest.mark.parametrize("beta_loss", [-0.5, 0, 0.5, 1, 1.5, 2, 2.5])
def test_nmf_minibatchnmf_equivalence(beta_loss):
    # sklearn's test: batch_size = n_samples and forget_factor 0 is NMF (its
    # stopping rule aside); here bit for bit, float64 and float32
    rng = np.random.RandomState(42)
    X = points(np.abs(rng.randn(48, 5)) + 0.1)
    for dtype in ("float64", "float32"):
        kw = dict(n_components=5, beta_loss=beta_loss, random_state=0, dtype=dtype, max_iter=40)
        full = MatrixNMF(tol=0, **kw).fit(X)
        mb = MiniBatchMatrixNMF(**ONE_BATCH, **kw).fit(X)
        for a, b in zip(tables(full), tables(mb)):
            assert torch.equal(a, b)
        assert mb.n_steps_ == 40 and mb.n_iter_ == 40
        np.testing.assert_array_equal(full.transform(X), mb.transform(X))


@settings(max_examples=15, deadline=None)
@given(
    n_frames=st.integers(3, 30),
    n_freqs=st.integers(2, 12),
    k=st.integers(1, 3),
    fill=st.sampled_from([1.0, 0.6]),
    seed=st.integers(0, 10_000),
)
def test_one_batch_is_full_batch(n_frames, n_freqs, k, fill, seed):
    # property: on any grid, full or with missing cells (masked updates), and
    # on scattered points, one batch with forget_factor=0 makes MatrixNMF's
    # updates bit for bit
    rng = np.random.default_rng(seed)
    X = points(rng.random((n_frames, n_freqs)) + 1e-3)
    keep = rng.random(X.shape[0]) < fill
    keep[:2] = True
    X = X[keep]
    if np.unique(X[:, 0]).size < 2:
        return
    kw = dict(n_components=k, random_state=seed, init="random", dtype="float64", max_iter=15)
    full = MatrixNMF(tol=0, **kw).fit(X)
    mb = MiniBatchMatrixNMF(**ONE_BATCH, **kw).fit(X)
    for a, b in zip(tables(full), tables(mb)):
        assert torch.equal(a, b)


def test_minibatch_nmf_partial_fit():
    # fit with fresh restarts over batches == partial_fit on the same batches
    # from the same initial factors (forget_factor=0: the same rho in both)
    rng = np.random.RandomState(42)
    A = np.abs(rng.randn(100, 5))
    X = points(A)
    H0 = np.abs(rng.randn(100, 5))
    W0 = np.abs(rng.randn(5, 5))
    kw = dict(n_components=5, init="custom", random_state=0, forget_factor=0.0, dtype="float64")
    mb1 = MiniBatchMatrixNMF(
        max_iter=2, batch_size=10, tol=0, max_no_improvement=None, fresh_restarts=True, **kw
    ).fit(X, factors=[H0, W0])
    mb2 = MiniBatchMatrixNMF(tol=0, **kw)
    for _ in range(2):
        for j in range(0, 100, 10):
            mb2.partial_fit(frames(X, j, j + 10), factors=[H0[j : j + 10], W0])
    assert mb1.n_steps_ == mb2.n_steps_ == 20
    # the same updates; only the magnitude unit differs (fit divides m by X's
    # mean, partial_fit by its first batch's), hence rounding
    np.testing.assert_allclose(mb1.templates(X[:5, 1]), mb2.templates(X[:5, 1]), rtol=1e-12)


def test_partial_fit_forget_factor_weights_recent_batches():
    # two halves with disjoint spectra: the templates learnt by partial_fit
    # lean to the recent half the more the past is forgotten
    A = np.zeros((40, 6)) + 1e-3
    A[:20, :3] += 1.0
    A[20:, 3:] += 1.0
    X = points(A)
    share = {}
    for ff in (0.0, 1.0):
        est = MiniBatchMatrixNMF(1, forget_factor=ff, init="random", random_state=0)
        est.partial_fit(frames(X, 0, 20)).partial_fit(frames(X, 20, 40))
        W = est.templates(X[:6, 1])[:, 0]
        share[ff] = W[3:].sum() / W.sum()
    assert share[0.0] > 0.99  # only the last batch
    assert 0.2 < share[1.0] < 0.8  # both batches


def test_partial_fit_subset_of_frequencies_and_unseen():
    rng = np.random.RandomState(0)
    X = points(np.abs(rng.randn(30, 8)) + 0.1)
    est = MiniBatchMatrixNMF(2, random_state=0).partial_fit(frames(X, 0, 15))
    W_before = est.templates(np.arange(8) * 50.0)
    part = frames(X, 15, 30)
    part = part[part[:, 1] < 200]  # 4 of the 8 frequencies
    est.partial_fit(part)
    W_after = est.templates(np.arange(8) * 50.0)
    # the batch's frequencies moved, the others kept their values
    assert not np.allclose(W_after[:4], W_before[:4])
    np.testing.assert_array_equal(W_after[4:], W_before[4:])
    assert est.n_steps_ == 2
    bad = part.copy()
    bad[0, 1] = 1234.5
    with pytest.raises(ValueError, match="coordinate column 1 that the first batch did not"):
        est.partial_fit(bad)
    with pytest.raises(ValueError, match="3 features"):
        est.partial_fit(np.column_stack([part, part[:, -1]]))


def test_deterministic_for_random_state():
    rng = np.random.RandomState(1)
    X = points(np.abs(rng.randn(60, 7)))
    a = MiniBatchMatrixNMF(3, batch_size=7, init="random", random_state=3).fit(X)
    b = MiniBatchMatrixNMF(3, batch_size=7, init="random", random_state=3).fit(X)
    c = MiniBatchMatrixNMF(3, batch_size=7, init="random", random_state=4).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert not np.array_equal(a.transform(X), c.transform(X))


def test_minibatch_beats_one_pass_of_full_batch():
    # many template updates per pass: after the same number of passes over
    # the frames, small batches fit better than full-batch MU
    rng = np.random.RandomState(0)
    A = rng.rand(400, 3) @ rng.rand(3, 20) + 0.01
    X = points(A)
    kw = dict(n_components=3, max_iter=5, tol=0, random_state=0)
    full = MatrixNMF(**kw).fit(X)
    mb = MiniBatchMatrixNMF(batch_size=20, max_no_improvement=None, **kw).fit(X)
    assert mb.n_steps_ == 100
    assert mb.score(X) > full.score(X)
    assert len(mb.loss_curve_) == 100 and mb.loss_curve_[-1] < mb.loss_curve_[0]


# -- ported from sklearn's test_nmf.py -------------------------------------------


def test_convergence_warning():
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        MiniBatchMatrixNMF(1, max_iter=1, max_no_improvement=None).fit(points(np.ones((4, 2))))


@pytest.mark.parametrize("param", [{"batch_size": 0}, {"forget_factor": 1.5},
                                   {"fresh_restarts_max_iter": 0}, {"max_no_improvement": 0}])
def test_minibatch_nmf_wrong_params(param):
    with pytest.raises(ValueError, match=list(param)[0]):
        MiniBatchMatrixNMF(**param).fit(points(np.ones((4, 2))))


@pytest.mark.parametrize("init", [None, "nndsvd", "nndsvda", "nndsvdar", "random"])
@pytest.mark.parametrize("alpha_W", (0.0, 1.0))
@pytest.mark.parametrize("alpha_H", (0.0, 1.0, "same"))
def test_nmf_fit_nn_output(init, alpha_W, alpha_H):
    A = np.c_[5.0 - np.arange(1, 6), 5.0 + np.arange(1, 6)]
    est = MiniBatchMatrixNMF(2, init=init, alpha_W=alpha_W, alpha_H=alpha_H, random_state=0)
    Z = est.fit_transform(points(A))
    assert np.all(Z[:, 2:] >= 0)
    assert all(bool((t >= 0).all()) for t in tables(est))


def test_nmf_fit_close():
    rng = np.random.RandomState(42)
    est = MiniBatchMatrixNMF(5, init="nndsvdar", random_state=0, max_iter=600, batch_size=2)
    assert est.fit(points(np.abs(rng.randn(6, 5)))).reconstruction_err_ < 0.1


def test_nmf_true_reconstruction():
    n_samples, n_features, n_components = 15, 10, 5
    rng = np.random.RandomState(42)
    W_true = np.zeros([n_samples, n_components])
    W_array = np.abs(rng.randn(n_samples))
    for j in range(n_components):
        W_true[j % n_samples, j] = W_array[j % n_samples]
    H_true = np.zeros([n_components, n_features])
    H_array = np.abs(rng.randn(n_components))
    for j in range(n_features):
        H_true[j % n_components, j] = H_array[j % n_components]
    X = points(W_true @ H_true)
    est = MiniBatchMatrixNMF(
        n_components, batch_size=3, random_state=0, max_iter=1000, dtype="float64"
    ).fit(X)
    assert est.reconstruction_err_ < 0.1
    np.testing.assert_allclose(est.inverse_transform(est.transform(X))[:, 2], X[:, 2], atol=1)


def test_fit_transform_is_fit_then_transform():
    rng = np.random.RandomState(42)
    X = points(np.abs(rng.randn(6, 5)))
    kw = dict(n_components=3, random_state=0, tol=1e-3, batch_size=2)
    np.testing.assert_array_equal(
        MiniBatchMatrixNMF(**kw).fit_transform(X), MiniBatchMatrixNMF(**kw).fit(X).transform(X)
    )


def test_mbnmf_inverse_transform():
    rng = np.random.RandomState(0)
    A = np.abs(rng.randn(6, 4))
    est = MiniBatchMatrixNMF(
        4, random_state=0, max_iter=500, init="nndsvdar", fresh_restarts=True, batch_size=2,
        dtype="float64", max_no_improvement=None,
    )
    X = points(A)
    np.testing.assert_allclose(est.inverse_transform(est.fit_transform(X))[:, 2], X[:, 2],
                               rtol=1e-3, atol=2e-2)


def test_n_components_greater_n_features():
    rng = np.random.RandomState(42)
    with pytest.warns(UserWarning, match="not unique"):
        MiniBatchMatrixNMF(15, random_state=0, tol=1e-2).fit(points(np.abs(rng.randn(30, 10))))


def test_nmf_negative_beta_loss():
    rng = np.random.RandomState(42)
    A = np.clip(rng.randn(6, 5), 0, None)
    for beta_loss in (-0.6, 0.0):
        with pytest.raises(ValueError, match="undefined where magnitudes are 0"):
            MiniBatchMatrixNMF(3, beta_loss=beta_loss, random_state=0).fit(points(A))
        est = MiniBatchMatrixNMF(3, beta_loss=beta_loss, init="random", random_state=0,
                                 max_iter=1000, batch_size=2).fit(points(A + 1e-9))
        assert all(bool(torch.isfinite(t).all()) for t in tables(est))
    for beta_loss in (0.2, 1.0, 1.2, 2.0, 2.5):
        est = MiniBatchMatrixNMF(3, beta_loss=beta_loss, init="random", random_state=0,
                                 batch_size=2).fit(points(A))
        assert all(bool(torch.isfinite(t).all()) for t in tables(est))


def test_nmf_regularization():
    rng = np.random.RandomState(42)
    X = points(np.abs(rng.randn(6, 5)))
    eps = np.finfo(np.float64).eps

    def fit(alpha, l1_ratio):
        est = MiniBatchMatrixNMF(3, alpha_W=alpha, l1_ratio=l1_ratio, random_state=42,
                                 dtype="float64")
        return [t.numpy() for t in tables(est.fit(X))]

    regul, model = fit(0.5, 1.0), fit(0.0, 1.0)
    # L1: more zeros in H and W (sklearn counts entries <= eps; the early
    # stop on the smoothed cost leaves the templates' at 1e-7 of their
    # largest, on their way to 0, so entries that small count here)
    for r, m in zip(regul, model):
        assert np.sum(r <= 1e-6 * r.max()) > np.sum(m <= 1e-6 * m.max())
    assert np.sum(regul[0] <= eps) > np.sum(model[0] <= eps)
    regul, model = fit(0.5, 0.0), fit(0.0, 0.0)
    assert sum(np.sum(r**2) for r in regul) < sum(np.sum(m**2) for m in model)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nmf_dtype_match(dtype):
    X = points(np.abs(np.random.RandomState(0).randn(20, 15))).astype(dtype)
    est = MiniBatchMatrixNMF(tol=1e-3, random_state=0, batch_size=5)
    assert est.fit(X).transform(X).dtype == dtype
    assert est.fit_transform(X).dtype == dtype


def test_nmf_float32_float64_consistency():
    X = points(np.abs(np.random.RandomState(0).randn(50, 7)))
    kw = dict(random_state=0, tol=1e-3, batch_size=10, n_components=3)
    Z32 = MiniBatchMatrixNMF(**kw).fit_transform(X.astype(np.float32))
    Z64 = MiniBatchMatrixNMF(dtype="float64", **kw).fit_transform(X)
    np.testing.assert_allclose(Z32, Z64, atol=1e-4, rtol=1e-3)


def test_feature_names_out():
    est = MiniBatchMatrixNMF(3, random_state=0).fit(points(np.abs(np.random.randn(10, 4))))
    assert list(est.get_feature_names_out()) == [
        "x0", "x1", "minibatchmatrixnmf0", "minibatchmatrixnmf1", "minibatchmatrixnmf2",
    ]


def test_minibatch_nmf_verbose(capsys):
    est = MiniBatchMatrixNMF(3, tol=1e-2, random_state=0, verbose=1, batch_size=10)
    est.fit(points(np.random.RandomState(0).random_sample((100, 10))))
    assert "MiniBatchMatrixNMF" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:X has .* columns. read as:UserWarning")
@parametrize_with_checks(
    [MiniBatchMatrixNMF(batch_size=5, max_iter=20)], expected_failed_checks=lambda est: {}
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
