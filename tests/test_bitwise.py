"""Fits are bitwise equal to those recorded before the package was split.

``tests/data/reference_fits.npz`` holds, for every estimator at a fixed
``random_state``, its ``transform`` output, loss curve, score and
``fit_activations`` result (the separators' ``transform``), written by
``tests/data/make_reference_fits.py`` from the 0.1 flat layout. A change of
layout (or any refactoring) must leave every array bitwise equal; a change
meant to alter results regenerates the file and says so in the changelog.
"""

import os
import sys

import numpy as np
import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "data"))
from make_reference_fits import reference_fits  # noqa: E402

REFERENCE = np.load(os.path.join(HERE, "data", "reference_fits.npz"))


@pytest.fixture(scope="module")
def fits():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as recorded: reductions may split by thread
    try:
        return reference_fits()
    finally:
        torch.set_num_threads(threads)


# the separators sample templates at the mixture's points, which the reference
# data puts past some sources' training range on purpose (same grid, other values)
@pytest.mark.filterwarnings("ignore:.* lie outside the training range:UserWarning")
@pytest.mark.parametrize("name", sorted(REFERENCE.files))
def test_fit_is_bitwise_equal_to_the_reference(fits, name):
    assert name in fits
    got, want = np.asarray(fits[name]), REFERENCE[name]
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.array_equal(got, want), f"{name}: max |diff| {np.max(np.abs(got - want)):.3g}"


def test_reference_covers_every_estimator():
    import sklearn_innmf

    names = {n.split(".")[0].split("_")[0] for n in REFERENCE.files}
    covered = {"matrix": "MatrixNMF", "implicit": "ImplicitNMF", "nae": "NonNegativeAutoencoder",
               "supervised": "SupervisedSeparator", "grouping": "ComponentGroupSeparator",
               "minibatch": "MiniBatchMatrixNMF"}
    estimators = {n for n in sklearn_innmf.__all__ if n[0].isupper()}
    assert {covered[n] for n in names} == estimators
