"""Bad input, odd data and faults: a clear error or a finite answer, never NaN.

tests/test_core.py checks the basic refusals of ``fit`` (negative, NaN and
infinite values, one column, empty input, one point, all-zero magnitudes,
complex dtype). This battery covers the other entry points (``transform``,
``score``, ``fit_activations``), every column, the dtypes and containers a
user may pass, data that are valid but extreme, and training that goes wrong
(a non-finite loss, a diverging optimiser).
"""

import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import sklearn_innmf.problem.data as model_module
import sklearn_innmf.solvers.multiplicative as solvers_module
from sklearn_innmf import ImplicitNMF, MatrixNMF, grid_to_points
from sklearn_innmf.divergences import beta_divergence

from _helpers import field  # tests/_helpers.py

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

TINY = dict(encoding_size=4, hidden_size=16, n_layers=2, random_state=0)
ESTIMATORS = [
    MatrixNMF(2, max_iter=20, random_state=0),
    ImplicitNMF(2, max_iter=10, **TINY),
    ImplicitNMF(2, max_iter=10, time_factor="table", **TINY),
]
IDS = ["matrix", "implicit", "implicit-table"]


@pytest.fixture(scope="module")
def fitted():
    X = field(100)
    return {name: clone(est).fit(X) for name, est in zip(IDS, ESTIMATORS)}


def with_value(X, row, col, value):
    X = X.copy()
    X[row, col] = value
    return X


# -- refused values, at every entry point and in every column -----------------

METHODS = ["transform", "score", "fit_activations"]


def call(est, method, X):
    return getattr(est, method)(X)


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("col", [0, 1, 2], ids=["t", "f", "m"])
@pytest.mark.parametrize(
    "value, match",
    [
        (np.nan, "Input X contains NaN"),
        (np.inf, "Input X contains infinity"),
        (-np.inf, "Input X contains infinity"),
        (-1.0, "Negative values in data passed to X"),
    ],
    ids=["nan", "inf", "-inf", "negative"],
)
def test_bad_values_are_refused_after_fit(fitted, name, method, col, value, match):
    """The magnitude column is validated by transform too, though not used."""
    X = with_value(field(30, seed=1), 3, col, value)
    with pytest.raises(ValueError, match=match):
        call(fitted[name], method, X)


@pytest.mark.parametrize("col", [0, 1, 2], ids=["t", "f", "m"])
@pytest.mark.parametrize("value", [np.nan, -np.inf], ids=["nan", "-inf"])
def test_bad_values_are_refused_by_fit_in_every_column(col, value):
    X = with_value(field(30), 3, col, value)
    for est in ESTIMATORS:
        with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
            clone(est).fit(X)


@pytest.mark.parametrize(
    "col, message",
    [
        (0, "coordinate column 0 is -1.0 at row 3. Coordinates"),
        (1, "coordinate column 1 is -1.0 at row 3. Coordinates"),
        (2, "magnitude m=-1.0 at row 3. Magnitudes"),
    ],
    ids=["t", "f", "m"],
)
def test_negative_value_message_echoes_the_value_and_row(col, message):
    X = with_value(field(30), 3, col, -1.0)
    with pytest.raises(ValueError, match=re.escape(message)):
        MatrixNMF(2).fit(X)


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n_columns", [1, 2, 4])
def test_wrong_column_count_after_fit(fitted, name, method, n_columns):
    X = field(30, seed=1)
    X = np.hstack([X, X])[:, :n_columns]
    est = fitted[name]
    match = f"X has {n_columns} features, but {type(est).__name__} is expecting 3 features"
    with pytest.raises(ValueError, match=match):
        call(est, method, X)


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("method", METHODS)
def test_empty_input_after_fit(fitted, name, method):
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\) \(shape=\(0, 3\)\)"):
        call(fitted[name], method, np.empty((0, 3)))


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize(
    "X, match",
    [
        (np.zeros(3), "Expected 2D array, got 1D array"),
        (np.zeros((2, 2, 3)), "Found array with dim 3"),
    ],
    ids=["1d", "3d"],
)
def test_wrong_dimensions_after_fit(fitted, name, X, match):
    with pytest.raises(ValueError, match=match):
        fitted[name].transform(X)


