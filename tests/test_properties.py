"""Property-based tests over generated point arrays (hypothesis).

Each property is checked on grids, masked grids, scattered (irregular) points
and grids with duplicated points, with 1 to 3 coordinate columns, coordinates
in units from 1e-3 to 1e4 and magnitudes from 1e-6 to 1e6, in float32 and
float64. The estimators are tiny (2 components, a few iterations, small
networks) so that each example fits in milliseconds; the properties do not
depend on convergence.

CI checks a fixed set of 15 examples per property;
``SKLEARN_INNMF_EXAMPLES=200 pytest tests/test_properties.py`` explores 200
new random ones.
"""

import math
import os
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone

import sklearn_innmf.problem.data as model_module
from sklearn_innmf import ImplicitNMF, MatrixNMF
from sklearn_innmf.problem import prepare_points

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # tiny grids: n_components=2 may exceed an axis' number of values
    pytest.mark.filterwarnings("ignore:n_components=.* is larger:UserWarning"),
    # the properties hold for any number of coordinate axes, drawn here
    pytest.mark.filterwarnings("ignore:X has .* columns. read as:UserWarning"),
    # the properties are checked on factors sampled anywhere, also beyond the
    # training range (the warning itself is tested in test_problem.py)
    pytest.mark.filterwarnings("ignore:.* lie outside the training range:UserWarning"),
]

