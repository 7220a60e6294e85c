"""The paper's experiments as functions, shared by the demo, the gallery and the
benchmarks: the hybrid representation (Fig. 3), templates across
representations (Fig. 4, Table 1) and synthetic supervised separation.
"""

from .cross_representation import (
    cross_representation_markdown,
    cross_representation_table,
    piano_representations,
    plot_cross_representation,
)
from .hybrid import (
    PIANO_F0,
    hybrid_piano_points,
    hybrid_summary,
    in_sine_units,
    plot_hybrid_factors,
    small_implicit_nmf,
)
from .separation import synthetic_separation

__all__ = [
    "PIANO_F0",
    "small_implicit_nmf",
    "in_sine_units",
    "hybrid_piano_points",
    "hybrid_summary",
    "plot_hybrid_factors",
    "piano_representations",
    "cross_representation_table",
    "cross_representation_markdown",
    "plot_cross_representation",
    "synthetic_separation",
]
