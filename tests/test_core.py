"""Core behaviour of MatrixNMF and ImplicitNMF on point arrays."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

from sklearn_innmf import ImplicitNMF, MatrixNMF, grid_to_points, points_to_grid
from sklearn_innmf.divergences import EPSILON, beta_divergence
from sklearn_innmf.problem import prepare_points
from sklearn_innmf.solvers import multiplicative_update

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def random_grid(n_freqs=40, n_times=30, seed=0):
    rng = np.random.RandomState(seed)
    V = np.abs(rng.randn(n_freqs, n_times)) * 3
    times, freqs = np.arange(n_times) * 0.01, np.arange(n_freqs) * 10.0
    return V, times, freqs


def speech_like_stft(n_fft=512, sr=8000, duration=1.5, seed=0):
    """Two harmonic voices with gliding pitch and formant-like envelopes."""
    import librosa

    rng = np.random.RandomState(seed)
    t = np.arange(int(sr * duration)) / sr
    y = np.zeros_like(t)
    for f0_start, f0_end, formant, on in [(140, 190, 700, (0.0, 1.0)), (230, 200, 1500, (0.5, 1.5))]:
        f0 = np.linspace(f0_start, f0_end, t.size)
        phase = 2 * np.pi * np.cumsum(f0) / sr
        env = ((t >= on[0]) & (t < on[1])) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)
        for h in range(1, 16):
            amp = np.exp(-(((h * f0.mean()) - formant) / 600.0) ** 2) + 0.05
            y += env * amp / h * np.sin(h * phase)
    y += 1e-3 * rng.randn(t.size)
    S = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=n_fft // 2)) ** 0.5
    times = librosa.frames_to_time(np.arange(S.shape[1]), sr=sr, hop_length=n_fft // 2)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft)
    return grid_to_points(S, times, freqs)


# -- MatrixNMF is sklearn's KL-MU NMF on a grid --------------------------------


# sklearn's own advice against nndsvd with "mu", which we match, advice included
@pytest.mark.filterwarnings("ignore:The multiplicative update .* cannot update zeros")
@pytest.mark.parametrize("init", ["random", "nndsvda", "nndsvd", "nndsvdar"])
@pytest.mark.parametrize("beta_loss", ["kullback-leibler", "frobenius", 0.5, 1.5])
def test_matrix_nmf_matches_sklearn(init, beta_loss):
    V, times, freqs = random_grid()
    V /= V.mean()  # the init is computed on m / mean(m)
    X = grid_to_points(V, times, freqs)
    skl = NMF(5, solver="mu", beta_loss=beta_loss, init=init, random_state=0, max_iter=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        W = skl.fit_transform(V.T)  # sklearn's samples are our times
    ours = MatrixNMF(5, beta_loss=beta_loss, init=init, random_state=0, dtype="float64").fit(X)
    assert ours.n_iter_ == skl.n_iter_
    np.testing.assert_allclose(ours.activations(times), W, rtol=1e-9, atol=1e-9 * W.max())
    H = skl.components_.T
    np.testing.assert_allclose(ours.templates(freqs), H, rtol=1e-9, atol=1e-9 * H.max())
    assert ours.reconstruction_err_ == pytest.approx(skl.reconstruction_err_, rel=1e-9)


def test_matrix_nmf_custom_init_float32_matches_sklearn():
    V, times, freqs = random_grid(seed=1)
    rng = np.random.RandomState(3)
    W0, H0 = rng.rand(V.shape[1], 4) + 0.1, rng.rand(4, V.shape[0]) + 0.1
    skl = NMF(4, solver="mu", beta_loss="kullback-leibler", init="custom", max_iter=100, tol=0)
    W = skl.fit_transform(V.T.astype(np.float32), W=W0.astype(np.float32), H=H0.astype(np.float32))
    X = grid_to_points(V, times, freqs).astype(np.float32)
    ours = MatrixNMF(4, init="custom", max_iter=100, tol=0).fit(X, factors=[W0, H0.T])
    assert ours.n_iter_ == 100
    np.testing.assert_allclose(ours.activations(times), W, rtol=2e-4, atol=1e-4 * W.max())
    np.testing.assert_allclose(ours.templates(freqs), skl.components_.T, rtol=2e-4, atol=1e-5)


@pytest.mark.parametrize("layout", ["grid", "masked grid", "scattered"])
@pytest.mark.parametrize("beta", [1.0, 0.0, 2.0, 0.5, 3.0])
def test_each_multiplicative_update_decreases_loss(beta, layout):
    V, times, freqs = random_grid(seed=2)
    X = grid_to_points(V, times, freqs)
    if layout != "grid":
        X = X[np.random.RandomState(0).rand(len(X)) < (0.8 if layout == "masked grid" else 0.3)]
    data = prepare_points(X[:, :2], X[:, 2], scale=X[:, 2].mean(), device="cpu",
                          dtype=torch.float64)
    assert (data.grid is None) == (layout == "scattered")
    rng = np.random.RandomState(0)
    values = [torch.as_tensor(rng.rand(u.numel(), 4) + 0.1) for u in data.uniques]
    previous = np.inf
    for _ in range(30):
        for axis in (0, 1):
            multiplicative_update(values, axis, data, beta, with_loss=False)
            loss = float(data.loss(values, beta))
            assert loss <= previous * (1 + 1e-12)
            previous = loss


def test_loss_curve_checkpoints_decrease():
    V, times, freqs = random_grid(seed=2)
    X = grid_to_points(V, times, freqs)
    est = MatrixNMF(4, init="random", random_state=0, max_iter=55, tol=0).fit(X)
    curve = np.array(est.loss_curve_)
    assert len(curve) == 7  # after 0, 10, ..., 50 and 55 iterations
    assert np.all(np.diff(curve) <= 0)
    assert est.reconstruction_err_ == pytest.approx(np.sqrt(2 * curve[-1] * len(X)))


def test_masked_grid_and_scattered_paths_agree():
    """Dense masked updates and scatter-add updates are the same algorithm."""
    V, times, freqs = random_grid(seed=4)
    X = grid_to_points(V, times, freqs)
    keep = np.random.RandomState(0).rand(len(X)) < 0.8
    X = X[keep]
    a = MatrixNMF(3, init="random", random_state=0, max_iter=50, tol=0, dtype="float64").fit(X)
    import sklearn_innmf.problem.data as model_mod

    old = model_mod._MIN_FILL
    model_mod._MIN_FILL = 2.0  # never dense
    try:
        b = clone(a).fit(X)
    finally:
        model_mod._MIN_FILL = old
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-10)


def test_prepare_points_chooses_layout():
    V, times, freqs = random_grid(8, 6)
    X = grid_to_points(V, times, freqs)
    full = prepare_points(X[:, :2], X[:, 2], scale=1.0, device="cpu", dtype=torch.float64)
    assert full.grid is not None and full.mask is None
    np.testing.assert_array_equal(full.grid.numpy(), V.T)
    partial = prepare_points(X[::3, :2], X[::3, 2], scale=1.0, device="cpu", dtype=torch.float64)
    assert partial.grid is None  # a third of the cells: scattered
    dup = np.vstack([X, X[:1]])
    assert prepare_points(dup[:, :2], dup[:, 2], scale=1.0, device="cpu", dtype=torch.float64).grid is None


# -- ImplicitNMF ---------------------------------------------------------------


def test_implicit_table_time_close_to_matrix_nmf_on_speech_like_stft():
    X = speech_like_stft()
    K = 6
    matrix = MatrixNMF(K, init="random", max_iter=400, tol=0, random_state=0).fit(X)
    implicit = ImplicitNMF(K, time_factor="table", max_iter=400, random_state=0).fit(X)
    kl_matrix, kl_implicit = -matrix.score(X), -implicit.score(X)
    assert kl_implicit <= 1.10 * kl_matrix, (kl_implicit, kl_matrix)


def separable_field(n, seed):
    rng = np.random.RandomState(seed)
    t, f = rng.rand(n), 4000 * rng.rand(n)
    W = np.stack([np.exp(-(((f - 1000) / 400) ** 2)), np.exp(-(((f - 3000) / 500) ** 2))], 1) + 0.05
    H = np.stack([1 + np.sin(2 * np.pi * t), 1 + np.cos(2 * np.pi * 1.5 * t)], 1)
    return np.column_stack([t, f, (W * H).sum(1)])


def test_implicit_recovers_rank2_field_on_irregular_points():
    train, test = separable_field(3000, 0), separable_field(1000, 1)
    model = ImplicitNMF(2, max_iter=1000, random_state=0).fit(train)
    m_hat = model.inverse_transform(model.transform(test))[:, -1]
    rel = np.linalg.norm(m_hat - test[:, 2]) / np.linalg.norm(test[:, 2])
    assert rel < 0.05, rel


@pytest.mark.parametrize("architecture", ["separate", "shared"])
def test_implicit_factor_shapes_and_positivity(architecture):
    X = separable_field(500, 2)
    model = ImplicitNMF(3, architecture=architecture, max_iter=20, random_state=0).fit(X)
    with pytest.warns(UserWarning, match="outside the training range"):
        W = model.templates(np.linspace(0, 8000, 17))  # beyond the training range too
    H = model.activations(np.linspace(*model.coordinate_ranges_[0], 5))
    assert W.shape == (17, 3) and H.shape == (5, 3)
    assert np.all(W > 0) and np.all(H > 0)
    assert model.n_iter_ == 20 and len(model.loss_curve_) == 21


# -- both estimators -----------------------------------------------------------

ESTIMATORS = [
    MatrixNMF(3, max_iter=50, random_state=0),
    ImplicitNMF(3, max_iter=30, random_state=0),
    ImplicitNMF(3, max_iter=30, random_state=0, time_factor="table"),
]


@pytest.fixture(params=ESTIMATORS, ids=repr)
def estimator(request):
    return clone(request.param)


def test_transform_layout_and_inverse(estimator):
    X = speech_like_stft(n_fft=128, duration=0.5)
    Z = estimator.fit_transform(X)
    assert Z.shape == (len(X), 2 + 3)
    np.testing.assert_array_equal(Z[:, :2], X[:, :2])
    assert np.all(Z[:, 2:] >= 0)
    np.testing.assert_array_equal(Z, estimator.transform(X))
    X_hat = estimator.inverse_transform(Z)
    np.testing.assert_allclose(X_hat[:, 2], Z[:, 2:].sum(1))
    div = beta_divergence(torch.as_tensor(X[:, 2]), torch.as_tensor(X_hat[:, 2]), 1.0)
    assert estimator.score(X) == pytest.approx(-float(div), rel=1e-9)
    with pytest.raises(ValueError, match="expects 2 coordinate"):
        estimator.inverse_transform(Z[:, :4])


def test_scale_equivariance(estimator):
    """Fitting on c * m gives c times the reconstruction: internal normalisation."""
    X = speech_like_stft(n_fft=128, duration=0.5)
    Xc = X.copy()
    Xc[:, 2] *= 1000.0
    a = clone(estimator).fit(X).inverse_transform(estimator.fit_transform(X))[:, 2]
    b = clone(estimator).fit(Xc)
    b = b.inverse_transform(b.transform(Xc))[:, 2]
    np.testing.assert_allclose(b, 1000.0 * a, rtol=2e-3, atol=1e-3 * b.max())


def test_coordinate_units_do_not_matter(estimator):
    """Seconds vs milliseconds, Hz vs kHz: the same model."""
    X = speech_like_stft(n_fft=128, duration=0.5)
    Xu = X * np.array([1000.0, 1e-3, 1.0])
    ea, eb = clone(estimator).fit(X), clone(estimator).fit(Xu)
    a, b = ea.transform(X)[:, 2:], eb.transform(Xu)[:, 2:]
    if isinstance(estimator, MatrixNMF):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4 * a.max())
    else:
        # the same problem up to rounding of the scaled coordinates, which
        # Rprop's sign-based steps can amplify: compare the fits
        assert eb.score(Xu) == pytest.approx(ea.score(X), rel=0.1)


def test_fit_activations_freezes_templates(estimator):
    X = speech_like_stft(n_fft=256, duration=1.0)
    fitted = estimator.fit(X)
    V, times, freqs = points_to_grid(X)
    other = grid_to_points(V[:, ::-1].copy(), times, freqs)  # the signal reversed in time
    new = fitted.fit_activations(other)
    assert new is not fitted and type(new) is type(fitted)
    f = np.linspace(0, 4000, 33)
    np.testing.assert_allclose(new.templates(f), fitted.templates(f), rtol=1e-6)
    assert new.score(other) > fitted.score(other)
    # self is unchanged
    np.testing.assert_array_equal(fitted.transform(X), estimator.transform(X))


def test_pickle_roundtrip_is_exact(estimator):
    X = speech_like_stft(n_fft=128, duration=0.5)
    fitted = estimator.fit(X)
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.transform(X), fitted.transform(X))
    assert all(t.device.type == "cpu" for t in fitted.model_.state_dict().values())


def test_deterministic_given_random_state(estimator):
    X = speech_like_stft(n_fft=128, duration=0.5)
    a = clone(estimator).fit(X).transform(X)
    b = clone(estimator).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)


def test_dtype_preserved_and_float64_close_to_float32(estimator):
    X = speech_like_stft(n_fft=128, duration=0.5)
    X32 = X.astype(np.float32)
    e64, e32 = clone(estimator).fit(X), clone(estimator).fit(X32)
    Z64, Z32 = e64.transform(X), e32.transform(X32)
    assert Z64.dtype == np.float64 and Z32.dtype == np.float32
    if isinstance(estimator, MatrixNMF):
        np.testing.assert_allclose(Z32, Z64, rtol=1e-3, atol=1e-3 * Z64[:, 2:].max())
    else:
        # Rprop follows gradient signs, so float32 rounding of the coordinates
        # sends it on another path: compare the fits, not the factors
        assert e32.score(X) == pytest.approx(e64.score(X), rel=0.1)


def test_pandas_in_and_out(estimator):
    pd = pytest.importorskip("pandas")
    X = speech_like_stft(n_fft=128, duration=0.5)
    df = pd.DataFrame(X, columns=["t", "f", "m"])
    est = estimator.set_output(transform="pandas").fit(df)
    out = est.transform(df)
    prefix = type(estimator).__name__.lower()
    assert list(out.columns) == ["t", "f", f"{prefix}0", f"{prefix}1", f"{prefix}2"]


def test_three_axes_is_cp_decomposition(estimator):
    rng = np.random.RandomState(0)
    a, b, c = rng.rand(6, 2), rng.rand(5, 2), rng.rand(4, 2)
    T = np.einsum("ik,jk,lk->ijl", a, b, c)
    idx = np.array(np.meshgrid(range(6), range(5), range(4), indexing="ij")).reshape(3, -1).T
    X = np.column_stack([idx.astype(float), T.ravel()])
    with pytest.warns(UserWarning, match="X has 4 columns: read as 3 coordinate column"):
        clone(estimator).set_params(n_components=2, max_iter=2).fit(X)
    est = clone(estimator).set_params(n_components=2, n_coordinates=3).fit(X)
    assert est.transform(X).shape == (len(X), 3 + 2)
    assert est.factor(2, [0, 1, 2, 3]).shape == (4, 2)
    with pytest.raises(ValueError, match="needs \\(t, f, m\\) points"):
        est.templates([0.0])


def test_matrix_interpolation_options():
    V, times, freqs = random_grid(10, 8)
    X = grid_to_points(V, times, freqs)
    est = MatrixNMF(2, random_state=0).fit(X)
    W = est.templates(freqs)
    mid = est.templates([(freqs[0] + freqs[1]) / 2])
    np.testing.assert_allclose(mid[0], (W[0] + W[1]) / 2)
    est.set_params(interpolation="nearest")
    np.testing.assert_allclose(est.templates([freqs[0] + 1.0])[0], W[0])
    est.set_params(interpolation=None)
    np.testing.assert_allclose(est.templates(freqs), W)
    with pytest.raises(ValueError, match="not seen in fit"):
        est.templates([freqs[0] + 1.0])


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [MatrixNMF, ImplicitNMF])
@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.0, 1.0, -1.0], [1.0, 1.0, 1.0]]), "Negative values .* magnitude"),
        (np.array([[0.0, -1.0, 1.0], [1.0, 1.0, 1.0]]), "Negative values .* coordinate column 1"),
        (np.array([[0.0, 1.0, np.nan], [1.0, 1.0, 1.0]]), "NaN"),
        (np.array([[np.inf, 1.0, 1.0], [1.0, 1.0, 1.0]]), "infinity"),
        (np.array([[1.0], [2.0]]), "1 feature\\(s\\)"),
        (np.empty((0, 3)), "0 sample"),
        (np.array([[0.0, 1.0, 1.0]]), "1 sample"),
        (np.array([[0.0, 1.0, 0.0], [1.0, 2.0, 0.0]]), "All magnitudes in X are zero"),
        (np.array([[0.0, 1.0, 1j], [1.0, 1.0, 1.0]]), "[Cc]omplex"),
    ],
)
def test_bad_input_raises(Estimator, X, match):
    with pytest.raises(ValueError, match=match):
        Estimator(2, max_iter=2).fit(X)


def test_wrong_width_after_fit_and_bad_device():
    X = separable_field(50, 0)
    est = MatrixNMF(2, max_iter=5).fit(X)
    with pytest.raises(ValueError, match="X has 4 features, but MatrixNMF is expecting 3"):
        est.transform(np.hstack([X, X[:, :1]]))
    with pytest.raises(ValueError, match="device='tpu' is not a torch device"):
        MatrixNMF(2, device="tpu").fit(X)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            MatrixNMF(2, device="cuda").fit(X)


def test_n_coordinates_confirms_or_refuses_the_layout():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.rand(30), rng.rand(30) * 100, rng.rand(30)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        MatrixNMF(2, max_iter=5, tol=0, n_coordinates=2).fit(X)  # (t, f, m): no warning
    with pytest.raises(ValueError, match="X has 3 columns, but n_coordinates=1 expects 2"):
        MatrixNMF(2, n_coordinates=1).fit(X)
    with pytest.warns(UserWarning, match="X has 2 columns: read as 1 coordinate"):
        ImplicitNMF(1, max_iter=2).fit(X[:, [0, 2]])


def test_itakura_saito_with_zeros_is_refused():
    X = separable_field(50, 0)
    X[0, 2] = 0.0
    with pytest.raises(ValueError, match="beta <= 0.*zeros"):
        MatrixNMF(2, beta_loss="itakura-saito").fit(X)


def test_nndsvd_on_scattered_points_is_refused():
    X = separable_field(50, 0)
    with pytest.raises(ValueError, match="init='nndsvda' needs points that fill"):
        MatrixNMF(2, init="nndsvda").fit(X)


@pytest.mark.parametrize("learning_rate", ["auto", 1.0])
def test_convergence_warning_at_max_iter(learning_rate):
    """Stopped by max_iter: the warning names it, whether the three steps
    lowered the loss (the default rate) or raised it (a rate of 1.0 overshoots;
    then the warning also says the loss rose)."""
    X = separable_field(200, 0)
    with pytest.warns(ConvergenceWarning, match="max_iter=3") as record:
        est = ImplicitNMF(2, max_iter=3, learning_rate=learning_rate, random_state=0).fit(X)
    rose = est.loss_curve_[-1] > est.loss_curve_[0]
    assert rose == (learning_rate == 1.0)
    message = str(record[0].message)
    assert ("made the loss worse" in message) == rose
    assert "increase max_iter" in message


# -- subnormal factor entries are flushed to zero ------------------------------


def _flushes_subnormals():
    """Whether this thread's FPU flushes subnormal results to zero."""
    tiny = torch.finfo(torch.float32).tiny
    return bool(torch.tensor(tiny, dtype=torch.float32) * 0.5 == 0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("layout", ["grid", "scattered"])
@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_multiplicative_update_sets_subnormal_entries_to_zero(beta, layout, dtype, monkeypatch):
    """An activation headed below the smallest normal number becomes 0 (KL
    keeps sklearn's 2.2e-16 floor on the other axis, so activations are the
    axis it leaves free); the other entries are the plain MU update."""
    import sklearn_innmf.problem.data as model_mod

    if layout == "scattered":
        monkeypatch.setattr(model_mod, "_MIN_FILL", 2.0)  # never dense
    tiny = torch.finfo(dtype).tiny
    # t=0 is explained by component 0 alone: component 1's entry shrinks
    X = np.array([[0, 0, 1.0], [0, 1, 1e-5], [1, 0, 1.0], [1, 1, 1.0]])
    data = prepare_points(X[:, :2], X[:, 2], scale=1.0, device="cpu", dtype=dtype)
    assert (data.grid is None) == (layout == "scattered")
    W = torch.tensor([[1.0, 1.5 * tiny], [1.0, 1.0]], dtype=dtype)  # normal
    H = torch.tensor([[1.0, 1e-3], [1e-3, 1.0]], dtype=dtype)
    # the plain MU step in float64, without any floor
    W64, H64 = W.double(), H.double()
    V = torch.tensor([[1.0, 1e-5], [1.0, 1.0]], dtype=torch.float64)
    ratio = V / (W64 @ H64.T) if beta == 1 else V * (W64 @ H64.T) ** (beta - 2)
    expected = W64 * (ratio @ H64) / ((W64 @ H64.T) ** (beta - 1) @ H64)
    assert 0 < expected[0, 1] < 0.8 * tiny  # the plain step makes it subnormal

    values = [W, H]
    multiplicative_update(values, 0, data, beta, with_loss=False)
    assert values[0][0, 1] == 0
    keep = torch.ones_like(W, dtype=torch.bool)
    keep[0, 1] = False
    rtol = 1e-12 if dtype == torch.float64 else 1e-5
    np.testing.assert_allclose(values[0][keep].double(), expected[keep], rtol=rtol)


def test_fit_leaves_no_subnormal_factor_entries():
    """Two disjoint blocks fitted with one component too many: unneeded
    entries decay geometrically, past float32's smallest normal number within
    a few hundred iterations (without the flush, subnormal entries remain in
    both factors here). The process's flush-to-zero mode is not touched."""
    rng = np.random.RandomState(0)
    W = np.zeros((30, 2))
    W[:15, 0], W[15:, 1] = 1 + rng.rand(15), 1 + rng.rand(15)
    H = np.zeros((2, 40))
    H[0, :20], H[1, 20:] = 1 + rng.rand(20), 1 + rng.rand(20)
    X = grid_to_points((W @ H + 0.01).T, np.arange(30) * 0.01, np.arange(40) * 10.0)
    before = _flushes_subnormals()
    est = MatrixNMF(3, beta_loss="frobenius", init="random", random_state=0, max_iter=600,
                    tol=0).fit(X.astype(np.float32))
    assert _flushes_subnormals() == before
    tiny = np.finfo(np.float32).tiny
    n_zero = 0
    for factor in est.model_.factors:
        G = factor.values.numpy()
        assert G.dtype == np.float32
        assert not np.any((G > 0) & (G < tiny)), G[(G > 0) & (G < tiny)]
        n_zero += int((G == 0).sum())
    assert n_zero > 0  # entries did decay that far: the check above was live


def _plain_grid_update(values, axis, V, mask, beta):
    """The grid MU step written plainly (fresh arrays, boolean-mask floor)."""
    G, other = values[axis], values[1 - axis]
    WH = G @ other.T if axis == 0 else other @ G.T
    if beta < 2:
        WH[WH < EPSILON] = EPSILON
    weight = torch.ones_like(V) if mask is None else mask
    num, den = weight * V * WH ** (beta - 2), weight * WH ** (beta - 1)
    if axis == 1:
        num, den = num.T, den.T
    numerator, denominator = num @ other, den @ other
    denominator[denominator == 0] = EPSILON
    gamma = 1 / (2 - beta) if beta < 1 else (1 / (beta - 1) if beta > 2 else 1)
    G.mul_((numerator / denominator) ** gamma)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 3.0])
