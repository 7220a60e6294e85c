"""Every gallery example runs, so that none can rot.

Each ``examples/plot_*.py`` is run as a script (``runpy``, as sphinx-gallery
runs it) with matplotlib's Agg backend, twice:

* with ``SKLEARN_INNMF_EXAMPLES_QUICK=1``, which the examples read to shrink
  ``max_iter``, grids and sizes (fits then stop at their cut ``max_iter``, so
  convergence warnings are expected and ignored there);
* in the full setting the gallery shows (``slow``), where every fit must
  converge or say why it does not: a ``ConvergenceWarning`` is an error. An
  example that trains for a fixed number of steps says so with ``tol=0``.
"""

import pathlib
import runpy
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path, script_run, monkeypatch):
    monkeypatch.setenv("SKLEARN_INNMF_EXAMPLES_QUICK", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is cut short
        runpy.run_path(str(path), run_name="__main__")


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_full_setting_converges(path, script_run, monkeypatch):
    # the gallery's own setting: about 2 minutes for all examples at 1 thread
    monkeypatch.delenv("SKLEARN_INNMF_EXAMPLES_QUICK", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        runpy.run_path(str(path), run_name="__main__")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_does_not_hide_convergence_warnings(path):
    # a fit that stops at max_iter says so, or trains a fixed number of steps
    # with tol=0 and a stated reason; silencing the warning hides both
    text = path.read_text(encoding="utf-8")
    assert "ConvergenceWarning" not in text, (
        f"{path.name} handles ConvergenceWarning: raise max_iter until its fits converge, "
        "or use tol=0 (a fixed number of steps) and say why."
    )


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
