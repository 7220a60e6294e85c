"""Factors: non-negative functions of one coordinate, K components each.

Every factor is an ``nn.Module`` with one interface: called on a 1-D float64
tensor of coordinate values (in the user's units), it returns their values,
a tensor of shape ``(n_values, n_components)`` in the factor's dtype.

* :class:`TableFactor`: a free non-negative value per known coordinate
  ("knot"); other coordinates are interpolated, linearly or to the nearest
  knot, or rejected.
* :class:`ImplicitFactor`: an implicit neural representation, Fourier
  features -> MLP with sine activations -> softplus. All components of the
  axis are one batched network (stacked weights, ``torch.baddbmm``). Asked
  for more distinct coordinates than its lattice has nodes, it evaluates the
  network on the lattice (evenly spaced over its training range) and
  interpolates linearly, so scattered points cost about as much as a grid.

Factors know nothing of losses or estimators.
"""

import math
from numbers import Integral

import torch
from torch import nn

__all__ = ["TableFactor", "ImplicitFactor"]

# lattice="auto": a lattice of AUTO_LATTICE nodes for a network whose first
# call (training) asks for more than AUTO_LATTICE_ABOVE distinct coordinates,
# i.e. scattered points; STFT and CQT axes (up to 8192 bins or frames) stay
# exact, and exact evaluation costs at most 4x the lattice's. 2048 nodes
# resolve the default network as initialised (encoding_size=6: up to 16
# periods of its highest Fourier frequency over the range) to 1e-5 relative
# error; trained exactly on 10^4 scattered points, networks grow detail finer
# than that (they follow single points; their held-out KL is no better), so
# the lattice is a model of its own, kept after training. Trained through it,
# fits reach exact training's KL: within 0.1% at 10^5 points, within the
# seed-to-seed spread at 10^4 (benchmarks/speed.md, "Irregular points
# through a lattice").
AUTO_LATTICE = 2048
AUTO_LATTICE_ABOVE = 8192
_BLOCK_ROWS = 32_768


class TableFactor(nn.Module):
    """A free non-negative value per known coordinate.

    Parameters
    ----------
    knots : Tensor of shape (n_knots,)
        Sorted distinct coordinate values (float64).
    values : Tensor of shape (n_knots, n_components)
        Non-negative value of each component at each knot.
    interpolation : {"linear", "nearest"} or None, default="linear"
        How coordinates between knots are evaluated. Outside the knots' range
        the edge value is used. With None, any coordinate that is not a knot
        raises ``ValueError``.
    """

    def __init__(self, knots, values, interpolation="linear"):
        super().__init__()
        self.register_buffer("knots", knots.to(torch.float64))
        self.values = nn.Parameter(values, requires_grad=False)
        self.interpolation = interpolation

    @property
    def n_components(self):
        return self.values.shape[1]

    def forward(self, x):
        knots, values = self.knots.to(x.device), self.values
        n = knots.numel()
        # position of x among the knots: knots[i - 1] < x <= knots[i]
        i = torch.searchsorted(knots, x).clamp(0, n - 1)
        exact = knots[i] == x
        if bool(exact.all()):
            return values[i]
        if self.interpolation is None:
            bad = x[~exact]
            raise ValueError(
                f"{bad.numel()} coordinate value(s) were not seen in fit (first: "
                f"{bad[0].item()!r}) and interpolation=None; use "
                "interpolation='linear' or 'nearest' to evaluate between them."
            )
        lo = (i - 1).clamp(0, n - 1)
        hi = i
        x_lo, x_hi = knots[lo], knots[hi]
        span = x_hi - x_lo
        w = torch.where(span > 0, (x - x_lo) / torch.where(span > 0, span, 1.0), 0.0)
        w = w.clamp(0.0, 1.0)
        if self.interpolation == "nearest":
            w = (w > 0.5).to(w.dtype)
        w = w.to(values.dtype)[:, None]
        out = values[lo] * (1 - w) + values[hi] * w
        return torch.where(exact[:, None], values[i], out)


class _Interpolate(torch.autograd.Function):
    """``(1 - w) * nodes[lo] + w * nodes[lo + 1]``, row by row.

    The forward is one fused gather-and-weigh (``embedding_bag``), the
    backward two ``index_add_`` into the nodes: 3-4x faster than indexing
    and blending (whose backward is an accumulating ``index_put``), and 2x
    faster than ``embedding_bag``'s own backward, which sorts the indices.
    """

    @staticmethod
    def forward(ctx, nodes, lo, w):
        ctx.save_for_backward(lo, w)
        ctx.n_nodes = nodes.shape[0]
        return nn.functional.embedding_bag(
            torch.stack([lo, lo + 1], dim=1), nodes,
            per_sample_weights=torch.cat([1 - w, w], dim=1), mode="sum")

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[0]:
            return None, None, None
        lo, w = ctx.saved_tensors
        grad_nodes = grad.new_zeros(ctx.n_nodes, grad.shape[1])
        # in blocks of rows: temporaries of a few MB are reused by the
        # allocator, where (n_values, K) ones are fresh pages every step
        for start in range(0, grad.shape[0], _BLOCK_ROWS):
            rows = slice(start, start + _BLOCK_ROWS)
            g, lo_rows = grad[rows], lo[rows]
            upper = g * w[rows]
            grad_nodes.index_add_(0, lo_rows, g - upper)
            grad_nodes.index_add_(0, lo_rows + 1, upper)
        return grad_nodes, None, None


