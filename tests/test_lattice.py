"""Implicit factors through a lattice (``ImplicitFactor(lattice=...)``).

Grids stay exact (bitwise the exact path), scattered points go through a
lattice whose linear interpolation is within a measured bound of the network
and converges at second order, gradients reach the networks, and a fitted
model keeps and pickles its evaluation, so that a row's value does not depend
on the other rows of the call.
"""

import copy
import pickle

import numpy as np
import pytest
import torch

from sklearn_innmf import ImplicitNMF
from sklearn_innmf.factors import AUTO_LATTICE, AUTO_LATTICE_ABOVE, ImplicitFactor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ARCHITECTURES = ["separate", "shared"]


def factor(lattice="auto", architecture="separate", low=0.0, high=8000.0, K=4):
    """ImplicitNMF's default network (encoding_size=6), in float64."""
    g = torch.Generator().manual_seed(0)
    return ImplicitFactor(K, low, high, encoding_size=6, architecture=architecture,
                          generator=g, lattice=lattice).double()


def uniform(n, low=0.0, high=8000.0, seed=1):
    g = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(n, dtype=torch.float64, generator=g)


def irregular_points(n, seed=0):
    """Scattered (t, f, m) points: every t and f unique, m smooth in both."""
    rng = np.random.RandomState(seed)
    t, f = rng.uniform(0, 2, n), rng.uniform(0, 8000, n)
    m = 1 + np.sin(3 * t) ** 2 * np.exp(-f / 2000) + 0.1 * rng.rand(n)
    return np.column_stack([t, f, m])


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_auto_is_exact_on_grids(architecture):
    """Up to AUTO_LATTICE_ABOVE coordinates (STFT and CQT axes), "auto" is the
    exact path, bitwise, and stays exact for later calls of any size."""
    x = torch.linspace(0, 8000, AUTO_LATTICE_ABOVE, dtype=torch.float64)
    auto, exact = factor("auto", architecture), factor(None, architecture)
    with torch.no_grad():
        assert torch.equal(auto(x), exact(x))
        assert auto.nodes is None
        many = uniform(AUTO_LATTICE_ABOVE + 1000)
        assert torch.equal(auto(many), exact(many))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_auto_uses_the_lattice_on_scattered_points(architecture):
    x = uniform(AUTO_LATTICE_ABOVE + 1)
    auto, exact = factor("auto", architecture), factor(None, architecture)
    with torch.no_grad():
        a, e = auto(x), exact(x)
    assert auto.nodes == AUTO_LATTICE
    assert not torch.equal(a, e)
    torch.testing.assert_close(a, e, rtol=1e-4, atol=0)
    # decided once: a later small call goes through the same lattice
    few = x[:10]
    with torch.no_grad():
        lattice_few = factor(AUTO_LATTICE, architecture)(few)
        torch.testing.assert_close(auto(few), lattice_few, rtol=1e-13, atol=0)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_interpolation_error_bound_and_order(architecture):
    """Measured on the default network as initialised: 1.2e-5 (separate) and
    1.4e-5 (shared) max relative error at 2048 nodes; linear interpolation
    error falls 4x per doubling of the nodes."""
    x = uniform(20_000)
    with torch.no_grad():
        exact = factor(None, architecture)(x)
        err = {n: float(((factor(n, architecture)(x) - exact).abs() / exact).max())
               for n in (512, 1024, 2048)}
    assert err[2048] < 5e-5
    assert 3.0 < err[1024] / err[2048] < 5.0
    assert 3.0 < err[512] / err[1024] < 5.0


def test_lattice_is_the_network_at_its_nodes():
    n = 257
    f = factor(n)
    nodes = f.low + f.span * torch.arange(n, dtype=torch.float64) / (n - 1)
    with torch.no_grad():
        torch.testing.assert_close(f(nodes), f.network(nodes), rtol=1e-12, atol=0)


def test_outside_the_range_is_exact():
    f = factor(64, low=1000.0, high=2000.0)
    x = torch.tensor([0.0, 999.0, 1500.0, 2000.0, 2500.0], dtype=torch.float64)
    with torch.no_grad():
        out, exact = f(x), f.network(x)
    outside = [0, 1, 4]
    torch.testing.assert_close(out[outside], exact[outside], rtol=1e-12, atol=0)
    assert not torch.allclose(out[2], exact[2], rtol=1e-12, atol=0)  # interpolated
    torch.testing.assert_close(out[2:4], exact[2:4], rtol=1e-2, atol=0)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_gradient_flows_through_the_lattice(architecture):
    """The gradient of a loss through the lattice reaches every parameter and
    is close to the exact gradient (the network is smooth at 2048 nodes)."""
    x = uniform(10_000)
    target = torch.rand(x.numel(), 4, dtype=torch.float64,
                        generator=torch.Generator().manual_seed(2))
    grads = {}
    for lattice in (None, AUTO_LATTICE):
        f = factor(lattice, architecture)
        loss = ((f(x) - target) ** 2).mean()
        loss.backward()
        grads[lattice] = torch.cat([p.grad.ravel() for p in f.parameters()])
        assert all(p.grad is not None and bool(p.grad.abs().sum() > 0) for p in f.parameters())
    diff = (grads[AUTO_LATTICE] - grads[None]).norm() / grads[None].norm()
    assert 0 < diff < 1e-3


