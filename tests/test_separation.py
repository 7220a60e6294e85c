"""SupervisedSeparator and the waveform-to-waveform separation functions.

scikit-learn's estimator checks of the separator are in
test_estimator_checks.py, with those of the factorisations (its docstring
says why small settings hide no failure); here only the check of
``activations="implicit"``, which has one expected failure.
Separation quality is tested on synthetic harmonic sources, with settings
that converge.
"""

import copy

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_innmf import ImplicitNMF, MatrixNMF
from sklearn_innmf.metrics import beta_divergence_points, bss_eval
from sklearn_innmf.representations import stft_points
from sklearn_innmf.separation import (
    SupervisedSeparator,
    fit_separator,
    separate_mixture,
    separate_waveforms,
    training_points,
)

from _helpers import two_speakers  # tests/_helpers.py

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # sklearn's check data (and test_one_coordinate / test_three_coordinates)
    # are not (t, f, m) points on purpose; the warning is tested in test_core.py
    pytest.mark.filterwarnings("ignore:X has .* columns. read as:UserWarning"),
    pytest.mark.filterwarnings("ignore:.* lie outside the training range:UserWarning"),
]


@parametrize_with_checks(
    [
        SupervisedSeparator(
            MatrixNMF(2, max_iter=20), activations="implicit", max_iter=10, hidden_size=8,
            n_layers=1, encoding_size=2,
        )
    ],
    expected_failed_checks=lambda est: {
        "check_methods_subset_invariance": (
            "implicit activations are one function of time fitted to all the "
            "points given; a subset gives another fit (activations='frames' is "
            "invariant)"
        )
    },
)
def test_sklearn_compatible_implicit_activations(estimator, check):
    check(estimator)


# -- synthetic two-speaker separation -------------------------------------------

SR = 8000
N_FFT = 512


@pytest.fixture(scope="module")
def speakers():
    return two_speakers(SR)


BASES = {
    "matrix": MatrixNMF(8, random_state=0),
    # encoding_size=8: the finest Fourier feature spans ~4 training bins; with
    # the default 10 it spans one bin here and the templates ripple between
    # bins (SDR at n_fft=384 drops from ~13 to ~7 dB)
    "implicit": ImplicitNMF(
        8, time_factor="table", hidden_size=32, n_layers=2, encoding_size=8, max_iter=60,
        random_state=0,
    ),
}


@pytest.fixture(scope="module")
def separators(speakers):
    """Separators fitted on the training recordings, by base name, fitted once."""
    train, _, _ = speakers
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = fit_separator(
                train, SR, estimator=BASES[name], n_fft=N_FFT, max_iter=100, random_state=0
            )
        return cache[name]

    return get


@pytest.fixture(scope="module", params=sorted(BASES))
def fitted(request, separators):
    return request.param, separators(request.param)


def test_separation_reaches_8_db(fitted, speakers):
    name, separator = fitted
    _, mixture, truth = speakers
    estimates = separate_mixture(separator, mixture, SR, n_fft=N_FFT)
    assert estimates.shape == truth.shape
    result = bss_eval(truth, estimates, compute_permutation=False)
    assert np.all(result.sdr >= 8.0), (name, result)
    # the estimates add up to the mixture (masks sum to 1; STFT round trip)
    np.testing.assert_allclose(estimates.sum(axis=0), mixture, atol=1e-6)


def test_separation_at_another_resolution(fitted, speakers):
    """Templates learned at n_fft=512 explain a mixture analysed at 384."""
    name, separator = fitted
    _, mixture, truth = speakers
    estimates = separate_mixture(separator, mixture, SR, n_fft=384)
    result = bss_eval(truth, estimates, compute_permutation=False)
    assert np.all(result.sdr >= 6.0), (name, result)


def test_separate_waveforms_is_fit_then_separate(speakers):
    train, mixture, _ = speakers
    est = MatrixNMF(4, max_iter=30, random_state=0)
    a = separate_waveforms(train, mixture, SR, estimator=est, n_fft=256, max_iter=30)
    sep = fit_separator(train, SR, estimator=est, n_fft=256, max_iter=30)
    b = separate_mixture(sep, mixture, SR, n_fft=256)
    np.testing.assert_array_equal(a, b)


