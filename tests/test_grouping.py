"""ComponentGroupSeparator: scikit-learn's checks, grouping, masks, features.

The estimator checks use small base estimators (3 components, few
iterations); they test the API contract (validation, dtypes, fitted state,
subset and order invariance of ``transform``, pickling, feature names), which
does not depend on how far a fit converged. Separation quality on real-ish
material is measured in ``benchmarks/grouping.py``; here a mixture whose
components are known (two templates per source) must be split exactly.
"""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from sklearn_innmf import ImplicitNMF, MatrixNMF, grid_to_points
from sklearn_innmf.datasets import drum_loop, drums_and_notes
from sklearn_innmf.separation import (
    FEATURES,
    ComponentGroupSeparator,
    component_features,
    separate_by_grouping,
)

# the checks and most tests fit with a few iterations by design
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # sklearn's check data sets have any number of columns, and its pandas
    # checks mix named and unnamed columns on purpose
    pytest.mark.filterwarnings("ignore:X has .* columns. read as:UserWarning"),
    pytest.mark.filterwarnings("ignore:X (does not have valid|has) feature names:UserWarning"),
]

TINY_IMPLICIT = dict(max_iter=5, hidden_size=8, n_layers=1, encoding_size=2)
ESTIMATORS = [
    ComponentGroupSeparator(MatrixNMF(3, max_iter=20)),
    ComponentGroupSeparator(MatrixNMF(3, max_iter=20), groups=[[0], [1, 2]]),
    ComponentGroupSeparator(
        ImplicitNMF(3, **TINY_IMPLICIT), clusterer=KMeans(n_init=2), n_sources=3,
        features=FEATURES,
    ),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})
def test_sklearn_compatible(estimator, check):
    check(estimator)


EXTRA_CHECKS = [
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_global_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
]


@pytest.mark.parametrize("estimator", ESTIMATORS[:2], ids=["auto", "groups"])
@pytest.mark.parametrize("check", EXTRA_CHECKS, ids=lambda c: c.__name__)
def test_extra_checks(estimator, check):
    check(type(estimator).__name__, estimator)


# ---------------------------------------------------------------------------
# A mixture of known components: two harmonic templates with smooth
# activations (source "tonal") and two broadband ones with short, sharp hits
# (source "hits").

F = np.arange(64) * 62.5  # 0 .. 3937.5 Hz
T = np.arange(120) * 0.02


def _harmonic(f0):
    return sum(np.exp(-(((F - k * f0) / 25.0) ** 2)) / k for k in range(1, 8)) + 1e-3


def _broadband(centre):
    return np.exp(-(((F - centre) / 700.0) ** 2)) + 1e-3


def known_mixture():
    """Points of the mixture, each source's magnitude, true W and H."""
    W = np.stack([_harmonic(250.0), _harmonic(375.0), _broadband(1000.0), _broadband(3000.0)], 1)
    H = np.zeros((T.size, 4))
    frames = np.arange(T.size)
    # two long notes that overlap a little, decaying slowly
    H[:, 0] = np.where(frames < 70, np.exp(-frames / 80.0), 0.0) + 1e-3
    H[:, 1] = np.where(frames >= 50, np.exp(-(frames - 50) / 80.0), 0.0) + 1e-3
    for k, period in ((2, 10), (3, 7)):
        hits = np.zeros(T.size)
        hits[3::period] = 1.0
        H[:, k] = np.convolve(hits, np.exp(-np.arange(5) / 1.0))[: T.size] * 1.5 + 1e-3
    parts = np.einsum("fk,tk->ktf", W, H)  # component k's grid (time, freq)
    X = grid_to_points((parts.sum(0)).T, times=T, freqs=F)
    truth = np.stack([(parts[0] + parts[1]).ravel(), (parts[2] + parts[3]).ravel()], 1)
    return X, truth, W, H


@pytest.fixture(scope="module")
def known():
    return known_mixture()