def test_interpolation_backward_matches_finite_differences():
    """The interpolation's hand-written backward (index_add_ into the nodes),
    with repeated and edge nodes, against torch.autograd.gradcheck."""
    from sklearn_innmf.factors import _Interpolate

    g = torch.Generator().manual_seed(3)
    nodes = torch.rand(6, 3, dtype=torch.float64, generator=g, requires_grad=True)
    lo = torch.tensor([0, 0, 2, 4, 4, 1])
    w = torch.tensor([0.0, 0.3, 0.5, 0.9, 1.0, 0.25], dtype=torch.float64)[:, None]
    assert torch.autograd.gradcheck(lambda v: _Interpolate.apply(v, lo, w), (nodes,))
    out = _Interpolate.apply(nodes, lo, w)
    torch.testing.assert_close(out, (1 - w) * nodes[lo] + w * nodes[lo + 1])


def test_lattice_values():
    assert ImplicitFactor(2, 0.0, 1.0, lattice=np.int64(64)).nodes == 64
    assert ImplicitFactor(2, 0.0, 1.0, lattice=None).nodes is None
    assert ImplicitFactor(2, 0.0, 1.0).nodes is None  # "auto", undecided
    for bad in (1, 0, "exact", 2.5, True, np.array([3])):
        with pytest.raises(ValueError, match="lattice=.* must be 'auto', None or an int >= 2"):
            ImplicitFactor(2, 0.0, 1.0, lattice=bad)


@pytest.fixture(scope="module")
def scattered_fit():
    """ImplicitNMF fitted on more scattered points than AUTO_LATTICE_ABOVE."""
    X = irregular_points(AUTO_LATTICE_ABOVE + 1000)
    est = ImplicitNMF(3, architecture="shared", max_iter=20, tol=0, random_state=0,
                      device="cpu").fit(X)
    return est, X


def test_fit_on_scattered_points_trains_through_the_lattice(scattered_fit):
    est, X = scattered_fit
    assert [f.nodes for f in est.model_.factors] == [AUTO_LATTICE, AUTO_LATTICE]
    assert est.loss_curve_[-1] < 0.5 * est.loss_curve_[0]


def test_fit_on_a_grid_stays_exact():
    t, f = np.linspace(0, 2, 40), np.linspace(0, 8000, 60)
    T, F = np.meshgrid(t, f, indexing="ij")
    m = 1 + np.sin(3 * T) ** 2 * np.exp(-F / 2000)
    X = np.column_stack([T.ravel(), F.ravel(), m.ravel()])
    est = ImplicitNMF(3, max_iter=3, random_state=0, device="cpu").fit(X)
    assert [f.nodes for f in est.model_.factors] == [None, None]


def test_lattice_model_rows_do_not_depend_on_the_call(scattered_fit):
    """transform of a few rows (fewer than AUTO_LATTICE_ABOVE) equals those rows
    of the transform of all, and templates at the training frequencies agree
    with the model's factor there: the evaluation is fixed at fit."""
    est, X = scattered_fit
    Z = est.transform(X)
    rows = [0, 17, len(X) - 1]
    np.testing.assert_allclose(est.transform(X[rows]), Z[rows], rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        est.factor(1, X[rows, 1]), Z[rows, 2:] / est.factor(0, X[rows, 0]), rtol=1e-10)


def test_pickled_lattice_model(scattered_fit):
    est, X = scattered_fit
    loaded = pickle.loads(pickle.dumps(est))
    assert [f.nodes for f in loaded.model_.factors] == [AUTO_LATTICE, AUTO_LATTICE]
    np.testing.assert_array_equal(loaded.transform(X[:100]), est.transform(X[:100]))


def test_factor_pickled_before_the_lattice_loads_exact():
    """A factor pickled by a version without the lattice has none of its
    attributes; it loads as the exact network it was."""
    f = factor()
    old = copy.deepcopy(f)
    for name in ("lattice", "nodes", "_undecided"):
        del old.__dict__[name]
    loaded = pickle.loads(pickle.dumps(old))
    x = uniform(AUTO_LATTICE_ABOVE + 1)
    with torch.no_grad():
        assert torch.equal(loaded(x), factor(None)(x))
    assert loaded.nodes is None
