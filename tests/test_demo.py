"""``python -m sklearn_innmf demo --quick``: the tour runs in-process, writes its
figures and WAV files, and prints tables of sensible numbers.

CI runs the same command as a script; this checks what it prints.
"""

import math
import re

import pytest
import torch

from sklearn_innmf.__main__ import main

FIGURES = [
    "points.png",
    "factors_matrixnmf.png",
    "factors_implicitnmf_implicit_w_table_h.png",
    "factors_implicitnmf_implicit_w_and_h.png",
    "hybrid.png",
    "cross_representation.png",
    "separation.png",
]
SOUNDS = ["mixture.wav", "separated_low_voice.wav", "separated_high_voice.wav"]
REPRESENTATIONS = ["STFT-256", "STFT-1024", "CQT"]


def markdown_tables(text):
    """Every Markdown table in ``text``: a list of rows (dicts header -> cell)."""
    tables, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        if len(block) >= 2 and set("".join(block[1])) <= set("-: "):
            header = block[0]
            tables.append([dict(zip(header, row)) for row in block[2:]])
        block = []
    return tables


def number(cell):
    value = float(cell)
    assert math.isfinite(value), cell
    return value


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small fits; more threads oversubscribe a shared CI machine
    try:
        import contextlib
        import io

        import warnings

        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            status = main(["demo", "--quick", "--out", str(out)])
    finally:
        torch.set_num_threads(threads)
    demo_warnings.extend(caught)
    return status, stdout.getvalue(), out


demo_warnings = []  # what the demo run of the fixture warned


def table_with(tables, column):
    found = [t for t in tables if t and column in t[0]]
    assert found, f"no table with a {column!r} column"
    return found


def test_demo_succeeds_and_shows_its_steps(demo):
    status, text, _ = demo
    assert status == 0
    for i in range(1, 5):
        assert f"Step {i}/4" in text
    assert re.search(r"Demo finished in [0-9.]+ s", text)


def test_demo_does_not_warn(demo):
    # --quick trains a fixed, small number of steps (tol=0), so no fit reports
    # stopping short
    assert demo[0] == 0
    assert not demo_warnings, [f"{w.category.__name__}: {w.message}" for w in demo_warnings]


@pytest.mark.slow
def test_full_demo_converges(tmp_path):
    # the README's main job: every fit stops on its tolerance (or, the small
    # template network, trains its fixed number of steps); about a minute
    import contextlib
    import io
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            assert main(["demo", "--out", str(tmp_path)]) == 0
    finally:
        torch.set_num_threads(threads)


def test_demo_writes_figures_and_wavs(demo):
    _, text, out = demo
    for name in FIGURES + SOUNDS:
        path = out / name
        assert path.is_file() and path.stat().st_size > 1000, name
        assert str(path) in text, f"{name} is not listed in the output"


def test_demo_estimator_table(demo):
    _, text, _ = demo
    (table,) = table_with(markdown_tables(text), "mean KL")
    rows = {row["estimator"]: row for row in table}
    assert set(rows) == {
        "MatrixNMF (classic KL-MU)",
        "ImplicitNMF (implicit W, table H)",
        "ImplicitNMF (implicit W and H)",
    }
    for row in rows.values():
        assert number(row["mean KL"]) > 0
        assert int(row["iterations"]) > 0
        assert number(row["fit time (s)"]) >= 0


def test_demo_hybrid_tables(demo):
    _, text, _ = demo
    tables = markdown_tables(text)
    (points,) = table_with(tables, "representation")
    assert [row["representation"] for row in points] == ["STFT", "sinusoidal peaks", "CQT"]
    assert all(int(row["points"]) > 0 for row in points)
    (components,) = table_with(tables, "note")
    assert [row["component"] for row in components] == ["0", "1"]
    for row in components:
        assert row["note"] in ("A3", "E4")
        assert number(row["strongest peak (Hz)"]) > 0
        assert number(row["solo contrast"]) > 0
        assert number(row["chord / solo"]) > 0


def test_demo_cross_representation_tables(demo):
    _, text, _ = demo
    tables = table_with(markdown_tables(text), "trained on / explained")
    assert len(tables) == 2  # ImplicitNMF, then interpolated MatrixNMF
    cell = re.compile(r"^([0-9.e+-]+) \(\**([0-9.]+)x\**\)$")
    for table in tables:
        assert [row["trained on / explained"] for row in table] == REPRESENTATIONS
        for row in table:
            for column in REPRESENTATIONS:
                match = cell.match(row[column])
                assert match, row[column]
                kl, ratio = number(match[1]), number(match[2])
                assert kl > 0 and ratio > 0
                if column == row["trained on / explained"]:
                    assert ratio == 1.0  # the self-fit


def test_demo_separation_table(demo):
    _, text, _ = demo
    (table,) = table_with(markdown_tables(text), "SDR (dB)")
    assert [(row["separator"].split(" ")[0], row["source"]) for row in table] == [
        ("ImplicitNMF", "low voice"), ("ImplicitNMF", "high voice"),
        ("MatrixNMF", "low voice"), ("MatrixNMF", "high voice"),
    ]
    for row in table:
        for column in ("SDR (dB)", "SIR (dB)", "SAR (dB)", "mixture SDR (dB)"):
            number(row[column])
        # the separated source is closer to the truth than the mixture is
        # (measured: 7 - 10 dB against 0.2 - 0.3 dB in the quick setting)
        assert number(row["SDR (dB)"]) > number(row["mixture SDR (dB)"]) + 2
