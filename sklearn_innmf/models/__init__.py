"""The factorisation estimators: thin scikit-learn wrappers over the problem layer.

:class:`~sklearn_innmf.models.base.PointTransformer` is what every estimator of
point arrays shares; :class:`~sklearn_innmf.models.nmf.BaseNMF` adds the
factorisations' fitting, and :class:`~sklearn_innmf.models.sampling.FactorSampling`
their evaluation. :class:`MatrixNMF` (table factors),
:class:`ImplicitNMF` (network factors) and :class:`NonNegativeAutoencoder`
(:mod:`~sklearn_innmf.models.autoencoder`) say how their model is built and
trained; the training itself is :func:`sklearn_innmf.solvers.solve`.
"""

from .autoencoder import NonNegativeAutoencoder
from .base import PointTransformer
from .implicit import ImplicitNMF
from .matrix import MatrixNMF
from .nmf import BaseNMF

__all__ = [
    "PointTransformer",
    "BaseNMF",
    "MatrixNMF",
    "ImplicitNMF",
    "NonNegativeAutoencoder",
]
