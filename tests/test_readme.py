"""The README's example runs as written, so that the first code a user copies works."""

import pathlib
import re
import warnings

from sklearn.exceptions import ConvergenceWarning

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1, "the README should hold one Python example"
    namespace = {}
    # the defaults converge on the README's data: no warning to ignore
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        exec(compile(blocks[0], str(README), "exec"), namespace)
    W, model, explained = namespace["W"], namespace["model"], namespace["explained"]
    assert W.shape == (2000, model.n_components)
    assert (W >= 0).all()
    # the templates explain the other resolution: a finite, fitted activation model
    assert explained.n_iter_ > 0
    assert 0 < explained.reconstruction_err_ < float("inf")