@pytest.mark.parametrize("name", IDS)
def test_single_point_after_fit(fitted, name):
    """One point cannot be fitted (test_core), but it can be evaluated, and a
    single new point's activations can be learned."""
    est, X = fitted[name], field(30, seed=1)[:1]
    Z = est.transform(X)
    assert Z.shape == (1, 4) and np.all(np.isfinite(Z)) and np.all(Z[:, 2:] >= 0)
    np.testing.assert_allclose(Z, est.transform(field(30, seed=1))[:1], rtol=1e-12)
    assert np.isfinite(est.score(X))
    assert np.all(np.isfinite(est.fit_activations(X).transform(X)))


@pytest.mark.parametrize("name", IDS)
def test_all_zero_magnitudes_after_fit(fitted, name):
    """transform and score take any valid magnitudes; learning activations
    from nothing is refused."""
    est, X = fitted[name], field(30, seed=1)
    Xz = with_value(X, slice(None), 2, 0.0)
    np.testing.assert_array_equal(est.transform(Xz), est.transform(X))
    m_hat = est.inverse_transform(est.transform(Xz))[:, 2]
    assert est.score(Xz) == pytest.approx(-m_hat.mean(), rel=1e-9)  # KL(0 | y) = y
    with pytest.raises(ValueError, match="All magnitudes in X are zero: there is nothing"):
        est.fit_activations(Xz)


@pytest.mark.parametrize("name", IDS)
def test_complex_after_fit(fitted, name):
    with pytest.raises(ValueError, match="Complex data not supported"):
        fitted[name].transform(field(30).astype(np.complex128))


# -- dtypes and containers: the contract of scikit-learn's estimator checks ---


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_object_array_of_numbers_is_accepted(est):
    """sklearn's check_dtype_object: object arrays holding numbers are data."""
    X = field(60)
    a = clone(est).fit(X)
    b = clone(est).fit(X.astype(object))
    np.testing.assert_array_equal(b.transform(X.astype(object)), a.transform(X))


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ({"foo": "bar"}, TypeError, "float\\(\\) argument must be a string or a real number"),
        ("abc", ValueError, "could not convert string to float: 'abc'"),
        (None, ValueError, "Input X contains NaN"),  # None is a missing value
    ],
    ids=["dict", "str", "None"],
)
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_object_array_of_non_numbers_is_refused(est, bad, error, match):
    """sklearn's check_dtype_object asks for TypeError on a dict in X."""
    X = field(30).astype(object)
    X[0, 0] = bad
    with pytest.raises(error, match=match):
        clone(est).fit(X)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_sparse_input_is_refused(est):
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="Sparse data was passed for X, but dense data"):
        clone(est).fit(sparse.csr_matrix(field(30)))


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_integer_and_list_input_is_converted(est):
    X = np.round(field(60) * 10)
    a = clone(est).fit(X)
    b = clone(est).fit(X.astype(np.int64).tolist())
    np.testing.assert_array_equal(b.transform(X), a.transform(X))
    assert a.transform(X.astype(np.int64)).dtype == np.float64


@pytest.mark.parametrize("kind", ["str", "categorical"])
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_dataframe_with_string_column_is_refused(est, kind):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(field(30), columns=["t", "f", "m"])
    labels = ["a", "b"] * 15
    df["f"] = labels if kind == "str" else pd.Categorical(labels)
    with pytest.raises(ValueError, match="could not convert string to float: 'a'"):
        clone(est).fit(df)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_dataframe_columns_must_match_fit(est):
    """Swapped t and f columns would be a silent wrong answer: refused."""
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(field(30), columns=["t", "f", "m"])
    fitted = clone(est).fit(df)
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        fitted.transform(df[["f", "t", "m"]])
    with pytest.raises(ValueError, match="Feature names unseen at fit time:\n- freq"):
        fitted.transform(df.rename(columns={"f": "freq"}))