def test_training_points_lay_recordings_end_to_end(speakers):
    train, _, _ = speakers
    X, y = training_points(train, SR, n_fft=256, hop_length=64)
    assert X.shape[1] == 3 and set(np.unique(y)) == {0, 1}
    frames = [np.unique(X[y == s, 0]) for s in (0, 1)]
    n_expected = [sum(1 + len(w) // 64 for w in group) for group in train]
    assert [f.size for f in frames] == n_expected  # no two recordings share a frame
    assert frames[0].max() < frames[1].min()


@pytest.mark.parametrize(
    "sources, match",
    [(np.zeros(100), "one entry per source"), ([np.zeros((2, 100))], "shape=\\(2, 100\\)"),
     ([], "empty")],
)
def test_training_points_bad_sources(sources, match):
    with pytest.raises(ValueError, match=match):
        training_points(sources, SR)


# -- the separator on point arrays ---------------------------------------------


@pytest.fixture(scope="module")
def mixture_points(speakers):
    _, mixture, _ = speakers
    return stft_points(mixture, sr=SR, n_fft=N_FFT, power=1.0)


def test_sources_sum_to_mixture_and_layout(fitted, mixture_points):
    _, separator = fitted
    X = mixture_points
    Z = separator.transform(X)
    assert Z.shape == (len(X), 2 + 2) and Z.dtype == X.dtype
    np.testing.assert_array_equal(Z[:, :2], X[:, :2])
    assert np.all(Z[:, 2:] >= 0)
    np.testing.assert_allclose(Z[:, 2:].sum(axis=1), X[:, 2], rtol=1e-12, atol=0)
    np.testing.assert_allclose(separator.inverse_transform(Z), X, rtol=1e-12)
    masks = separator.masks(X)
    np.testing.assert_allclose(masks.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(masks * X[:, 2:], Z[:, 2:], rtol=1e-12)
    with pytest.raises(ValueError, match="expects 2 coordinate\\(s\\) \\+ 2 sources"):
        separator.inverse_transform(Z[:, :3])


def test_frames_are_independent(fitted, mixture_points):
    """A frame's result depends on its own points only: other frames removed,
    rows shuffled, another frame scaled, the frame itself scaled."""
    _, separator = fitted
    X = mixture_points
    full = separator.transform(X)
    times = np.unique(X[:, 0])
    keep = np.isin(X[:, 0], times[5:12])
    np.testing.assert_allclose(separator.transform(X[keep]), full[keep], rtol=1e-9, atol=1e-12)
    order = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(separator.transform(X[order]), full[order], rtol=1e-9, atol=1e-12)
    scaled = X.copy()
    scaled[X[:, 0] == times[3], 2] *= 1e3  # one loud frame
    out = separator.transform(scaled)
    other = X[:, 0] != times[3]
    np.testing.assert_allclose(out[other], full[other], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out[~other, 2:], 1e3 * full[~other, 2:], rtol=1e-6)


def test_chunks_of_frames_give_the_same_result(separators, mixture_points, monkeypatch):
    """Frames are solved in chunks to bound memory; the chunking is invisible."""
    import sklearn_innmf.separation.mixture as separation_module

    separator = separators("matrix")
    full = separator.transform(mixture_points)
    monkeypatch.setattr(separation_module, "_CHUNK", 1000)  # a few frames per chunk
    np.testing.assert_allclose(
        separator.transform(mixture_points), full, rtol=1e-9, atol=1e-12
    )


def test_score_mixture_and_sources(fitted, speakers, mixture_points):
    _, separator = fitted
    _, _, truth = speakers
    X = mixture_points
    true_mags = np.column_stack([stft_points(s, sr=SR, n_fft=N_FFT)[:, 2] for s in truth])
    Z = separator.transform(X)
    expected = -beta_divergence_points(
        np.column_stack([X[:, :2], true_mags]), Z, n_coordinates=2
    )
    assert separator.score(X, true_mags) == pytest.approx(expected, rel=1e-9)
    # swapped sources score worse
    assert separator.score(X, true_mags[:, ::-1]) < separator.score(X, true_mags)
    # without y: the model of the mixture (before the masks) against m
    assert -1.0 < separator.score(X) < 0.0
    # 1-D y: labels, as in fit (the whole m of a point to its source)
    labels = np.where(true_mags[:, 0] >= true_mags[:, 1], 0, 1)
    one_hot = np.zeros_like(true_mags)
    one_hot[np.arange(len(X)), labels] = X[:, 2]
    assert separator.score(X, labels) == pytest.approx(separator.score(X, one_hot), rel=1e-12)
    with pytest.raises(ValueError, match="not seen in fit"):
        separator.score(X, np.full(len(X), 7))
    with pytest.raises(ValueError, match="need shape"):
        separator.score(X, true_mags[:, :1])


def test_feature_names_and_pandas_output(speakers):
    pd = pytest.importorskip("pandas")
    train, mixture, _ = speakers
    X, y = training_points(train, SR, n_fft=128)
    df = pd.DataFrame(X, columns=["t", "f", "m"])
    labels = np.where(y == 0, "alice", "bob")
    sep = SupervisedSeparator(MatrixNMF(2, max_iter=10), max_iter=10).set_output(
        transform="pandas"
    )
    out = sep.fit(df, labels).transform(df.iloc[:500])
    assert list(out.columns) == ["t", "f", "source_alice", "source_bob"]
    assert list(sep.classes_) == ["alice", "bob"]


# -- any estimator with fit and factor -----------------------------------------


class FixedTemplates(BaseEstimator):
    """A stand-in factorisation: a template given per class, zero above 1 kHz
    for the first one (where the model of every source is 0 below)."""

    def __init__(self, peak=500.0):
        self.peak = peak

    def fit(self, X, y=None):
        self.n_components_ = 1
        self.n_iter_ = 1
        return self

    def factor(self, axis, values):
        values = np.asarray(values, dtype=float)
        if axis == 0:
            return np.ones((values.size, 1))
        w = np.exp(-(((values - self.peak) / 200.0) ** 2))
        return np.where(values > 2000.0, 0.0, w)[:, None]


def test_zero_model_splits_evenly_never_nan():
    X_train = np.array([[0.0, 100.0, 1.0], [0.1, 100.0, 1.0]])
    sep = SupervisedSeparator(FixedTemplates(), max_iter=10).fit(X_train, [0, 1])
    mix = np.array([[0.0, 500.0, 2.0], [0.0, 3000.0, 4.0], [0.1, 3000.0, 0.0]])
    Z = sep.transform(mix)
    assert np.all(np.isfinite(Z))
    np.testing.assert_allclose(Z[1, 2:], [2.0, 2.0])  # model 0: split evenly
    np.testing.assert_allclose(Z[2, 2:], [0.0, 0.0])
    np.testing.assert_allclose(Z[:, 2:].sum(axis=1), mix[:, 2])


def test_silent_frame_gives_zeros():
    X, y = np.array([[0.0, 100.0, 1.0], [0.1, 100.0, 1.0]]), [0, 1]
    sep = SupervisedSeparator(FixedTemplates(), max_iter=10).fit(X, y)
    mix = np.array([[0.0, 400.0, 0.0], [0.0, 600.0, 0.0], [1.0, 500.0, 3.0]])
    Z = sep.transform(mix)
    np.testing.assert_array_equal(Z[:2, 2:], 0.0)
    assert Z[2, 2:].sum() == pytest.approx(3.0)


def test_one_coordinate_splits_by_number_of_components():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.rand(40), rng.rand(40) + 0.1])
    y = np.repeat([0, 1], 20)
    sep = SupervisedSeparator(MatrixNMF(1, max_iter=5), max_iter=5).fit(X, y)
    Z = sep.transform(X)
    np.testing.assert_allclose(Z[:, 1], Z[:, 2])
    np.testing.assert_allclose(Z[:, 1:].sum(axis=1), X[:, 1])


def test_three_coordinates():
    grid = np.array(np.meshgrid(np.arange(6.0), np.arange(5.0), np.arange(3.0), indexing="ij"))
    coords = grid.reshape(3, -1).T
    a = np.exp(-coords[:, 1]) * (1 + coords[:, 2])
    b = np.exp(-(4 - coords[:, 1])) * (3 - coords[:, 2])
    X = np.vstack([np.column_stack([coords, a]), np.column_stack([coords + [10, 0, 0], b])])
    y = np.repeat([0, 1], len(coords))
    sep = SupervisedSeparator(MatrixNMF(1, max_iter=200, random_state=0), max_iter=200)
    mix = np.column_stack([coords, a + b])
    Z = sep.fit(X, y).transform(mix)
    assert Z.shape == (len(mix), 3 + 2)
    np.testing.assert_allclose(Z[:, 3], a, rtol=1e-3, atol=1e-3)


# -- parameters, random_state, errors ------------------------------------------


def test_random_state_seeds_the_clones():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.rand(60), rng.rand(60) * 100, rng.rand(60)])
    y = np.repeat([0, 1], 30)
    base = MatrixNMF(2, init="random", max_iter=5, random_state=None)
    a = SupervisedSeparator(base, random_state=3).fit(X, y)
    b = SupervisedSeparator(base, random_state=3).fit(X, y)
    assert a.estimators_[0].random_state == b.estimators_[0].random_state is not None
    assert a.estimators_[0].random_state != a.estimators_[1].random_state
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    kept = SupervisedSeparator(clone(base).set_params(random_state=7)).fit(X, y)
    assert [e.random_state for e in kept.estimators_] == [7, 7]
    assert base.random_state is None  # the template estimator is not touched
    assert not hasattr(base, "n_components_")


