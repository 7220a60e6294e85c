import subprocess
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sklearn_innmf.plotting import plot_factors, plot_points  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


class FakeEstimator:
    """Duck-typed stand-in for a fitted estimator: Gaussian templates, linear activations."""

    def __init__(self, n_components=3, coordinate_ranges=((0.0, 2.0), (0.0, 8000.0))):
        self.n_components = n_components
        if coordinate_ranges is not None:
            self.coordinate_ranges_ = [tuple(r) for r in coordinate_ranges]
        self.centres = 200.0 * 2.0 ** np.arange(n_components)

    def templates(self, freqs):
        return np.exp(-(((np.asarray(freqs)[:, None] - self.centres) / 50.0) ** 2))

    def activations(self, times):
        return np.asarray(times)[:, None] * np.arange(1, self.n_components + 1)


def scatter_of(ax):
    (collection,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return collection


@pytest.fixture
def points():
    rng = np.random.RandomState(0)
    X = np.column_stack(
        [rng.uniform(0, 1, 300), rng.uniform(0, 4000, 300), rng.exponential(1.0, 300)]
    )
    X[:10, 1] = 0.0  # DC points
    return X


def test_plot_points_draws_every_point_in_db(points):
    fig = plot_points(points, log_freq=False, top_db=40.0)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the scatter and its colour bar
    collection = scatter_of(ax)
    offsets = np.asarray(collection.get_offsets())
    assert offsets.shape == (300, 2)
    # Drawn quietest first, so loud points lie on top.
    colours = np.asarray(collection.get_array())
    assert np.all(np.diff(colours) >= 0)
    assert colours.max() == pytest.approx(0.0) and colours.min() >= -40.0
    expected = np.maximum(20 * np.log10(points[:, 2] / points[:, 2].max()), -40.0)
    np.testing.assert_allclose(np.sort(colours), np.sort(expected))
    assert ax.get_xlabel() == "Time (s)" and ax.get_ylabel() == "Frequency (Hz)"


def test_plot_points_log_frequency_leaves_out_dc(points):
    fig = plot_points(points, colorbar=False)
    ax = fig.axes[0]
    assert len(fig.axes) == 1
    assert ax.get_yscale() == "log"
    assert len(scatter_of(ax).get_offsets()) == 290


def test_plot_points_linear_magnitude_and_power_on_given_axes(points):
    fig, ax = plt.subplots()
    assert plot_points(points, ax=ax, db=False, log_freq=False) is fig
    np.testing.assert_allclose(np.sort(scatter_of(ax).get_array()), np.sort(points[:, 2]))
    fig2 = plot_points(points, power=2.0, log_freq=False, top_db=200.0)
    expected = 10 * np.log10(points[:, 2] / points[:, 2].max())
    np.testing.assert_allclose(np.sort(scatter_of(fig2.axes[0]).get_array()), np.sort(expected))


def test_plot_points_rejects_bad_points(points):
    bad = points.copy()
    bad[3, 2] = -1.0
    with pytest.raises(ValueError, match="Negative values"):
        plot_points(bad)
    with pytest.raises(ValueError, match="X has 2 columns"):
        plot_points(points[:, :2])
    with pytest.raises(ValueError, match="power=0"):
        plot_points(points, power=0)


def test_plot_factors_layout_and_default_sampling():
    est = FakeEstimator(n_components=3)
    fig = plot_factors(est, n_times=50, n_freqs=80)
    assert isinstance(fig, Figure)
    ax_w, ax_h = fig.axes[:2]
    assert (ax_w.get_title(), ax_h.get_title()) == ("Templates", "Activations")
    assert len(ax_w.get_lines()) == 3 and len(ax_h.get_lines()) == 3
    assert ax_w.get_xscale() == "log"
    f = ax_w.get_lines()[1].get_xdata()
    t = ax_h.get_lines()[2].get_xdata()
    assert len(f) == 80 and len(t) == 50
    assert f.max() == pytest.approx(8000.0) and f.min() > 0
    assert (t.min(), t.max()) == (0.0, 2.0)
    np.testing.assert_allclose(ax_h.get_lines()[2].get_ydata(), 3 * t)


def test_plot_factors_explicit_samples_and_axes():
    est = FakeEstimator(n_components=2, coordinate_ranges=None)
    fig, axes = plt.subplots(2, 1)
    freqs = np.linspace(0, 1000, 101)
    times = np.array([0.5, 0.0, 1.0])
    assert plot_factors(est, times=times, freqs=freqs, log_freq=False, ax=axes) is fig
    np.testing.assert_allclose(axes[0].get_lines()[0].get_xdata(), freqs)
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(), est.templates(freqs)[:, 0])
    # Sorted by time so the curve does not double back.
    np.testing.assert_allclose(axes[1].get_lines()[1].get_xdata(), [0.0, 0.5, 1.0])
    assert axes[0].get_xscale() == "linear"


def test_plot_factors_errors():
    with pytest.raises(ValueError, match="coordinate_ranges_"):
        plot_factors(FakeEstimator(coordinate_ranges=None))
    wrong = FakeEstimator(n_components=3)
    wrong.n_components = 4
    with pytest.raises(ValueError, match="n_components=4"):
        plot_factors(wrong)
    with pytest.raises(ValueError, match="templates"):
        plot_factors(object(), times=[0.0], freqs=[1.0])


def test_importing_the_package_does_not_import_matplotlib():
    code = (
        "import sys\n"
        "import sklearn_innmf.representations, sklearn_innmf.datasets, "
        "sklearn_innmf.plotting\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
        "assert 'nnAudio' not in sys.modules, 'nnAudio was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
