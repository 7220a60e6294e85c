"""Forward models: what a problem's parameters predict at its points.

* :class:`SeparableModel`: one factor per coordinate axis,
  ``m(x_0, ..., x_{d-1}) = scale * sum_k prod_a G_a(x_a)[k]``; each factor is
  evaluated once per *unique* coordinate value of its axis, then gathered per
  point; on a full (time x frequency) grid the reconstruction is one matrix
  product.
* :class:`DecoderModel`: a frozen frame decoder of latents (the autoencoder's
  eq. 6 and 8).
* :class:`AutoencoderModel`: the whole autoencoder, trained on frames.

This module knows nothing of sklearn.
"""

import torch
from torch import nn

from ..divergences import beta_divergence


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
