"""Source separation: supervised (a dictionary per source) and blind (grouping a
mixture's components).

:class:`SupervisedSeparator` (:mod:`~sklearn_innmf.separation.supervised`,
joint activations in :mod:`~sklearn_innmf.separation.mixture`) and
:class:`ComponentGroupSeparator` (:mod:`~sklearn_innmf.separation.grouping`,
component features in :mod:`~sklearn_innmf.separation.features`) are
estimators of point arrays; :mod:`~sklearn_innmf.separation.waveforms` goes
from waveforms to separated waveforms.
"""

from .features import FEATURES, component_features
from .grouping import ComponentGroupSeparator, separate_by_grouping
from .supervised import SupervisedSeparator
from .waveforms import (
    fit_separator,
    separate_mixture,
    separate_waveforms,
    training_points,
)

__all__ = [
    "SupervisedSeparator",
    "fit_separator",
    "separate_mixture",
    "separate_waveforms",
    "training_points",
    "ComponentGroupSeparator",
    "separate_by_grouping",
    "component_features",
    "FEATURES",
]