class ImplicitFactor(nn.Module):
    """An implicit neural representation of K non-negative functions.

    ``x -> (x - low) / (high - low) -> [cos, sin](2^j pi x + phase_j),
    j < encoding_size -> n_layers x (linear, sine) -> linear -> softplus``.

    Parameters
    ----------
    n_components : int
        Number of functions K.
    low, high : float
        The coordinate range that is mapped to [0, 1] (the training range).
    encoding_size : int, default=10
        Number of Fourier frequencies (octaves) of the encoding.
    hidden_size : int, default=64
        Width of the hidden layers.
    n_layers : int, default=4
        Number of hidden layers.
    architecture : {"separate", "shared"}, default="separate"
        "separate": one network per component, as in the paper, batched.
        "shared": one trunk whose last layer has K outputs, about K times
        cheaper.
    init_value : float, default=None
        Initial output of every component at every coordinate (set through
        the output bias). None leaves softplus(bias) as initialised.
    generator : torch.Generator, default=None
        Source of randomness for the initial weights and phases.
    lattice : "auto", int or None, default="auto"
        How the network is evaluated. None: at each distinct coordinate,
        exactly. An int n >= 2: on n evenly spaced nodes over [low, high],
        linearly interpolated to the coordinates (those outside [low, high]
        go through the network), so the network's cost no longer grows with
        the number of coordinates. "auto": decided on the first call, which
        in the estimators is training: a lattice of ``AUTO_LATTICE`` (2048)
        nodes if it asks for more than ``AUTO_LATTICE_ABOVE`` (8192)
        coordinates (scattered points), else exact (grids: STFTs, CQTs). The
        decision is kept in :attr:`nodes`, so the fitted function is
        evaluated as it was trained (between nodes, a network trained
        through them is unconstrained).

    Attributes
    ----------
    nodes : int or None
        The lattice's number of nodes, None for exact evaluation (also while
        ``lattice="auto"`` is undecided, before the first call).
    """

    def __init__(
        self,
        n_components,
        low,
        high,
        *,
        encoding_size=10,
        hidden_size=64,
        n_layers=4,
        architecture="separate",
        init_value=None,
        generator=None,
        lattice="auto",
    ):
        super().__init__()
        K = n_components
        groups, n_out = (K, 1) if architecture == "separate" else (1, K)
        self.n_components = K
        self.architecture = architecture
        if isinstance(lattice, Integral) and not isinstance(lattice, bool) and lattice >= 2:
            lattice = int(lattice)
        elif not (lattice is None or (isinstance(lattice, str) and lattice == "auto")):
            raise ValueError(f"lattice={lattice!r} must be 'auto', None or an int >= 2.")
        self.lattice = lattice
        self.nodes = None if lattice == "auto" else lattice
        self._undecided = lattice == "auto"
        # plain floats, not buffers: Module.to(float32) must not round them
        span = float(high) - float(low)
        self.low = float(low)
        self.span = span if span > 0 else 1.0
        octaves = math.pi * 2.0 ** torch.arange(encoding_size, dtype=torch.float64)
        self.register_buffer("octaves", octaves)
        phase = torch.randn(groups, 1, encoding_size, generator=generator)
        self.register_buffer("phase", phase.to(torch.float64))

        sizes = [2 * encoding_size] + [hidden_size] * n_layers + [n_out]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(fan_in)  # torch.nn.Linear's default
            w = (torch.rand(groups, fan_in, fan_out, generator=generator) * 2 - 1) * bound
            b = (torch.rand(groups, 1, fan_out, generator=generator) * 2 - 1) * bound
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(b))
        if init_value is not None:
            # softplus(b) = init_value
            b0 = math.log(math.expm1(init_value)) if init_value < 20 else init_value
            with torch.no_grad():
                self.biases[-1].fill_(b0)

    def encode(self, x):
        """Fourier features of shape (groups, n, 2 * encoding_size)."""
        xn = (x.to(torch.float64) - self.low) / self.span
        arg = xn[None, :, None] * self.octaves.to(torch.float64) + self.phase.to(torch.float64)
        dtype = self.weights[0].dtype
        return torch.cat([torch.cos(arg), torch.sin(arg)], dim=-1).to(dtype)

    def __setstate__(self, state):
        # factors pickled before the lattice existed were always exact
        state.setdefault("lattice", None)
        state.setdefault("nodes", None)
        state.setdefault("_undecided", False)
        super().__setstate__(state)

    def forward(self, x):
        if self._undecided:
            self.nodes = AUTO_LATTICE if x.numel() > AUTO_LATTICE_ABOVE else None
            self._undecided = False
        if self.nodes is None:
            return self.network(x)
        return self._interpolate(x, self.nodes)

    def _interpolate(self, x, n):
        """The network on n nodes over [low, low + span], linearly
        interpolated to x; x outside that range through the network."""
        pos = (x.to(torch.float64) - self.low) * ((n - 1) / self.span)
        # the range's ends may round a hair beyond the end nodes
        outside = (pos < -1e-6) | (pos > n - 1 + 1e-6)
        nodes = self.low + self.span * (
            torch.arange(n, dtype=torch.float64, device=x.device) / (n - 1))
        has_outside = bool(outside.any())
        if has_outside:
            nodes = torch.cat([nodes, x[outside].to(torch.float64)])
        net = self.network(nodes)
        lo = pos.floor().clamp(0, n - 2)
        w = (pos - lo).clamp(0.0, 1.0).to(net.dtype)[:, None]
        out = _Interpolate.apply(net[:n], lo.long(), w)
        if has_outside:
            where = outside.nonzero().squeeze(1)
            out = out.index_put((where,), net[n:])
        return out

    def network(self, x):
        """The network at each of the coordinates x, exactly: (n, K)."""
        h = self.encode(x)
        n_hidden = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, w)
            if i < n_hidden:
                h = torch.sin(h)
        # (groups, n, n_out) -> (n, K)
        out = h.squeeze(-1).T if self.architecture == "separate" else h[0]
        return nn.functional.softplus(out)
