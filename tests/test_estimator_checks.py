"""scikit-learn's estimator checks, with no expected failures.

The factorisations run on small networks and few iterations: the checks fit
dozens of tiny data sets and test the API contract, which does not depend
on the network's size or how far a fit converged (every check still runs,
none is skipped or expected to fail). ``test_check_estimator_defaults_*``
run the untouched defaults, as a new user would: all checks for MatrixNMF,
three that exercise fitting and evaluation for ImplicitNMF (marked slow).

The separators use small base estimators (2 components, a few iterations, a
tiny network for ImplicitNMF) and ``max_iter=20`` activation updates per
frame. That hides no failure either: the checks test the API contract
(validation, dtypes, fitted state, subset and order invariance, pickling,
feature names), which does not depend on how far a fit converged. The
activation updates of every frame run exactly ``max_iter`` times whatever the
setting, so subset invariance is tested on the real algorithm. The check of
``activations="implicit"``, which has one expected failure, is in
test_separation.py.
"""

import pytest
from sklearn.utils.estimator_checks import (
    check_estimator,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_global_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from sklearn_innmf import ImplicitNMF, MatrixNMF, NonNegativeAutoencoder
from sklearn_innmf.separation import SupervisedSeparator

# the checks fit tiny random data with a few iterations: not converging is
# expected here, and said by the estimators (tests elsewhere check the warning)
# sklearn's data sets have any number of columns: the layout warning for
# other than (t, f, m) points is expected there (tested in test_core.py)
pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:X has .* columns. read as:UserWarning"),
    # separators sample their sources' templates at the test points, which
    # sklearn draws anywhere (the warning is tested in test_problem.py)
    pytest.mark.filterwarnings("ignore:.* lie outside the training range:UserWarning"),
]

TINY_IMPLICIT = dict(max_iter=5, hidden_size=8, n_layers=1, encoding_size=2)
SMALL_IMPLICIT = dict(max_iter=20, hidden_size=16, n_layers=2)
ESTIMATORS = [
    MatrixNMF(max_iter=50),
    ImplicitNMF(**SMALL_IMPLICIT),
    ImplicitNMF(time_factor="table", architecture="shared", **SMALL_IMPLICIT),
    SupervisedSeparator(MatrixNMF(2, max_iter=20), max_iter=20),
    SupervisedSeparator(ImplicitNMF(2, **TINY_IMPLICIT), max_iter=20),
    SupervisedSeparator(NonNegativeAutoencoder(2, max_iter=10, latent_iter=10), max_iter=10),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})
def test_sklearn_compatible(estimator, check):
    check(estimator)


EXTRA_CHECKS = [
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_global_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
]


# the pandas checks fit with column names and transform without (and back)
# on purpose; the estimators' warning about it is sklearn's, as it should be
@pytest.mark.filterwarnings("ignore:X (does not have valid|has) feature names:UserWarning")
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@pytest.mark.parametrize("check", EXTRA_CHECKS, ids=lambda c: c.__name__)
def test_extra_checks(estimator, check):
    check(type(estimator).__name__, estimator)


def test_check_estimator_defaults_matrix():
    check_estimator(MatrixNMF())


# The defaults of ImplicitNMF (4 sine layers of 64 per component, 10
# components, up to 1000 Rprop steps) made the whole check_estimator take
# 270 s; the API contract is checked above on smaller networks, and these
# checks run the untouched defaults, as a new user gets them.
DEFAULT_CHECKS = [
    "check_fit_idempotent",
    "check_methods_subset_invariance",
    "check_estimators_pickle",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", DEFAULT_CHECKS)
def test_check_estimator_defaults_implicit(name):
    import sklearn.utils.estimator_checks as checks

    estimator = ImplicitNMF()
    getattr(checks, name)(type(estimator).__name__, estimator)
