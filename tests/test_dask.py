"""Scale-out: GridSearchCV on worker processes, with joblib and with dask.

A grid over ``n_components`` x ``encoding_size`` (4 candidates, 3 folds of
points) runs in this process, on joblib's default (loky) worker processes and
on a real dask.distributed cluster of two worker processes started here. The
fits are deterministic, so all three find the same scores and best
parameters. Each worker runs torch on one thread, so two workers use the two
cores without oversubscribing them (doc_snippets/dask_grid_search.rst shows
the same search on a multi-machine cluster, one GPU per worker).
"""

import ipaddress
import socket

import _socket
import joblib
import numpy as np
import pytest
import torch
from distributed import Client, LocalCluster, get_task_stream
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_innmf import ImplicitNMF

from _helpers import field  # tests/_helpers.py; the data are built here, not on workers

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PARAM_GRID = {"n_components": [1, 3], "encoding_size": [2, 6]}


def search(n_jobs):
    return GridSearchCV(
        ImplicitNMF(hidden_size=16, n_layers=2, max_iter=15, random_state=0),
        PARAM_GRID,
        cv=KFold(3, shuffle=True, random_state=0),  # held-out points
        n_jobs=n_jobs,
    )


@pytest.fixture(scope="module")
def reference():
    """The single-process search, on one torch thread as the workers."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return search(n_jobs=1).fit(field(300))
    finally:
        torch.set_num_threads(n)


def assert_same_search(result, reference):
    assert result.best_params_ == reference.best_params_
    np.testing.assert_allclose(
        result.cv_results_["mean_test_score"],
        reference.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert len(result.cv_results_["params"]) == 4


def torch_threads():
    return torch.get_num_threads()


def test_grid_search_on_joblib_processes(reference):
    """joblib's default backend (loky) limits each worker's OpenMP threads to
    cores // n_jobs, which torch reads when it starts: one thread here."""
    if joblib.cpu_count() >= 2:
        threads = joblib.Parallel(n_jobs=2)(joblib.delayed(torch_threads)() for _ in range(4))
        assert set(threads) == {max(1, joblib.cpu_count() // 2)}
    assert_same_search(search(n_jobs=2).fit(field(300)), reference)


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address[0]).is_loopback
    except (TypeError, ValueError, IndexError):
        return address[0] == "localhost" if isinstance(address, tuple) else False


@pytest.fixture
def loopback_allowed(monkeypatch):
    """tests/conftest.py refuses every TCP connection; a local cluster talks
    over 127.0.0.1, which stays on this machine. Other addresses stay refused."""
    guarded = {name: getattr(socket.socket, name) for name in ("connect", "connect_ex")}

    def allow(name):
        def method(self, address):
            if self.family in (socket.AF_INET, socket.AF_INET6) and _is_loopback(address):
                return getattr(_socket.socket, name)(self, address)
            return guarded[name](self, address)

        return method

    for name in guarded:
        monkeypatch.setattr(socket.socket, name, allow(name))


def test_grid_search_on_dask_cluster(reference, loopback_allowed):
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # each worker process starts torch with one thread
        env={"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    )
    with cluster, Client(cluster) as client:
        threads = client.run(torch_threads)
        assert len(threads) == 2 and set(threads.values()) == {1}
        with get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
            result = search(n_jobs=-1).fit(field(300))
        # 4 candidates x 3 folds ran on the cluster, on both workers
        assert len(tasks.data) >= 12
        assert len({task["worker"] for task in tasks.data}) == 2
    assert_same_search(result, reference)