def test_automatic_grouping_recovers_the_sources(known):
    X, truth, W, _ = known
    sep = ComponentGroupSeparator(MatrixNMF(4, max_iter=1000, tol=0, random_state=0),
                                  random_state=0).fit(X)
    assert sep.components_to_sources_.shape == (4,)
    assert sorted(len(g) for g in sep.groups_) == [2, 2]
    # each fitted template is close to one true template; its group must be
    # that template's source
    W_fit = sep.estimator_.templates(F)
    corr = np.corrcoef(W_fit.T, W.T)[:4, 4:]
    true_source = np.array([0, 0, 1, 1])[np.argmax(corr, axis=1)]
    assert np.all(corr.max(axis=1) > 0.95), corr
    assignment = sep.components_to_sources_
    same = np.array_equal(assignment, true_source) or np.array_equal(assignment, 1 - true_source)
    assert same, (assignment, true_source)
    Z = sep.transform(X)
    order = [0, 1] if np.array_equal(assignment, true_source) else [1, 0]
    err = np.abs(Z[:, 2:][:, order] - truth).sum() / truth.sum()
    assert err < 0.05, err


def test_manual_groups_and_sum_to_mixture(known):
    X, _, _, _ = known
    sep = ComponentGroupSeparator(MatrixNMF(4, max_iter=50, random_state=0),
                                  groups=[[3], [0, 2, 1]]).fit(X)
    assert sep.groups_ == [[3], [0, 1, 2]]
    np.testing.assert_array_equal(sep.components_to_sources_, [1, 1, 1, 0])
    assert sep.features_.shape == (4, 0)
    Z = sep.transform(X)
    np.testing.assert_allclose(Z[:, 2] + Z[:, 3], X[:, 2], rtol=1e-10)
    # source 0 is exactly component 3's Wiener share
    V = sep.estimator_.transform(X)[:, 2:]
    np.testing.assert_allclose(Z[:, 2], X[:, 2] * V[:, 3] / V.sum(1), rtol=1e-6)
    masks = sep.masks(X)
    np.testing.assert_allclose(masks.sum(1), 1.0)
    np.testing.assert_allclose(sep.inverse_transform(Z), X)


def test_transform_is_rowwise_and_evaluates_the_fitted_components(known):
    X, _, _, _ = known
    sep = ComponentGroupSeparator(MatrixNMF(4, max_iter=50, random_state=0),
                                  random_state=0).fit(X)
    Z = sep.transform(X)
    rows = np.random.RandomState(0).permutation(len(X))[:300]
    np.testing.assert_allclose(sep.transform(X[rows]), Z[rows], rtol=1e-12)
    np.testing.assert_array_equal(sep.fit_transform(X), Z)
    # points between the fitted bins: the factorisation's own values there
    between = X[rows].copy()
    between[:, 1] += 31.25
    between = between[between[:, 1] < F.max()]
    V = sep.estimator_.transform(between)[:, 2:]
    expected = between[:, 2] * V[:, sep.components_to_sources_ == 0].sum(1) / V.sum(1)
    np.testing.assert_allclose(sep.transform(between)[:, 2], expected, rtol=1e-6)


def test_deterministic_for_a_random_state(known):
    X, _, _, _ = known
    kwargs = dict(clusterer=KMeans(n_init=3), random_state=3,
                  features=("log_spectrum", "flatness", "sparsity"))
    a = ComponentGroupSeparator(MatrixNMF(4, max_iter=30), **kwargs).fit(X)
    b = ComponentGroupSeparator(MatrixNMF(4, max_iter=30), **kwargs).fit(X)
    assert a.groups_ == b.groups_
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.features_, b.features_)
    assert a.feature_names_[:2] == ["log_spectrum_0", "log_spectrum_1"]
    assert a.features_.shape == (4, 16 + 2)


def test_clusterer_gets_n_sources_and_is_not_modified(known):
    X, _, _, _ = known
    gm = GaussianMixture(n_components=7)
    sep = ComponentGroupSeparator(MatrixNMF(4, max_iter=30, random_state=0), clusterer=gm,
                                  random_state=0).fit(X)
    assert gm.n_components == 7
    assert len(sep.groups_) == 2 and all(sep.groups_)


