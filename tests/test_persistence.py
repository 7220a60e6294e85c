"""Persistence and reproducibility.

Fitted estimators survive pickle, joblib and cloudpickle (what dask ships)
exactly; their state is on the CPU, so loading never needs the device they
were fitted on; and the same ``random_state`` gives bitwise-identical results
in one process and across fresh processes. (tests/test_core.py checks a plain
pickle round trip and two in-process fits.)
"""

import hashlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from sklearn_innmf import ImplicitNMF, MatrixNMF, grid_to_points

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:n_components=.* is larger:UserWarning"),
]

TINY = dict(encoding_size=4, hidden_size=16, n_layers=2, random_state=0)
ESTIMATORS = [
    MatrixNMF(3, max_iter=30, random_state=0),
    ImplicitNMF(3, max_iter=15, **TINY),
    ImplicitNMF(3, max_iter=15, time_factor="table", architecture="shared", **TINY),
]
IDS = ["matrix", "implicit", "implicit-table-shared"]


def points(seed=0):
    """A small spectrogram grid plus irregular points: both code paths."""
    rng = np.random.RandomState(seed)
    V = rng.rand(12, 2) @ rng.rand(2, 10) + 0.01
    grid = grid_to_points(V, times=np.arange(10) * 0.02, freqs=np.arange(12) * 100.0)
    scattered = np.column_stack([rng.rand(40) * 0.2, rng.rand(40) * 1100, rng.rand(40)])
    return np.vstack([grid, scattered])


@pytest.fixture(scope="module")
def fitted():
    X = points()
    return {name: clone(est).fit(X) for name, est in zip(IDS, ESTIMATORS)}


def assert_same_fitted(a, b, X):
    np.testing.assert_array_equal(b.transform(X), a.transform(X))
    assert b.score(X) == a.score(X)
    assert b.loss_curve_ == a.loss_curve_ and b.n_iter_ == a.n_iter_
    assert b.get_params() == a.get_params()
    freqs = [0.0, 150.0, 1000.0]  # within every fixture's training range
    np.testing.assert_array_equal(b.templates(freqs), a.templates(freqs))


def tensors_in(obj, seen=None):
    """Every torch tensor reachable from obj (dicts, sequences, modules, attributes)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, nn.Module):
        yield from obj.state_dict(keep_vars=True).values()
        yield from tensors_in(vars(obj), seen)
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from tensors_in(value, seen)
    elif isinstance(obj, (list, tuple, set)):
        for value in obj:
            yield from tensors_in(value, seen)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        yield from tensors_in(vars(obj), seen)


@pytest.mark.parametrize("name", IDS)
@pytest.mark.parametrize("compress", [0, 3])
def test_joblib_roundtrip_is_exact(fitted, name, compress, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(fitted[name], path, compress=compress)
    assert_same_fitted(fitted[name], joblib.load(path), points(1))


@pytest.mark.parametrize("name", IDS)
def test_cloudpickle_roundtrip_is_exact(fitted, name):
    """What dask and joblib's loky backend use to ship estimators."""
    cloudpickle = pytest.importorskip("cloudpickle")
    loaded = cloudpickle.loads(cloudpickle.dumps(fitted[name]))
    assert_same_fitted(fitted[name], loaded, points(1))


@pytest.mark.parametrize("name", IDS)
def test_estimator_from_fit_activations_roundtrips(fitted, name):
    new = fitted[name].fit_activations(points(2))
    loaded = pickle.loads(pickle.dumps(new))
    assert_same_fitted(new, loaded, points(2))
    # and a loaded estimator keeps working: new activations from its templates
    again = pickle.loads(pickle.dumps(fitted[name])).fit_activations(points(2))
    np.testing.assert_array_equal(again.transform(points(2)), new.transform(points(2)))


@pytest.mark.parametrize("name", IDS)
def test_fitted_state_is_on_cpu(fitted, name):
    """Every tensor the estimator holds (parameters, buffers, anything else in
    its __getstate__) is a CPU tensor, so no device is needed to load it."""
    est = fitted[name]
    state = est.__getstate__()
    found = list(tensors_in(state))
    assert len(found) >= len(est.model_.state_dict())
    assert {t.device.type for t in found} == {"cpu"}
    assert all(t.device.type == "cpu" for t in est.model_.state_dict().values())
    assert all(not t.requires_grad for t in est.model_.parameters())
    # torch writes each storage's location into the pickle: only "cpu"
    assert b"cuda" not in pickle.dumps(est)


