"""scikit-learn's estimator checks, with no expected failures.

The estimators are the defaults except ``max_iter``: the checks fit dozens of
tiny data sets, and each fit is stopped by ``tol`` or ``max_iter`` either way;
a smaller budget only shortens the run (every check still runs, none is
skipped or expected to fail). ``test_check_estimator_defaults`` runs the
untouched defaults once more, as a new user would.
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

ESTIMATORS = [
    MatrixNMF(max_iter=50),
    ImplicitNMF(max_iter=30),
    ImplicitNMF(max_iter=30, time_factor="table", architecture="shared"),
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
