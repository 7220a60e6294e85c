"""sklearn-innmf: non-negative factorisation of time-frequency points.

Implicit-neural NMF (Subramani et al., arXiv:2404.04439) and classic NMF as
scikit-learn estimators that take point arrays ``(t, f, m)`` instead of
matrices, on torch (CPU or CUDA).
"""

from . import _moved  # noqa: F401  (old module paths warn, see _moved.py)
from ._threads import get_num_threads, num_threads
from .models import ImplicitNMF, MatrixNMF, NonNegativeAutoencoder
from .points import grid_to_points, points_to_grid
from .separation import ComponentGroupSeparator, SupervisedSeparator

__version__ = "0.2.0.dev0"

__all__ = [
    "ImplicitNMF",
    "MatrixNMF",
    "NonNegativeAutoencoder",
    "SupervisedSeparator",
    "ComponentGroupSeparator",
    "grid_to_points",
    "points_to_grid",
    "num_threads",
    "get_num_threads",
    "__version__",
]