def test_empty_cluster_is_filled(known):
    X, _, _, _ = known

    class OneCluster:
        def get_params(self, deep=True):
            return {}

        def set_params(self, **params):
            return self

        def fit_predict(self, Z):
            return np.zeros(len(Z), dtype=int)

    sep = ComponentGroupSeparator(MatrixNMF(4, max_iter=20, random_state=0),
                                  clusterer=OneCluster(), n_sources=3).fit(X)
    # the last component of the largest group fills each empty group
    assert sorted(sep.groups_) == [[0, 1], [2], [3]]


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(groups=[[0, 1], [1, 2, 3]]), r"component 1 in groups\[0\] and groups\[1\]"),
        (dict(groups=[[0, 0], [1, 2, 3]]), r"component 0 twice in groups\[0\]"),
        (dict(groups=[[0, 1], [2]]), r"leaves component\(s\) \[3\] out"),
        (dict(groups=[[0, 1], [2, 3, 4]]), r"names component\(s\) \[4\].*n_components=4"),
        (dict(groups=[[0, 1], []]), r"groups\[1\] is empty"),
        (dict(groups=[[0, 1], ["a", 2, 3]]), r"groups\[1\] holds 'a'"),
        (dict(groups=[[0, 1], [-2, 3]]), r"groups\[1\] holds -2"),
        (dict(groups=[[0, 1], 2]), r"groups\[1\]=2 is not a list"),
        (dict(groups=[[0, 1, 2, 3]]), r"groups has 1 group\(s\) but n_sources=2"),
        (dict(n_sources=5), r"n_components=4, fewer than n_sources=5"),
        (dict(features=("flatness", "loudness")), r"unknown: \['loudness'\]"),
        (dict(features=()), r"features=\(\) must be a non-empty"),
        (dict(features=("onset", "onset")), r"names a feature twice"),
    ],
)
def test_bad_parameters_name_the_problem(known, params, message):
    X, _, _, _ = known
    with pytest.raises(ValueError, match=message):
        ComponentGroupSeparator(MatrixNMF(4, max_iter=5), **params).fit(X)


def test_template_features_need_a_template_axis():
    rng = np.random.RandomState(0)
    X = np.column_stack([np.arange(40) * 0.1, rng.rand(40)])  # d = 1
    sep = ComponentGroupSeparator(MatrixNMF(2, max_iter=10), random_state=0).fit(X)
    assert sep.feature_names_ == ["onset"]
    with pytest.raises(ValueError, match="all template features.*d=1"):
        ComponentGroupSeparator(MatrixNMF(2, max_iter=10), features=["flatness"]).fit(X)


def test_features_tell_harmonic_from_broadband_and_hits(known):
    X, _, _, _ = known
    est = MatrixNMF(4, max_iter=1000, tol=0, random_state=0).fit(X)
    Fe, columns = component_features(est, X, features=FEATURES)
    assert columns[-6:] == ["centroid", "flatness", "harmonicity", "tonality", "sparsity",
                            "onset"]
    assert Fe.shape == (4, 16 + 6)
    W_fit = est.templates(F)
    harmonic = np.array([np.corrcoef(W_fit[:, k], _harmonic(250.0))[0, 1] > 0.9
                         or np.corrcoef(W_fit[:, k], _harmonic(375.0))[0, 1] > 0.9
                         for k in range(4)])
    assert harmonic.sum() == 2
    values = dict(zip(columns, Fe.T))
    for name in ("harmonicity", "tonality"):
        assert values[name][harmonic].min() > values[name][~harmonic].max(), name
    for name in ("flatness", "onset", "sparsity"):
        assert values[name][~harmonic].min() > values[name][harmonic].max(), name
    np.testing.assert_allclose(Fe[:, :16].sum(1), 1.0)