@pytest.mark.parametrize("name", IDS)
def test_model_saved_with_device_cuda_loads_anywhere(fitted, name):
    """A GPU user's estimator (device="cuda", state on CPU) unpickles on a
    machine without CUDA; using it asks for a device the machine has, and
    device="auto" or "cpu" gives the same numbers."""
    X = points(1)
    expected = fitted[name].transform(X)
    gpu_user = pickle.loads(pickle.dumps(fitted[name]))
    gpu_user.set_params(device="cuda")
    loaded = pickle.loads(pickle.dumps(gpu_user))  # never touches CUDA
    assert loaded.device == "cuda"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available on this machine"):
            loaded.transform(X)
    for device in ("auto", "cpu"):
        np.testing.assert_array_equal(loaded.set_params(device=device).transform(X), expected)


# -- determinism ---------------------------------------------------------------


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_global_random_state_is_neither_used_nor_changed(est):
    """random_state seeds a private torch generator: the global torch and
    NumPy generators neither change the fit nor are consumed by it."""
    X = points()
    fits = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        np.random.seed(seed)
        torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
        fits.append(clone(est).fit(X))
        assert torch.equal(torch.get_rng_state(), torch_state)
        assert np.array_equal(np.random.get_state()[1], numpy_state[1])
        assert np.random.get_state()[2] == numpy_state[2]
    np.testing.assert_array_equal(fits[0].transform(X), fits[1].transform(X))
    assert fits[0].loss_curve_ == fits[1].loss_curve_


@pytest.mark.parametrize("est", ESTIMATORS, ids=IDS)
def test_random_state_instance_gives_the_same_fit(est):
    X = points()
    a = clone(est).set_params(random_state=np.random.RandomState(7)).fit(X)
    b = clone(est).set_params(random_state=np.random.RandomState(7)).fit(X)
    c = clone(est).set_params(random_state=8).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert not np.array_equal(a.transform(X), c.transform(X))


def digest(est, X):
    """A fingerprint of everything a fit produces."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(est.transform(X)).tobytes())
    h.update(json.dumps([est.loss_curve_, est.n_iter_, est.reconstruction_err_]).encode())
    for key, t in sorted(est.model_.state_dict().items()):
        h.update(key.encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


CHILD = textwrap.dedent(
    """
    import json, pickle, sys, warnings
    import numpy as np
    from sklearn.base import clone
    sys.path.insert(0, sys.argv[1])
    from test_persistence import ESTIMATORS, IDS, digest, points

    warnings.simplefilter("ignore")
    X = points()
    with open(sys.argv[2], "rb") as f:
        saved = pickle.load(f)  # fitted in the parent process
    out = {}
    for name, est in zip(IDS, ESTIMATORS):
        out["fit " + name] = digest(clone(est).fit(X), X)
        out["loaded " + name] = digest(saved[name], X)
    print(json.dumps(out))
    """
)


def test_bitwise_identical_across_processes(fitted, tmp_path):
    """Two fresh interpreters fit the same three estimators: all fingerprints
    equal, and equal to this process's fits; the pickled estimators load there
    with identical outputs. (One thread each, as here: on problems this small
    torch computes the same bits with more threads, but threads fighting for
    two shared cores make it slow.)"""
    X = points()
    path = tmp_path / "fitted.pkl"
    path.write_bytes(pickle.dumps(fitted))
    here = {}
    for name, est in zip(IDS, ESTIMATORS):
        assert digest(clone(est).fit(X), X) == digest(fitted[name], X)  # in-process
        here["fit " + name] = here["loaded " + name] = digest(fitted[name], X)
    tests_dir = str(Path(__file__).parent)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, tests_dir, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        for _ in range(2)
    ]
    results = []
    for child in children:
        stdout, stderr = child.communicate(timeout=300)
        assert child.returncode == 0, stderr
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    assert results[0] == results[1] == here
