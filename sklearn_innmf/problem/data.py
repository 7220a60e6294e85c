"""The data a problem is fitted to: points with their unique coordinates
(:class:`PointData`, made by :func:`prepare_points`, dense when the points
nearly fill a grid) or spectrogram frames over fixed bins (:class:`FrameGrid`,
for the autoencoder). This module knows nothing of sklearn.
"""

from dataclasses import dataclass, field

import numpy as np
import torch

from ..divergences import beta_divergence
from ..points import unique_coordinates

# A (partially filled) grid is used densely when at least this fraction of its
# cells hold a point and it has at most _MAX_DENSE cells.
_MIN_FILL = 0.5
_MAX_DENSE = 50_000_000


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
