"""A separable model: one factor per coordinate axis.

``m(x_0, ..., x_{d-1}) = scale * sum_k prod_a G_a(x_a)[k]``

Each factor is evaluated once per *unique* coordinate value of its axis, then
gathered per point; when the points fill a (time x frequency) grid, the
reconstruction is one matrix product. This module knows nothing of sklearn.
"""

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ._points import unique_coordinates
from .divergences import beta_divergence

__all__ = [
    "SeparableModel", "DecoderModel", "AutoencoderModel", "FrameGrid", "PointData",
    "prepare_points",
]

# A (partially filled) grid is used densely when at least this fraction of its
# cells hold a point and it has at most _MAX_DENSE cells.
_MIN_FILL = 0.5
_MAX_DENSE = 50_000_000


class SeparableModel(nn.Module):
    """One factor per axis and a magnitude scale applied to axis 0."""

    def __init__(self, factors, scale=1.0):
        super().__init__()
        self.factors = nn.ModuleList(factors)
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.float64))

    @property
    def n_components(self):
        return self.factors[0].n_components

    def values(self, uniques):
        """Each factor at its axis' coordinate values: a list of (n_a, K)."""
        return [f(u) for f, u in zip(self.factors, uniques)]

    def loss(self, values, data, beta):
        """Mean beta-divergence of the model (``values``) on ``data``."""
        return data.loss(values, beta)


class DecoderModel(nn.Module):
    """A sum of frozen frame decoders, one per source, driven by learned latents.

    ``m(t, f) = sum_s D_s(H_s(t))(f)``: the latents of all sources form one
    table factor over the unique times (columns grouped by source, ``groups``),
    and ``decoders[s]`` maps source s's latents (n_times, K_s) to its
    magnitudes at the data's unique frequencies (n_times, n_freqs), for
    example a non-negative autoencoder's decoder (Smaragdis & Venkataramani
    2017, eq. 8). Not separable: the latents are learned by (projected)
    gradient steps. ``scale`` is 1: the decoders answer in the data's units.
    """

    def __init__(self, latents, decoders, groups, columns):
        super().__init__()
        self.factors = nn.ModuleList([latents])
        self.decoders = nn.ModuleList(decoders)
        self.groups = list(groups)
        # per point: its column of the decoders' output (its template coordinates)
        self.register_buffer("columns", columns)
        self.register_buffer("scale", torch.tensor(1.0, dtype=torch.float64))

    @property
    def n_components(self):
        return self.factors[0].n_components

    def values(self, uniques):
        return [self.factors[0](uniques[0])]

    def source_grids(self, values):
        """Each source's decoded magnitudes on the (times x freqs) grid."""
        H = values[0]
        return [D(H[:, g]) for D, g in zip(self.decoders, self.groups)]

    def _at_points(self, values, data):
        Y = sum(self.source_grids(values))
        return Y[data.index[0], self.columns]

    def loss(self, values, data, beta):
        return beta_divergence(data.m, self._at_points(values, data), beta)

    def row_losses(self, values, data, beta):
        """The divergence summed over each time's points: (n_times,)."""
        d = beta_divergence(data.m, self._at_points(values, data), beta, reduction="none")
        n = data.uniques[0].numel()
        return torch.zeros(n, dtype=d.dtype, device=d.device).index_add_(0, data.index[0], d)


class AutoencoderModel(nn.Module):
    """A non-negative autoencoder being trained (Smaragdis & Venkataramani
    2017, eqs. 4 and 5).

    The latents over the frames (axis 0) are the encoder's output for the
    frames' magnitudes ``V_in`` (n_frames, n_bins); the model of the frames is
    the decoder's output on the training bins, compared cell by cell with a
    :class:`FrameGrid`. The one factor is the whole network (encoder and
    decoder): a "gradient" block on axis 0 trains both, and a penalty on
    axis 0 weighs the latents. Not separable.
    """

    def __init__(self, network, V_in):
        super().__init__()
        self.factors = nn.ModuleList([network])
        self.register_buffer("V_in", V_in)

    @property
    def n_components(self):
        return self.factors[0].n_components

    def values(self, uniques):
        return [self.factors[0].encode(self.V_in)]

    def loss(self, values, data, beta):
        D = self.factors[0].decode(values[0])
        return beta_divergence(data.V, D, beta, weight=data.weight, reduction="sum") / data.n_points