# -- n_components larger than the data support --------------------------------


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_too_many_components_warns(est):
    """As sklearn's NMF warns; the fit still ends finite."""
    V = np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 0.5]])  # 2 freqs x 3 times
    X = grid_to_points(V, times=[0.0, 0.1, 0.2], freqs=[100.0, 200.0])
    with pytest.warns(UserWarning, match="n_components=5 is larger than the number of "
                      r"distinct coordinate values of some axis \(min 2\)"):
        fitted = clone(est).set_params(n_components=5).fit(X)
    assert np.all(np.isfinite(fitted.transform(X)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clone(est).set_params(n_components=2).fit(X)
    assert not [w for w in caught if "n_components" in str(w.message)]


# -- valid but extreme data ----------------------------------------------------


def constant_model_kl(m):
    mu = m.mean()
    return float(np.mean(m * np.log(np.where(m > 0, m, 1.0) / mu) - m + mu))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "est",
    [
        MatrixNMF(3, max_iter=50, random_state=0),
        ImplicitNMF(3, max_iter=30, **TINY),
        ImplicitNMF(3, max_iter=30, time_factor="table", **TINY),
    ],
    ids=IDS,
)
def test_magnitudes_from_1e_minus_12_to_1e6(est, dtype):
    """18 decades in one input: no overflow or underflow, and a fit far better
    than the constant model (the mean)."""
    rng = np.random.RandomState(0)
    X = field(400)
    X[:, 2] = 10.0 ** rng.uniform(-12, 6, len(X))
    X[:2, 2] = [1e-12, 1e6]
    X = X.astype(dtype)
    fitted = clone(est).fit(X)
    Z = fitted.transform(X)
    assert Z.dtype == dtype and np.all(np.isfinite(Z)) and np.all(Z[:, 2:] >= 0)
    assert np.all(np.isfinite(fitted.loss_curve_))
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    score = fitted.score(X)
    m = X[:, 2].astype(np.float64)
    # KL clips the model at float32's eps (as sklearn does) below the data's
    # level: a near-perfect fit may score a hair above 0, never more
    assert np.isfinite(score) and score <= 1e-7 * m.mean()
    assert -score < 0.1 * constant_model_kl(m)


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("axis", [0, 1], ids=["one frame", "one frequency"])
def test_a_single_value_on_one_axis(est, axis):
    """One frame (or one frequency bin): the axis has no span to normalise."""
    X = field(60)
    X[:, axis] = 0.5 if axis == 0 else 440.0
    with pytest.warns(UserWarning, match=r"n_components=2 is larger .* \(min 1\)"):
        fitted = clone(est).fit(X)
    assert np.all(np.isfinite(fitted.transform(X)))
    # off the single training value: finite, and the networks say they are guessing
    networks = isinstance(est, ImplicitNMF)
    with pytest.warns(UserWarning, match="outside the training range") if networks else (
        warnings.catch_warnings()
    ):
        if not networks:
            warnings.simplefilter("error")
        assert np.all(np.isfinite(fitted.factor(axis, [0.0, 0.5, 440.0, 1e4])))
    assert fitted.loss_curve_[-1] <= fitted.loss_curve_[0]


@pytest.mark.parametrize("unit", [1e-30, 1e30, 1e-300, 1e300])
@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_extreme_coordinate_units(est, unit):
    """Any unit the coordinates are in (float64 input): a finite fit. (The
    networks map the coordinate range to [0, 1] in float64, whatever the
    training dtype: a span of 1e-300 is not rounded to 0.)"""
    X = field(60) * np.array([unit, unit, 1.0])
    fitted = clone(est).fit(X)
    Z = fitted.transform(X)
    assert np.all(np.isfinite(Z)) and np.all(Z[:, 2:] >= 0)
    assert np.isfinite(fitted.score(X))


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_tiny_magnitudes_score_like_scaled_ones(est):
    """The score is in m's unit: data at 1e-9 score 1e-9 times data at 1 (KL is
    homogeneous of degree 1), as their fits are the same."""
    X = field(100)
    Xs = with_value(X, slice(None), 2, X[:, 2] * 1e-9)
    a, b = clone(est).fit(X), clone(est).fit(Xs)
    assert b.score(Xs) <= 0
    assert b.score(Xs) == pytest.approx(1e-9 * a.score(X), rel=1e-4)


# -- zeros in the magnitudes ----------------------------------------------------


def test_kl_gradient_is_finite_where_m_is_zero():
    x = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    y = torch.tensor([0.5, 0.5, 1e-12], dtype=torch.float64, requires_grad=True)
    beta_divergence(x, y, 1.0).backward()
    assert torch.all(torch.isfinite(y.grad))
    mask = torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64)
    y.grad = None
    beta_divergence(x, y, 1.0, weight=mask).backward()
    assert torch.all(torch.isfinite(y.grad)) and y.grad[0] == 0


