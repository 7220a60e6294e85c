"""bss_eval runs fast_bss_eval on one torch thread without touching the
process-wide thread count: the caller's setting is the same afterwards, also
when the evaluation raises, and other threads keep theirs meanwhile."""

import threading

import numpy as np
import pytest
import torch

from sklearn_innmf.metrics import bss_eval

fast_bss_eval = pytest.importorskip("fast_bss_eval")


@pytest.fixture
def two_threads():
    """torch on two threads for the test (the suite runs on one), restored."""
    old = torch.get_num_threads()
    torch.set_num_threads(2)
    yield 2
    torch.set_num_threads(old)


def _sources(seed=0):
    rng = np.random.RandomState(seed)
    ref = rng.randn(2, 4000)
    return ref, ref + 0.1 * rng.randn(2, 4000)


def _thread_count_elsewhere():
    """torch's thread count as seen from a new thread."""
    seen = []
    t = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    t.start()
    t.join()
    return seen[0]


def test_bss_eval_leaves_thread_count(two_threads, monkeypatch):
    seen = {}
    solve = fast_bss_eval.bss_eval_sources

    def spy(*args, **kwargs):
        seen["inside"] = torch.get_num_threads()
        seen["other thread"] = _thread_count_elsewhere()
        return solve(*args, **kwargs)

    monkeypatch.setattr(fast_bss_eval, "bss_eval_sources", spy)
    result = bss_eval(*_sources(), backend="fast_bss_eval")
    assert np.all(result.sdr > 10)
    assert seen == {"inside": 1, "other thread": two_threads}
    assert torch.get_num_threads() == two_threads
    assert _thread_count_elsewhere() == two_threads


def test_bss_eval_restores_thread_count_on_error(two_threads, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("solver failed")

    monkeypatch.setattr(fast_bss_eval, "bss_eval_sources", fail)
    with pytest.raises(RuntimeError, match="solver failed"):
        bss_eval(*_sources(), backend="fast_bss_eval")
    assert torch.get_num_threads() == two_threads
    assert _thread_count_elsewhere() == two_threads
