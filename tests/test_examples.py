"""Every gallery example runs, in a reduced setting, so that none can rot.

Each ``examples/plot_*.py`` is run as a script (``runpy``, as sphinx-gallery
runs it) with ``SKLEARN_INNMF_EXAMPLES_QUICK=1``, which the examples read to
shrink ``max_iter``, grids and sizes, and with matplotlib's Agg backend. The
full setting is run by the documentation build (``sphinx-build -W``).
"""

import pathlib
import runpy
import sys

import matplotlib
import pytest

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


@pytest.fixture
def quick_example_run(monkeypatch, tmp_path):
    """The reduced, display-free, side-effect-free setting of an example run."""
    import matplotlib.pyplot as plt
    import torch

    monkeypatch.setenv("SKLEARN_INNMF_EXAMPLES_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    matplotlib.use("Agg")
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: None)
    monkeypatch.chdir(tmp_path)  # whatever an example writes lands here
    monkeypatch.setattr(sys, "argv", ["example"])
    # The reduced problems are small: a second thread saves little, and on a
    # shared machine (or under pytest-xdist) threads oversubscribe the cores
    # and slow every example down many times over.
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n_threads)
        plt.close("all")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, quick_example_run):
    runpy.run_path(str(path), run_name="__main__")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_has_a_quick_setting(path):
    # an example that ignores the reduced setting makes this suite slow
    assert "SKLEARN_INNMF_EXAMPLES_QUICK" in path.read_text(encoding="utf-8"), (
        f"{path.name} does not read SKLEARN_INNMF_EXAMPLES_QUICK; shrink its max_iter, "
        "grids and sizes when it is set (see examples/plot_compare_nmf.py)."
    )


def test_examples_are_found():
    # an empty parametrisation would pass silently
    assert EXAMPLES, "no examples/plot_*.py found"