# CI runs a fixed set of examples (derandomize); setting the variable explores
# new random ones, as many as it says
_EXPLORE = os.environ.get("SKLEARN_INNMF_EXAMPLES")
SETTINGS = settings(
    max_examples=int(_EXPLORE or 15),
    derandomize=not _EXPLORE,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

TINY_IMPLICIT = dict(encoding_size=3, hidden_size=8, n_layers=1, max_iter=5, random_state=0)
ESTIMATORS = [
    MatrixNMF(2, max_iter=20, random_state=0),
    ImplicitNMF(2, **TINY_IMPLICIT),
    ImplicitNMF(2, time_factor="table", architecture="shared", **TINY_IMPLICIT),
]
IDS = ["matrix", "implicit", "implicit-table-shared"]

LAYOUTS = ("grid", "masked grid", "scattered", "duplicates")


@st.composite
def point_arrays(draw, layouts=LAYOUTS, n_coordinates=(1, 2, 3), dtypes=(np.float64, np.float32)):
    """A valid point array (L, d + 1) and its layout name."""
    layout = draw(st.sampled_from(layouts))
    d = draw(st.sampled_from(n_coordinates))
    axes = []
    for _ in range(d):
        n = draw(st.integers(2, 7))
        steps = draw(hnp.arrays(np.float64, n, elements=st.floats(0.05, 1.0)))
        start = draw(st.floats(0.0, 5.0))
        unit = 10.0 ** draw(st.integers(-3, 4))
        axes.append((start + np.cumsum(steps)) * unit)  # irregular, increasing
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    n_cells = len(grid)
    if layout == "grid" or (layout == "masked grid" and n_cells < 3):
        coords = grid
    elif layout == "masked grid":  # dense enough for the grid code path
        low = max(2, math.ceil(model_module._MIN_FILL * n_cells))
        n_keep = draw(st.integers(low, n_cells - 1))
        order = draw(st.permutations(range(n_cells)))
        coords = grid[np.sort(order[:n_keep])]
    elif layout == "duplicates":  # several points in one cell
        extra = draw(st.lists(st.integers(0, n_cells - 1), min_size=1, max_size=n_cells))
        coords = np.vstack([grid, grid[extra]])
    else:  # scattered: coordinates drawn independently, mostly unique
        n = draw(st.integers(2, 40))
        unit = 10.0 ** draw(st.integers(-3, 4))
        coords = draw(
            hnp.arrays(np.float64, (n, d), elements=st.floats(0.0, 100.0))
        ) * unit
    values = st.one_of(st.just(0.0), st.floats(1e-3, 1.0))
    m = draw(hnp.arrays(np.float64, len(coords), elements=values))
    m = m * 10.0 ** draw(st.integers(-6, 6))
    dtype = draw(st.sampled_from(dtypes))
    X = np.column_stack([coords, m]).astype(dtype)
    assume(np.any(X[:, -1] > 0))
    return X, layout


def reconstruction(est, X):
    return est.inverse_transform(est.transform(X))[:, -1]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@SETTINGS
@given(data=point_arrays(), seed=st.integers(0, 2**32 - 1))
def test_transform_is_invariant_to_row_order(estimator, data, seed):
    """transform is a function of each row: permuting the rows permutes the output
    exactly, and a subset of rows gives the same rows (float64: to rounding)."""
    X, _ = data
    est = clone(estimator).fit(X)
    Z = est.transform(X)
    rng = np.random.RandomState(seed % 2**32)
    perm = rng.permutation(len(X))
    np.testing.assert_array_equal(est.transform(X[perm]), Z[perm])
    if X.dtype == np.float64:
        subset = rng.rand(len(X)) < 0.5
        assume(subset.any())
        np.testing.assert_allclose(est.transform(X[subset]), Z[subset], rtol=1e-12, atol=0)


@SETTINGS
@given(data=point_arrays(dtypes=(np.float64,)), seed=st.integers(0, 2**32 - 1))
def test_matrix_fit_is_invariant_to_row_order(data, seed):
    """The order of the points is not information: MatrixNMF fitted on shuffled
    rows is the same model (to float64 rounding: scatter-add sums in another
    order)."""
    X, _ = data
    est = MatrixNMF(2, max_iter=20, random_state=0, dtype="float64")
    perm = np.random.RandomState(seed % 2**32).permutation(len(X))
    a = clone(est).fit(X).transform(X)
    b = clone(est).fit(X[perm]).transform(X)
    np.testing.assert_allclose(b, a, rtol=1e-8, atol=1e-10 * np.abs(a).max())


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@SETTINGS
@given(data=point_arrays(), log_c=st.floats(-6.0, 6.0))
def test_scale_equivariance(estimator, data, log_c):
    """Fitting on c * m gives c times the reconstruction.

    The estimators train on m / mean(m), so the normalised data differ only by
    rounding (float32: one ulp here and there). Multiplicative updates are
    continuous in the data; Rprop follows the signs of the gradients, which
    rounding does not flip here, so ImplicitNMF takes the same path too:
    relative agreement 1e-5 (float32 training) for all three.
    """
    X, _ = data
    c = 10.0**log_c
    Xc = X.copy()
    Xc[:, -1] = (X[:, -1].astype(np.float64) * c).astype(X.dtype)
    assume(np.any(Xc[:, -1] > 0))
    a = reconstruction(clone(estimator).fit(X), X).astype(np.float64)
    b = reconstruction(clone(estimator).fit(Xc), Xc).astype(np.float64)
    np.testing.assert_allclose(b, c * a, rtol=1e-5, atol=1e-5 * c * np.abs(a).max())


def _small_grid(level):
    rng = np.random.RandomState(0)
    V = rng.rand(6, 2) @ rng.rand(2, 5) * level
    t, f = np.meshgrid(np.arange(5) * 0.01, np.arange(6) * 50.0, indexing="ij")
    return np.column_stack([t.ravel(), f.ravel(), V.T.ravel()])


# a 2 x 2 grid with one non-zero cell: sklearn's NNDSVD divides 0 by 0 on it
_ONE_CELL = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
ESTIMATORS_NNDSVD = [
    pytest.param(est, id=name, marks=())
    for est, name in zip(ESTIMATORS, IDS)
]


@pytest.mark.parametrize("estimator", ESTIMATORS_NNDSVD)
@SETTINGS
@given(data=point_arrays(), log_c=st.floats(-6.0, 6.0))
@example(data=(_small_grid(1e-9), "grid"), log_c=0.0)
@example(data=(_ONE_CELL, "grid"), log_c=0.0)
def test_score_is_scale_equivariant_and_not_positive(estimator, data, log_c):
    """score is minus a divergence (KL: degree 1 in m), so it is <= 0 and the
    model fitted on c * m scores c times on c * m. KL clips the model at
    float32's eps, as sklearn does: relative to the data's level, a
    near-perfect fit may score a hair (1e-6 * mean(m)) above 0."""
    X, _ = data
    c = 10.0**log_c
    Xc = X.copy()
    Xc[:, -1] = (X[:, -1].astype(np.float64) * c).astype(X.dtype)
    assume(np.any(Xc[:, -1] > 0))
    a = clone(estimator).fit(X).score(X)
    b = clone(estimator).fit(Xc).score(Xc)
    level = float(np.mean(X[:, -1], dtype=np.float64))
    assert a <= 1e-6 * level
    assert b == pytest.approx(c * a, rel=1e-3, abs=1e-6 * c * level)


@pytest.mark.parametrize("estimator", ESTIMATORS_NNDSVD)
@SETTINGS
@given(data=point_arrays())
@example(data=(_ONE_CELL, "grid"))
def test_outputs_are_finite_and_non_negative(estimator, data):
    X, _ = data
    est = clone(estimator).fit(X)
    d = X.shape[1] - 1
    Z = est.transform(X)
    assert Z.dtype == X.dtype
    np.testing.assert_array_equal(Z[:, :d], X[:, :d])
    assert np.all(np.isfinite(Z)) and np.all(Z[:, d:] >= 0)
    X_hat = est.inverse_transform(Z)
    assert np.all(np.isfinite(X_hat)) and np.all(X_hat[:, -1] >= 0)
    assert math.isfinite(est.score(X))
    assert np.all(np.isfinite(est.loss_curve_)) and math.isfinite(est.reconstruction_err_)
    for axis in range(d):
        lo, hi = est.coordinate_ranges_[axis]
        # inside, between and beyond the training coordinates
        G = est.factor(axis, np.linspace(0.0, 2 * hi + 1.0, 9))
        assert G.shape == (9, 2) and np.all(np.isfinite(G)) and np.all(G >= 0)
    new = est.fit_activations(X)
    Zn = new.transform(X)
    assert np.all(np.isfinite(Zn)) and np.all(Zn[:, d:] >= 0)


GRID_VS_POINTS = [
    MatrixNMF(2, init="random", max_iter=20, random_state=0, dtype="float64"),
    ImplicitNMF(2, dtype="float64", **TINY_IMPLICIT),
    ImplicitNMF(2, time_factor="table", dtype="float64", **TINY_IMPLICIT),
]
GRID_VS_POINTS_IDS = ["matrix", "implicit", "implicit-table"]


def _check_dense_and_point_paths_agree(estimator, X, masked):
    """The dense (masked) grid path and the scatter-add point path are one
    algorithm: in float64 they agree to rounding (1e-9). For ImplicitNMF the
    losses and gradients agree to rounding, and Rprop, which follows their
    signs, takes the same steps. ``init="random"``: the default init is NNDSVDa
    on a full grid, which the point path cannot compute."""
    points = prepare_points(X[:, :2], X[:, 2], scale=1.0, device="cpu", dtype=torch.float64)
    assert points.grid is not None
    # dropping cells can empty a row: what is left is then a smaller full grid
    assume((points.mask is not None) == masked)
    dense = clone(estimator).fit(X)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model_module, "_MIN_FILL", 2.0)  # never lay the points out as a grid
        points = prepare_points(X[:, :2], X[:, 2], scale=1.0, device="cpu", dtype=torch.float64)
        assert points.grid is None
        scattered = clone(estimator).fit(X)
    a, b = dense.transform(X), scattered.transform(X)
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9 * np.abs(a[:, 2:]).max())
    np.testing.assert_allclose(
        scattered.loss_curve_, dense.loss_curve_, rtol=1e-9, atol=1e-12 * dense.loss_curve_[0]
    )


