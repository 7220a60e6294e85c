"""The problem layer: what the solvers solve, and nothing of sklearn.

A :class:`Problem` is a forward model (:mod:`~sklearn_innmf.problem.forward`:
a separable model of factors, a frame decoder, an autoencoder), its data
(:mod:`~sklearn_innmf.problem.data`: points with their unique coordinates, or
a frame grid), a beta-divergence, penalties
(:mod:`~sklearn_innmf.problem.penalties`) and a :class:`Block` per factor that
says how it is learned (:mod:`~sklearn_innmf.problem.core`).
"""

from .core import RULES, Block, Problem
from .data import FrameGrid, PointData, prepare_points
from .forward import AutoencoderModel, DecoderModel, SeparableModel
from .penalties import CoactivityPenalty, L1L2Penalty, LogPenalty, Penalty

__all__ = [
    "RULES",
    "Block",
    "Problem",
    "FrameGrid",
    "PointData",
    "prepare_points",
    "SeparableModel",
    "DecoderModel",
    "AutoencoderModel",
    "Penalty",
    "L1L2Penalty",
    "LogPenalty",
    "CoactivityPenalty",
]