@pytest.mark.parametrize("layout", ["grid", "masked grid"])
def test_grid_update_reuses_its_work_array_and_keeps_the_numbers(layout, beta, dtype):
    """The grid update's buffers (a T x F work array kept across updates, in
    place masks, a broadcast KL denominator) give the plain formulas' numbers
    and leave the data untouched."""
    V, times, freqs = random_grid(seed=3)
    X = grid_to_points(V, times, freqs)
    if layout == "masked grid":
        X = X[np.random.RandomState(0).rand(len(X)) < 0.8]
    data = prepare_points(X[:, :2], X[:, 2], scale=X[:, 2].mean(), device="cpu", dtype=dtype)
    assert data.grid is not None and (data.mask is None) == (layout == "grid")
    grid, mask = data.grid.clone(), None if data.mask is None else data.mask.clone()
    rng = np.random.RandomState(0)
    values = [torch.as_tensor(rng.rand(u.numel(), 3) + 0.1, dtype=dtype) for u in data.uniques]
    plain = [v.clone() for v in values]
    for it in range(5):
        for axis in (0, 1):
            multiplicative_update(values, axis, data, beta, with_loss=axis == 0)
            _plain_grid_update(plain, axis, data.grid, data.mask, beta)
            if it == 0 and axis == 0:
                work = data.work.data_ptr()
    assert data.work.data_ptr() == work  # one work array for every update
    assert torch.equal(data.grid, grid)
    assert mask is None or torch.equal(data.mask, mask)
    rtol = 1e-5 if dtype == torch.float32 else 1e-12
    for ours, reference in zip(values, plain):
        np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=rtol)
