"""Session-wide test settings: no display, no network (one torch thread: see the
root conftest.py)."""

import socket

import matplotlib
import pytest

# Before anything imports pyplot: figures render off-screen, also on CI.
matplotlib.use("Agg")


class NetworkAccessError(RuntimeError):
    """Raised when a test tries to open a network connection."""


def _refuse(*args, **kwargs):
    raise NetworkAccessError(
        "A test tried to open a network connection; the test suite must not touch "
        "the network (data are synthesised, never downloaded)."
    )


_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_INET = (socket.AF_INET, socket.AF_INET6)


def _connect(self, *args, **kwargs):
    # Local (AF_UNIX) sockets stay usable, e.g. by multiprocessing.
    if self.family in _INET:
        _refuse()
    return _original_connect(self, *args, **kwargs)


def _connect_ex(self, *args, **kwargs):
    if self.family in _INET:
        _refuse()
    return _original_connect_ex(self, *args, **kwargs)


_network_guard = pytest.MonkeyPatch()


def pytest_configure(config):
    # A hook rather than a fixture, so that imports during collection are
    # guarded too.
    _network_guard.setattr(socket.socket, "connect", _connect)
    _network_guard.setattr(socket.socket, "connect_ex", _connect_ex)
    _network_guard.setattr(socket, "create_connection", _refuse)


def pytest_unconfigure(config):
    _network_guard.undo()


@pytest.fixture
def script_run(monkeypatch, tmp_path):
    """Run code as a user would run a script or a snippet, without side
    effects: figures off-screen and no window, a scratch working directory
    (whatever it writes lands there), a plain ``sys.argv`` and one torch
    thread. The problems are small: a second thread saves little, and on a
    shared machine (or under pytest-xdist) threads oversubscribe the cores."""
    import sys

    import matplotlib.pyplot as plt
    import torch

    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["script"])
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n_threads)
        plt.close("all")