@pytest.mark.parametrize("time_factor", ["implicit", "table"])
def test_implicit_trains_when_some_magnitudes_are_zero(time_factor):
    """Silence is common in spectrograms: 10% zeros must not stop training."""
    # a grid (frames of 40 bins): a time table cannot explain the data alone
    V = np.array([[np.exp(-(((f - 1000 * k) / 400) ** 2)) for k in (1, 3)]
                  for f in np.linspace(0, 4000, 40)]) @ (1 + np.random.RandomState(0).rand(2, 30))
    V[np.random.RandomState(1).rand(*V.shape) < 0.1] = 0.0
    X = grid_to_points(V, times=np.arange(30) * 0.02, freqs=np.linspace(0, 4000, 40))
    est = ImplicitNMF(2, max_iter=40, time_factor=time_factor, tol=0, **TINY)
    fitted = clone(est).fit(X)
    one_step = clone(est).set_params(max_iter=1).fit(X)
    # the template networks learn (a table time factor alone would lower the loss)
    f = np.linspace(0, 4000, 50)
    assert np.max(np.abs(fitted.templates(f) - one_step.templates(f))) > 1e-2
    # the zeros are noise the smooth factors cannot follow, yet the loss falls
    assert fitted.loss_curve_[-1] < 0.5 * fitted.loss_curve_[0]


RANK_DEFICIENT_GRIDS = [
    np.array([[0.0, 0.0], [1.0, 0.0]]),  # one non-zero cell
    np.array([[0.0, 1.0], [0.0, 0.0], [0.0, 0.0], [0.0, 100.0]]),  # one active frame
]