_GRID = _small_grid(1.0)


@pytest.mark.parametrize("estimator", GRID_VS_POINTS, ids=GRID_VS_POINTS_IDS)
@SETTINGS
@given(data=point_arrays(layouts=("grid",), n_coordinates=(2,), dtypes=(np.float64,)))
@example(data=(_GRID, "grid"))
def test_full_grid_and_point_paths_agree(estimator, data):
    _check_dense_and_point_paths_agree(estimator, data[0], masked=False)


@pytest.mark.parametrize("estimator", GRID_VS_POINTS, ids=GRID_VS_POINTS_IDS)
@SETTINGS
@given(data=point_arrays(layouts=("masked grid",), n_coordinates=(2,), dtypes=(np.float64,)))
@example(data=(_GRID[np.arange(len(_GRID)) % 4 != 1], "masked grid"))  # no zero magnitude
def test_masked_grid_and_point_paths_agree(estimator, data):
    _check_dense_and_point_paths_agree(estimator, data[0], masked=True)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
@SETTINGS
@given(data=point_arrays(n_coordinates=(2,)))
def test_fit_transform_equals_fit_then_transform(estimator, data):
    X, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Z1 = clone(estimator).fit_transform(X)
        Z2 = clone(estimator).fit(X).transform(X)
    assert Z1.dtype == Z2.dtype == X.dtype
    np.testing.assert_array_equal(Z1, Z2)
