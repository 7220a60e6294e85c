"""scikit-learn's estimator checks, with no expected failures.

The factorisations are the defaults except ``max_iter``: the checks fit
dozens of tiny data sets, and each fit is stopped by ``tol`` or ``max_iter``
either way; a smaller budget only shortens the run (every check still runs,
none is skipped or expected to fail). ``test_check_estimator_defaults`` runs
the untouched defaults once more, as a new user would.

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

from sklearn_innmf import ImplicitNMF, MatrixNMF
from sklearn_innmf.separation import SupervisedSeparator

# the checks fit tiny random data with a few iterations: not converging is
# expected here, and said by the estimators (tests elsewhere check the warning)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

TINY_IMPLICIT = dict(max_iter=5, hidden_size=8, n_layers=1, encoding_size=2)
ESTIMATORS = [
    MatrixNMF(max_iter=50),
    ImplicitNMF(max_iter=30),
    ImplicitNMF(max_iter=30, time_factor="table", architecture="shared"),
    SupervisedSeparator(MatrixNMF(2, max_iter=20), max_iter=20),
    SupervisedSeparator(ImplicitNMF(2, **TINY_IMPLICIT), max_iter=20),
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


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
@pytest.mark.parametrize("check", EXTRA_CHECKS, ids=lambda c: c.__name__)
def test_extra_checks(estimator, check):
    check(type(estimator).__name__, estimator)


@pytest.mark.parametrize("Estimator", [MatrixNMF, ImplicitNMF])
def test_check_estimator_defaults(Estimator):
    check_estimator(Estimator())