@pytest.mark.parametrize(
    "init",
    [
        pytest.param(init, marks=()) if init != "random" else init
        for init in [None, "nndsvd", "nndsvda", "nndsvdar", "random"]
    ],
)
@pytest.mark.parametrize("V", RANK_DEFICIENT_GRIDS, ids=["one cell", "one frame"])
def test_matrix_rank_deficient_grid_fits_finite(V, init):
    """A grid with almost only zeros: every init gives finite factors and an
    exact fit (K=2 exceeds the rank)."""
    X = grid_to_points(V, times=np.arange(V.shape[1]) * 0.1, freqs=np.arange(V.shape[0]) * 50.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fitted = MatrixNMF(2, init=init, max_iter=100, random_state=0).fit(X)
    Z = fitted.transform(X)
    assert np.all(np.isfinite(Z)) and len(fitted.loss_curve_) > 0
    np.testing.assert_allclose(fitted.inverse_transform(Z)[:, 2], X[:, 2], atol=1e-3)


# -- training that goes wrong: never NaN -----------------------------------------


def loss_turns_nan_at(monkeypatch, call_number):
    """Make PointData.loss return NaN at its call_number-th call (1-based)."""
    real = model_module.PointData.loss
    calls = [0]

    def loss(self, values, beta):
        out = real(self, values, beta)
        calls[0] += 1
        return out * float("nan") if calls[0] == call_number else out

    monkeypatch.setattr(model_module.PointData, "loss", loss)


@pytest.mark.parametrize("time_factor", ["implicit", "table"])
def test_nonfinite_loss_restores_the_last_finite_state(monkeypatch, time_factor):
    """The loss of step 8 is NaN: the model is the one of step 7, exactly as a
    fit stopped at max_iter=7, and a ConvergenceWarning says so."""
    est = ImplicitNMF(2, max_iter=30, time_factor=time_factor, tol=0, **TINY)
    X = field(150)
    reference = clone(est).set_params(max_iter=7).fit(X)
    loss_turns_nan_at(monkeypatch, 9)  # calls 1..8 measure steps 0..7
    with pytest.warns(ConvergenceWarning, match=r"non-finite after 7 iteration\(s\); the "
                      "last finite state was kept.*learning_rate"):
        fitted = clone(est).fit(X)
    assert fitted.n_iter_ == 7
    assert fitted.loss_curve_ == reference.loss_curve_
    np.testing.assert_array_equal(fitted.transform(X), reference.transform(X))
    for t in fitted.model_.state_dict().values():
        assert torch.all(torch.isfinite(t))


def test_huge_learning_rate_nonfinite_loss_is_caught():
    """A real blow-up: Adam at learning_rate=1e10 overflows the networks' outputs."""
    X = field(150)
    est = ImplicitNMF(2, optimizer="adam", learning_rate=1e10, max_iter=30, **TINY)
    with pytest.warns(ConvergenceWarning, match="non-finite.*learning_rate"):
        est.fit(X)
    Z = est.transform(X)
    assert np.all(np.isfinite(Z)) and np.all(Z >= 0)
    assert np.isfinite(est.score(X)) and np.all(np.isfinite(est.loss_curve_))


@pytest.mark.parametrize("time_factor", ["implicit", "table"])
def test_diverging_fit_warns_about_the_learning_rate(time_factor):
    """Adam at learning_rate=1e6: the loss rises by orders of magnitude but
    stays finite. The user must hear about it, with the likely cause."""
    X = field(150)
    est = ImplicitNMF(2, optimizer="adam", learning_rate=1e6, max_iter=30,
                      time_factor=time_factor, **TINY)
    with pytest.warns(ConvergenceWarning, match=r"learning_rate=1000000\.0"):
        est.fit(X)
    assert np.all(np.isfinite(est.transform(X)))


def table_turns_nan_at(monkeypatch, call_number):
    """After the call_number-th multiplicative update, put a NaN in the table
    just updated (what an overflow inside the update would leave)."""
    real = solvers_module.multiplicative_update
    calls = [0]

    def update(values, axis, data, beta, **options):
        out = real(values, axis, data, beta, **options)
        calls[0] += 1
        if calls[0] == call_number:
            values[axis][0, 0] = float("nan")
        return out

    monkeypatch.setattr(solvers_module, "multiplicative_update", update)


@pytest.mark.parametrize("layout", ["grid", "scattered"])
def test_nan_in_multiplicative_update_is_rolled_back(monkeypatch, layout):
    """NaN appears in iteration 12; the loss check at iteration 20 sees it: the
    model returns to iteration 10's, the last checked finite state."""
    X = field(150) if layout == "scattered" else grid_to_points(
        np.random.RandomState(0).rand(20, 15), np.arange(15) * 0.01, np.arange(20) * 10.0
    )
    est = MatrixNMF(3, init="random", max_iter=50, tol=0, random_state=0)
    reference = clone(est).set_params(max_iter=10).fit(X)
    table_turns_nan_at(monkeypatch, 2 * 12 + 1)  # two updates (W, H) per iteration
    with pytest.warns(ConvergenceWarning, match=r"non-finite after 10 iteration\(s\)"):
        fitted = clone(est).fit(X)
    assert fitted.n_iter_ == 10
    np.testing.assert_array_equal(fitted.transform(X), reference.transform(X))
    assert fitted.loss_curve_ == reference.loss_curve_
    assert np.isfinite(fitted.reconstruction_err_)


def test_nan_after_the_last_check_is_rolled_back(monkeypatch):
    """NaN in iteration 12 of max_iter=15: only the final loss sees it."""
    X = field(150)
    est = MatrixNMF(3, init="random", max_iter=15, tol=0, random_state=0)
    reference = clone(est).set_params(max_iter=10).fit(X)
    table_turns_nan_at(monkeypatch, 2 * 12 + 1)
    with pytest.warns(ConvergenceWarning, match=r"non-finite after 10 iteration\(s\)"):
        fitted = clone(est).fit(X)
    np.testing.assert_array_equal(fitted.transform(X), reference.transform(X))
    assert np.all(np.isfinite(fitted.loss_curve_)) and np.isfinite(fitted.reconstruction_err_)


def test_matrix_nonfinite_warning_names_no_learning_rate(monkeypatch):
    table_turns_nan_at(monkeypatch, 2 * 12 + 1)
    est = MatrixNMF(3, init="random", max_iter=30, tol=0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="non-finite") as caught:
        est.fit(field(150))
    messages = " ".join(str(w.message) for w in caught)
    assert "learning_rate" not in messages and "scale of X" in messages
