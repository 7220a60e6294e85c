"""Divergences on point arrays and the waveform metrics (BSS Eval, STOI).

The waveform metrics' packages are optional: their tests are skipped when
the package is missing, and the "missing package" errors are tested by
hiding the packages.
"""

import importlib
import sys
import warnings

import numpy as np
import pytest

from sklearn_innmf.metrics import BSSEvalResult, beta_divergence_points, bss_eval, stoi


def reference_divergence(x, y, beta):
    """The textbook formulas, elementwise, in NumPy."""
    if beta == 1:
        return np.where(x > 0, x * np.log(np.where(x > 0, x, 1) / y), 0.0) - x + y
    if beta == 0:
        return x / y - np.log(x / y) - 1
    return (x**beta + (beta - 1) * y**beta - beta * x * y ** (beta - 1)) / (beta * (beta - 1))


@pytest.mark.parametrize(
    "beta_loss, beta",
    [("kullback-leibler", 1), ("itakura-saito", 0), ("frobenius", 2), (0.5, 0.5), (1.5, 1.5)],
)
def test_beta_divergence_points_matches_formula(beta_loss, beta):
    rng = np.random.RandomState(0)
    coords = np.column_stack([rng.rand(50), rng.rand(50) * 1000])
    x, y = rng.rand(50, 2) + 0.1, rng.rand(50, 2) + 0.1
    X, X_hat = np.column_stack([coords, x]), np.column_stack([coords, y])
    expected = reference_divergence(x, y, beta)
    got = beta_divergence_points(X, X_hat, beta_loss=beta_loss, n_coordinates=2, reduction="none")
    assert got.shape == (50, 2)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    mean = beta_divergence_points(X, X_hat, beta_loss=beta_loss, n_coordinates=2)
    assert mean == pytest.approx(expected.mean(), rel=1e-10)
    total = beta_divergence_points(X, X_hat, beta_loss=beta_loss, n_coordinates=2, reduction="sum")
    assert total == pytest.approx(expected.sum(), rel=1e-10)


def test_beta_divergence_points_defaults_and_zeros():
    X = np.array([[0.0, 100.0, 0.0], [0.5, 200.0, 2.0]])
    X_hat = np.array([[0.0, 100.0, 1.0], [0.5, 200.0, 2.0]])
    # KL with m = 0 is the model value; one value column by default
    assert beta_divergence_points(X, X_hat) == pytest.approx(0.5)
    assert beta_divergence_points(X, X) == 0.0


@pytest.mark.parametrize(
    "X_hat, kwargs, match",
    [
        (np.ones((3, 3)), {}, "different coordinates"),
        (np.ones((2, 3)), {}, "same points"),
        (-np.ones((3, 3)) * [0, 0, 1], {}, "Negative values in data passed to X_hat"),
        (np.full((3, 3), np.nan), {}, "NaN or infinity"),
        (None, {"n_coordinates": 3}, "leaves no value column"),
        (None, {"reduction": "max"}, "reduction='max'"),
        (None, {"beta_loss": "euclid"}, "beta_loss='euclid'"),
    ],
)
def test_beta_divergence_points_errors(X_hat, kwargs, match):
    X = np.column_stack([np.zeros(3), np.arange(3.0), np.ones(3)])
    X_hat = X if X_hat is None else X_hat
    with pytest.raises(ValueError, match=match):
        beta_divergence_points(X, X_hat, **kwargs)


# -- BSS Eval ------------------------------------------------------------------


def noisy_estimates(seed=0, n=3000):
    rng = np.random.default_rng(seed)
    ref = rng.standard_normal((2, n))
    leak = np.array([[0.3], [0.15]]) * ref[::-1]
    est = ref + leak + 0.2 * rng.standard_normal((2, n))
    return ref, est


