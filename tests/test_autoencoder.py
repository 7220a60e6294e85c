"""NonNegativeAutoencoder: scikit-learn's checks, the package contract, the
seed paper's Fig. 1 setting, and the modules handed to separators."""

import pytest
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from sklearn_innmf.autoencoder import NonNegativeAutoencoder

# small budgets: the checks test the API contract on dozens of tiny fits
ESTIMATORS = [
    NonNegativeAutoencoder(2, max_iter=20, latent_iter=10),
    NonNegativeAutoencoder(
        2, hidden_layer_sizes=(4,), activation="relu", sparsity=0.1, max_iter=20,
        latent_iter=10,
    ),
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
