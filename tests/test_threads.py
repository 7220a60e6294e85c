"""The package's thread setting (sklearn_innmf._threads)."""

import numpy as np
import pytest
import torch

import sklearn_innmf
from sklearn_innmf import MatrixNMF, grid_to_points
from sklearn_innmf._threads import _SMALL, get_num_threads, limit_threads, num_threads


def test_default_is_auto_and_context_restores(monkeypatch):
    monkeypatch.delenv("SKLEARN_INNMF_NUM_THREADS", raising=False)
    assert get_num_threads() == "auto"
    with num_threads(3):
        assert get_num_threads() == 3
        with num_threads("auto"):
            assert get_num_threads() == "auto"
        assert get_num_threads() == 3
    assert get_num_threads() == "auto"


def test_environment_variable(monkeypatch):
    monkeypatch.setenv("SKLEARN_INNMF_NUM_THREADS", "2")
    assert get_num_threads() == 2
    monkeypatch.setenv("SKLEARN_INNMF_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="SKLEARN_INNMF_NUM_THREADS='many' must be 'auto'"):
        get_num_threads()


@pytest.mark.parametrize("bad", [0, -1, 1.5, "two", True, None])
def test_bad_settings(bad):
    with pytest.raises(ValueError, match="must be 'auto' or an integer >= 1"):
        num_threads(bad)


def test_limit_sets_and_restores_torch_threads():
    before = torch.get_num_threads()
    with num_threads(2):
        with limit_threads(10):
            assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before
    with limit_threads(_SMALL - 1):  # auto, small: one thread
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_fit_runs_under_the_limit(monkeypatch):
    seen = []
    real = torch.mm

    def mm(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "mm", mm)
    rng = np.random.RandomState(0)
    X = grid_to_points(rng.rand(20, 15), np.arange(15) * 0.01, np.arange(20) * 10.0)
    with sklearn_innmf.num_threads(2):
        MatrixNMF(2, max_iter=3, tol=0).fit(X)
    assert seen and set(seen) == {2}