def test_default_estimator_is_matrix_nmf():
    rng = np.random.RandomState(0)
    X = np.column_stack([np.repeat(np.arange(20.0), 15), np.tile(np.arange(15.0), 20),
                         rng.rand(300)])
    sep = SupervisedSeparator(max_iter=5).fit(X, np.repeat([0, 1], 150))
    assert all(isinstance(e, MatrixNMF) for e in sep.estimators_)
    assert sep.n_components_per_source_ == [10, 10]


@pytest.mark.parametrize(
    "y, match",
    [
        (np.linspace(0, 1, 40), "Unknown label type 'continuous'"),
        (np.r_[np.zeros(39), 1], "source y=1.0 on its 1 point\\(s\\) failed.*1 sample"),
    ],
)
def test_bad_labels(y, match):
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.rand(40), rng.rand(40), rng.rand(40)])
    with pytest.raises(ValueError, match=match):
        SupervisedSeparator(MatrixNMF(1, max_iter=2)).fit(X, y)


def test_implicit_activations_separate_irregular_points(separators, speakers, mixture_points):
    """Points without frames (a random half of the grid, jittered in time)."""
    separator = separators("matrix")
    _, _, truth = speakers
    X = mixture_points
    rng = np.random.RandomState(0)
    keep = rng.rand(len(X)) < 0.5
    Xi = X[keep].copy()
    Xi[:, 0] += rng.uniform(0, 0.004, size=len(Xi))  # every point its own time
    true_mags = np.column_stack([stft_points(s, sr=SR, n_fft=N_FFT)[keep, 2] for s in truth])
    implicit = copy.deepcopy(separator).set_params(
        activations="implicit", random_state=0, encoding_size=6, hidden_size=16, n_layers=2
    )
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        implicit.set_params(max_iter=2).transform(Xi)
    Z = implicit.set_params(max_iter=100).transform(Xi)
    np.testing.assert_allclose(Z[:, 2:].sum(axis=1), Xi[:, 2], rtol=1e-12)
    # the masks are informative: far better than an even split
    even = np.column_stack([Xi[:, :2], Xi[:, 2:] / 2, Xi[:, 2:] / 2])
    truth_pts = np.column_stack([Xi[:, :2], true_mags])
    kl = beta_divergence_points(truth_pts, Z, n_coordinates=2)
    kl_even = beta_divergence_points(truth_pts, even, n_coordinates=2)
    assert kl < 0.3 * kl_even, (kl, kl_even)