@pytest.mark.parametrize("compute_permutation", [True, False])
@pytest.mark.parametrize("swap", [False, True])
def test_bss_eval_matches_mir_eval(compute_permutation, swap):
    pytest.importorskip("fast_bss_eval")
    separation = pytest.importorskip("mir_eval.separation")
    ref, est = noisy_estimates()
    if swap:
        est = est[::-1]
    ours = bss_eval(ref, est, compute_permutation=compute_permutation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = separation.bss_eval_sources(ref, est, compute_permutation=compute_permutation)
    assert isinstance(ours, BSSEvalResult)
    for a, b in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    if compute_permutation:
        np.testing.assert_array_equal(ours.permutation, theirs[3])
        assert ours.permutation.tolist() == ([1, 0] if swap else [0, 1])
    # the mir_eval backend gives the same numbers
    slow = bss_eval(ref, est, compute_permutation=compute_permutation, backend="mir_eval")
    for a, b in zip(ours, slow):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_bss_eval_one_source_as_1d():
    pytest.importorskip("fast_bss_eval")
    ref, est = noisy_estimates()
    result = bss_eval(ref[0], est[0])
    assert result.sdr.shape == (1,) and result.permutation.tolist() == [0]


@pytest.mark.parametrize(
    "ref, est, match",
    [
        (np.ones((2, 100)), np.ones((2, 90)), "shape"),
        (np.ones((2, 100)), np.ones((3, 100)), "one estimate per reference"),
        (np.vstack([np.ones(100), np.zeros(100)]), np.ones((2, 100)),
         "reference_sources\\[1\\] is silent"),
        (np.ones((2, 100)), np.full((2, 100), np.inf), "NaN or infinity"),
        (np.ones((2, 2, 100)), np.ones((2, 2, 100)), "n_sources, n_samples"),
    ],
)
def test_bss_eval_errors(ref, est, match):
    with pytest.raises(ValueError, match=match):
        bss_eval(ref, est)


def test_bss_eval_bad_backend():
    ref, est = noisy_estimates(n=600)
    with pytest.raises(ValueError, match="backend='fast'"):
        bss_eval(ref, est, backend="fast")


@pytest.fixture
def hide_modules(monkeypatch):
    """Make the named top-level packages impossible to import (the metrics
    import their optional packages with importlib.import_module)."""

    def hide(*names):
        real_import_module = importlib.import_module

        def fake_import_module(name, package=None):
            if name.split(".")[0] in names:
                raise ImportError(f"No module named {name!r}")
            return real_import_module(name, package)

        for mod in list(sys.modules):
            if mod.split(".")[0] in names:
                monkeypatch.delitem(sys.modules, mod)
        monkeypatch.setattr(importlib, "import_module", fake_import_module)

    return hide


def test_bss_eval_without_any_backend(hide_modules):
    hide_modules("fast_bss_eval", "mir_eval")
    ref, est = noisy_estimates(n=600)
    with pytest.raises(ImportError, match="pip install fast_bss_eval"):
        bss_eval(ref, est)


def test_bss_eval_falls_back_to_mir_eval(hide_modules):
    pytest.importorskip("mir_eval")
    hide_modules("fast_bss_eval")
    ref, est = noisy_estimates(n=1500)
    result = bss_eval(ref, est)
    assert np.all(result.sdr > 5)


# -- STOI ------------------------------------------------------------------------


def test_stoi_orders_degradations():
    pytest.importorskip("pystoi")
    sr = 10000
    rng = np.random.default_rng(0)
    t = np.arange(2 * sr) / sr
    clean = np.sin(2 * np.pi * 200 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.3 * np.sin(
        2 * np.pi * 1200 * t
    ) * (1 + np.cos(2 * np.pi * 5 * t))
    assert stoi(clean, clean, sr) == pytest.approx(1.0, abs=1e-6)
    light = stoi(clean, clean + 0.1 * rng.standard_normal(t.size), sr)
    heavy = stoi(clean, clean + 3.0 * rng.standard_normal(t.size), sr)
    assert 1.0 > light > heavy


def test_stoi_errors(hide_modules):
    with pytest.raises(ValueError, match="same length"):
        stoi(np.ones(100), np.ones(90), 8000)
    with pytest.raises(ValueError, match="sr=0"):
        stoi(np.ones(100), np.ones(100), 0)
    hide_modules("pystoi")
    with pytest.raises(ImportError, match="pip install pystoi"):
        stoi(np.ones(100), np.ones(100), 8000)