@dataclass
class FrameGrid:
    """Framed data as a (frames x bins) grid, for :class:`AutoencoderModel`.

    ``V`` holds each cell's mean magnitude (0 where it has no point),
    ``weight`` its number of points (None: one point in every cell); the
    divergence is a mean over the ``n_points`` points. ``scale`` is 1 (``V``
    is already in the solvers' units).
    """

    V: torch.Tensor
    weight: object
    n_points: int
    scale: float = 1.0
    uniques: object = None


@dataclass
class PointData:
    """Points laid out for one device: unique coordinates and inverse indices.

    ``m`` is divided by ``scale``. If ``grid`` is set (d == 2, each cell at
    most one point, dense enough), ``grid[i, j]`` is the magnitude at
    (uniques[0][i], uniques[1][j]) and ``mask`` marks the cells that hold a
    point (None when all do). ``work`` is a grid-shaped scratch array that
    the multiplicative updates reuse (see ``solvers._grid_work``).
    """

    uniques: list
    index: list
    m: torch.Tensor
    scale: float
    grid: torch.Tensor = None
    mask: torch.Tensor = None
    work: torch.Tensor = field(default=None, repr=False)

    @property
    def n_points(self):
        return self.m.shape[0]

    def reconstruct(self, values):
        """The model (without scale) at every point, or on the grid."""
        if self.grid is not None:
            return values[0] @ values[1].T
        # index_select, not values[idx]: the same numbers, and its backward is
        # an index_add rather than advanced indexing's sort-based scatter
        prod = torch.index_select(values[0], 0, self.index[0])
        for a in range(1, len(values)):
            prod = prod * torch.index_select(values[a], 0, self.index[a])
        return prod.sum(dim=1)

    def loss(self, values, beta):
        """Mean beta-divergence over the points (normalised units)."""
        target = self.grid if self.grid is not None else self.m
        return beta_divergence(target, self.reconstruct(values), beta, weight=self.mask)


def prepare_points(coords, m, *, scale, device, dtype, allow_dense=True):
    """Lay points out on a device.

    Parameters
    ----------
    coords : ndarray of shape (n_points, d)
    m : ndarray of shape (n_points,)
    scale : float
        Magnitudes are divided by it.
    device : torch.device
    dtype : torch.dtype
        Dtype of the magnitudes (and of the computation).
    allow_dense : bool, default=True
        Whether a grid may be laid out densely.

    Returns
    -------
    PointData
    """
    uniques_np, inverse_np = unique_coordinates(coords)
    uniques = [torch.as_tensor(u, dtype=torch.float64, device=device) for u in uniques_np]
    index = [torch.as_tensor(i, device=device) for i in inverse_np]
    m_t = torch.as_tensor(np.asarray(m, dtype=np.float64) / scale, device=device).to(dtype)
    data = PointData(uniques=uniques, index=index, m=m_t, scale=float(scale))
    if allow_dense and len(uniques_np) == 2:
        n0, n1 = uniques_np[0].size, uniques_np[1].size
        n_cells, L = n0 * n1, m_t.shape[0]
        if n_cells <= _MAX_DENSE and L >= _MIN_FILL * n_cells:
            cell = inverse_np[0] * n1 + inverse_np[1]
            occupied = np.zeros(n_cells, dtype=bool)
            occupied[cell] = True
            if np.count_nonzero(occupied) == L:  # no two points share a cell
                grid = torch.zeros(n0 * n1, dtype=dtype, device=device)
                cell_t = torch.as_tensor(cell, device=device)
                grid[cell_t] = m_t
                data.grid = grid.reshape(n0, n1)
                if L < n_cells:
                    mask = torch.zeros(n0 * n1, dtype=dtype, device=device)
                    mask[cell_t] = 1.0
                    data.mask = mask.reshape(n0, n1)
    return data
