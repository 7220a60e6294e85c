"""The paper's figures as claims: a hybrid representation (Fig. 3) and templates
that explain another representation (Fig. 4).

The experiments are those of :mod:`sklearn_innmf.experiments`, shared with
``examples/plot_hybrid_representation.py`` and
``examples/plot_cross_resolution.py``, where the settings are explained. The
thresholds leave room around what was measured (noted at each assertion) over
several random states, so that the tests check the claims, not one run.
"""

import contextlib

import numpy as np
import pytest
import torch

from sklearn_innmf.experiments import (
    cross_representation_table,
    hybrid_piano_points,
    hybrid_summary,
    piano_representations,
    small_implicit_nmf,
)

F0 = {"A3": 220.0, "E4": 329.63}
POWER = 0.5  # |X| ** 0.5, as in the paper


def small_model(max_iter=500):
    """A small template network: smooth between the points (see the examples)."""
    return small_implicit_nmf(2, max_iter=max_iter, random_state=0, device="cpu")


@contextlib.contextmanager
def torch_threads(n):
    # These fits are small: on a shared machine a second torch thread does not
    # help, and oversubscribed cores make them many times slower.
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def partials(f0, n_partials=8, inharmonicity=4e-4):
    """The partial frequencies of datasets.piano_notes."""
    n = np.arange(1, n_partials + 1)
    return n * f0 * np.sqrt(1 + inharmonicity * n**2)


# ----------------------------------------------------------------- Fig. 3


@pytest.fixture(scope="module")
def hybrid():
    """A3, then E4, then both: STFT over the solos, peaks, then a CQT."""
    return hybrid_piano_points(power=POWER)


def test_hybrid_has_three_kinds_of_points(hybrid):
    X = hybrid.X
    assert [name for name, _, _ in hybrid.segments] == ["STFT", "sinusoidal peaks", "CQT"]
    stft, peaks, cqt = (X[(X[:, 0] >= a) & (X[:, 0] < b)] for a, b in
                        ((0.0, 1.2), (1.2, 1.5), (1.5, np.inf)))
    assert len(np.unique(stft[:, 1])) == 513  # the STFT's bins
    assert len(np.unique(cqt[:, 1])) == 180  # the CQT's bins
    # peaks lie between the bins of any grid: (almost) every one is unique
    assert len(np.unique(peaks[:, 1])) > 0.9 * len(peaks)
    assert not np.isin(peaks[:, 1], stft[:, 1]).any()


def test_hybrid_templates_and_activations_follow_the_notes(hybrid):
    est = small_model().fit(hybrid.X)

    # Each component belongs to the note whose solo it is loudest in (a
    # comparison within one component, so the W-H scale trade does not
    # matter); levels are mean activations per span, away from the onsets,
    # and peaks are on templates sampled every 0.5 Hz, between any bins.
    components = hybrid_summary(est, hybrid)
    notes = [c.note for c in components]
    levels = [c.levels for c in components]
    assert sorted(notes) == ["A3", "E4"], f"both components follow one note: {levels}"

    for k, c in enumerate(components):
        # measured: the fundamental within 1.4% (15 runs: 5 seeds x 3 signals)
        error = np.min(np.abs(c.peak / partials(F0[c.note]) - 1))
        assert error < 0.03, f"component {k} ({c.note}) peaks at {c.peak} Hz"
        # measured: 77 and 327 here, > 70 over 5 seeds
        assert c.contrast > 10, f"component {k} ({c.note}): solo contrast {c.contrast:.1f}"
        # measured: 0.6 - 1.0; each note restarts at full level in the chord
        assert c.chord > 0.3, f"component {k} ({c.note}) silent in the chord: {c.chord:.2f}"


# ----------------------------------------------------------------- Fig. 4


@pytest.fixture(scope="module")
def table():
    """The same notes as STFT-1024, STFT-2048 and a CQT (in the CQT's band):
    one model per representation, and each explaining the others."""
    reps = piano_representations(("STFT-1024", "STFT-2048", "CQT"), power=POWER)
    with torch_threads(1):
        return reps, cross_representation_table(small_model, reps)


@pytest.mark.parametrize(
    "trained_on, explained",
    [
        # seed 0's ratios; over seeds 0-4 (benchmarks/cross_representation.md):
        ("STFT-1024", "STFT-2048"),  # 1.6 (1.09-1.66)
        ("STFT-2048", "STFT-1024"),  # 2.4 (2.39-3.45: above 3 for some seeds)
        ("STFT-1024", "CQT"),  # 2.8 (2.80-2.89)
        ("STFT-2048", "CQT"),  # 2.7 (2.68-2.95)
    ],
)
def test_templates_explain_another_resolution(table, trained_on, explained):
    reps, table = table
    X = reps[explained]
    transfer = table.transfers[trained_on, explained]
    source = table.models[trained_on]
    # the templates are the source's, frozen (compared where the source was trained)
    f = np.unique(X[:, 1])
    lo, hi = source.coordinate_ranges_[1]
    f = f[(f >= lo) & (f <= hi)]
    np.testing.assert_array_equal(transfer.templates(f), source.templates(f))
    # Each KL is in the explained representation's own unit, so it is
    # compared with the self-fit of that representation.
    ratio = transfer.score(X) / table.models[explained].score(X)
    i, j = table.names.index(trained_on), table.names.index(explained)
    assert ratio == pytest.approx(table.ratio[i, j])
    assert ratio <= 3.0, f"{trained_on} -> {explained}: KL {ratio:.2f} x the self-fit"