def test_separate_by_grouping_sums_to_the_mixture():
    mix, drums, notes, sr = drums_and_notes(sr=8000, random_state=0)
    est, sep = separate_by_grouping(mix, sr, estimator=MatrixNMF(6, max_iter=50,
                                                                 random_state=0),
                                    n_fft=256, random_state=0)
    assert est.shape == (2, mix.size)
    np.testing.assert_allclose(est.sum(0), mix, atol=1e-6)
    assert sep.n_components_ == 6


# ---------------------------------------------------------------------------
# datasets


def test_drum_loop_is_deterministic_and_parts_sum():
    y, sr, parts = drum_loop(sr=8000, duration=1.0, random_state=0, return_parts=True)
    y2, _ = drum_loop(sr=8000, duration=1.0, random_state=0)
    y3, _ = drum_loop(sr=8000, duration=1.0, random_state=1)
    np.testing.assert_array_equal(y, y2)
    assert not np.allclose(y, y3)
    np.testing.assert_allclose(sum(parts.values()), y)
    assert np.max(np.abs(y)) == pytest.approx(0.9)

    def centroid(x):
        spectrum = np.abs(np.fft.rfft(x))
        return np.sum(spectrum * np.fft.rfftfreq(x.size, 1 / sr)) / spectrum.sum()

    assert centroid(parts["kick"]) < 200 < centroid(parts["snare"]) < centroid(parts["hihat"])
    # hits on the eighth-note grid: the hi-hat starts at every 0.25 s
    onsets = np.flatnonzero(np.abs(parts["hihat"]) > 0)
    assert onsets[0] == 0 and np.any(onsets == int(0.25 * sr))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(pattern={"cowbell": "x..."}), "must map some of"),
        (dict(pattern={"kick": "x..", "snare": "x..."}), "all of the same length"),
        (dict(pattern={"kick": "xo.."}), "strings? of 'x'"),
        (dict(sr=2000), "sr=2000 is too low"),
        (dict(tempo=0), "tempo=0 must be a positive number"),
    ],
)
def test_drum_loop_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        drum_loop(**kwargs)


def test_drums_and_notes_at_0_db():
    mix, drums, notes, sr = drums_and_notes(sr=8000, repeats=2, random_state=0)
    assert mix.shape == drums.shape == notes.shape == (2 * 4 * 4000,)
    np.testing.assert_allclose(mix, drums + notes)
    assert 10 * np.log10(np.sum(drums**2) / np.sum(notes**2)) == pytest.approx(0.0, abs=1e-9)


# ---------------------------------------------------------------------------
# plot


def test_plot_component_groups_colours_rows_by_source(known):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    from sklearn_innmf.plotting import plot_component_groups

    X, _, _, _ = known
    sep = ComponentGroupSeparator(MatrixNMF(4, max_iter=30, random_state=0),
                                  groups=[[3], [0, 1, 2]]).fit(X)
    fig = plot_component_groups(sep, source_names=["hits", "tonal"], log_freq=False)
    try:
        ax_w, ax_h = fig.axes
        assert [t.get_text() for t in ax_w.get_yticklabels()] == ["3", "0", "1", "2"]
        # one curve per component on each panel, in its source's colour
        assert [to_rgba(line.get_color()) for line in ax_w.lines] == [
            to_rgba("C0"), to_rgba("C1"), to_rgba("C1"), to_rgba("C1")]
        assert len(ax_h.lines) == 4
        assert [t.get_text() for t in ax_h.get_legend().get_texts()] == ["hits", "tonal"]
        # each curve is scaled into its own row
        for row, line in enumerate(ax_h.lines):
            y = line.get_ydata()
            assert row <= y.min() and y.max() <= row + 0.9 + 1e-9
        with pytest.raises(ValueError, match="source_names has 1 name"):
            plot_component_groups(sep, source_names=["x"])
        with pytest.raises(ValueError, match="not a fitted grouping separator"):
            plot_component_groups(ComponentGroupSeparator())
    finally:
        plt.close("all")
