"""The non-negative autoencoder's network and the pure functions that train it.

The model of a spectrogram frame ``v`` (its magnitudes at the training
frequency bins) is an autoencoder with a non-negative elementwise function
``g`` after every layer and no biases:

* shallow (eq. 1-3 of the paper): ``h = g(W_enc v)``, ``v_hat = g(W_dec h)``;
* multilayer (eq. 7): ``h = g(W_2 g(W_1 v))``, ``v_hat = g(W_4 g(W_3 h))``, ...
  with layer sizes symmetric about the latent.

It is trained full-batch with Rprop on the beta-divergence (generalised KL,
eq. 4) plus an L1 penalty on the latents (eq. 5). The latents of new data are
found by gradient descent on ``h`` with the decoder frozen (eq. 6).

The module holds the network (:class:`AutoencoderNetwork`), pure functions
that train it (:func:`train_autoencoder`) and solve for latents
(:func:`solve_frame_latents`), and the modules handed to separators
(:class:`FrameDecoder`, :class:`FrameEncoder`).
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...factors import TableFactor
from ...points import frame_chunks, unique_coordinates
from ...problem.core import Block, Problem
from ...problem.data import FrameGrid, prepare_points
from ...problem.forward import AutoencoderModel, DecoderModel
from ...problem.penalties import L1L2Penalty
from ...solvers import solve

_ACTIVATIONS = {"softplus": F.softplus, "relu": torch.relu, "abs": torch.abs}
# a (frames x bins) grid of more cells than this is refused
_MAX_CELLS = 20_000_000
# transform / score solve frames in chunks of about this many grid cells
_CHUNK_CELLS = 1 << 20


# ---------------------------------------------------------------------------
# The network


class AutoencoderNetwork(nn.Module):
    """Encoder and decoder weight stacks without biases, ``g`` after every layer.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_bins, *hidden_layer_sizes, n_components]``: the encoder's layer
        widths from the input to the latent; the decoder mirrors them.
    activation : {"softplus", "relu", "abs"}
        The non-negative elementwise function ``g``.
    generator : torch.Generator
        Draws the initial weights.
    dtype : torch.dtype
    """

    def __init__(self, sizes, activation, generator, dtype):
        super().__init__()
        self.activation = activation
        self.sizes = [int(s) for s in sizes]
        enc_pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        dec_pairs = [(b, a) for a, b in reversed(enc_pairs)]
        self.encoder = nn.ParameterList([self._init(i, o, generator, dtype) for i, o in enc_pairs])
        self.decoder = nn.ParameterList([self._init(i, o, generator, dtype) for i, o in dec_pairs])

    @staticmethod
    def _init(n_in, n_out, generator, dtype):
        # non-negative uniform weights of mean 1 / n_in: a layer maps inputs
        # of mean ~1 (normalised magnitudes) to pre-activations of mean ~1
        w = torch.rand(n_out, n_in, generator=generator, dtype=torch.float64) * (2.0 / n_in)
        return nn.Parameter(w.to(dtype))

    @property
    def n_components(self):
        return self.sizes[-1]

    @property
    def n_bins(self):
        return self.sizes[0]

    def _stack(self, weights, x):
        g = _ACTIVATIONS[self.activation]
        for w in weights:
            x = g(x @ w.T)
        return x

    def encode(self, V):
        """Latents (n_frames, K) of frames (n_frames, n_bins) of normalised magnitudes."""
        return self._stack(self.encoder, V)

    def decode(self, H):
        """Normalised magnitudes (n_frames, n_bins) at the training bins."""
        return self._stack(self.decoder, H)

    def forward(self, V):
        return self.decode(self.encode(V))


class FrameDecoder(nn.Module):
    """Latents -> magnitudes in X's units at given frequencies (frozen, float64).

    ``forward(H)`` with ``H`` of shape (n_frames, K) returns the decoded
    frames ``D = scale * decode(H)`` at the outputs' coordinates, shape
    (n_frames, n_outputs): ``(1 - w) * D[:, lo] + w * D[:, hi]``, a linear
    interpolation between the training bins (``lo == hi`` for an exact bin
    or a nearest one). Two gathers, not a (bins x outputs) matrix product.
    """

    def __init__(self, network, lo, hi, w, scale):
        super().__init__()
        self.network = network
        self.register_buffer("lo", lo)
        self.register_buffer("hi", hi)
        self.register_buffer("w", w)
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.float64))

    @property
    def n_outputs(self):
        return self.lo.numel()

    def forward(self, H):
        D = self.network.decode(H) * self.scale
        return D[:, self.lo] * (1.0 - self.w) + D[:, self.hi] * self.w


class FrameEncoder(nn.Module):
    """Magnitudes in X's units at given frequencies -> latents (frozen, float64).

    ``forward(V)`` with ``V`` of shape (n_frames, n_freqs) interpolates each
    frame onto the training bins (``V @ Q``, linear, constant beyond the
    given frequencies), divides by the training scale and encodes.
    """

    def __init__(self, network, interpolation, scale):
        super().__init__()
        self.network = network
        self.register_buffer("interpolation", interpolation)
        self.register_buffer("scale", torch.tensor(float(scale), dtype=torch.float64))

    def forward(self, V):
        return self.network.encode(V @ self.interpolation / self.scale)


# ---------------------------------------------------------------------------
# Pure functions: interpolation, training, latents


def interpolation_weights(knots, x):
    """Linear interpolation of values at sorted ``knots`` to points ``x``.

    Returns ``lo, hi, w`` (int64, int64, float64 arrays of x's shape) with
    ``value(x) = (1 - w) * value[lo] + w * value[hi]``; beyond the knots the
    edge value (``w`` 0 or 1). Exact knots get ``w = 0``.
    """
    knots = np.asarray(knots, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    n = knots.size
    hi = np.clip(np.searchsorted(knots, x), 0, n - 1)
    lo = np.clip(hi - 1, 0, n - 1)
    exact = knots[hi] == x
    span = knots[hi] - knots[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(span > 0, (x - knots[lo]) / np.where(span > 0, span, 1.0), 0.0)
    w = np.clip(w, 0.0, 1.0)
    lo = np.where(exact, hi, lo)
    w = np.where(exact, 0.0, w)
    return lo.astype(np.int64), hi.astype(np.int64), w


def interpolation_matrix(knots, x):
    """The (len(knots), len(x)) matrix ``P`` with ``values_at_x = values_at_knots @ P``."""
    lo, hi, w = interpolation_weights(knots, x)
    P = np.zeros((np.size(knots), np.size(x)))
    cols = np.arange(np.size(x))
    np.add.at(P, (lo, cols), 1.0 - w)
    np.add.at(P, (hi, cols), w)
    return P


def train_autoencoder(
    network, V_in, V, weight, *, beta, sparsity, n_points, max_iter, tol, learning_rate,
    verbose=0, desc="NonNegativeAutoencoder", unit=1.0,
):
    """Full-batch Rprop on ``D(V | decode(encode(V_in))) + sparsity * |H|_1``.

    The autoencoder on the problem layer: an
    :class:`~sklearn_innmf.problem.AutoencoderModel` whose one "gradient" block
    is the whole network, with an L1 penalty on the latents, solved by
    :func:`sklearn_innmf.solvers.solve` (its stopping rule: every 10 steps,
    stop when the objective fell by less than ``tol`` relative; a non-finite
    loss restores the last finite state).

    Parameters
    ----------
    network : AutoencoderNetwork
        Trained in place.
    V_in : Tensor of shape (n_frames, n_bins)
        Encoder input (missing cells filled).
    V : Tensor of shape (n_frames, n_bins)
        Target: the mean magnitude of each grid cell (0 where none).
    weight : Tensor of shape (n_frames, n_bins) or None
        Number of points in each cell (None: one each).
    beta, sparsity : float
    n_points : int
        The objective is divided by it (the divergence is a mean per point).
    max_iter, tol, learning_rate
        Rprop steps, the tolerance, the initial Rprop step.
    verbose, desc, unit
        Progress bar (``unit`` converts the losses it shows to X's units).

    Returns
    -------
    result : FitResult
        ``losses`` (mean divergence per point at each step, normalised
        units), ``converged``, ``nonfinite``, ``n_iter``.
    """
    model = AutoencoderModel(network, V_in)
    data = FrameGrid(V, weight, n_points)
    penalties = [L1L2Penalty(0, l1=float(sparsity))] if sparsity else []
    problem = Problem(model, data, beta, [Block(0, "gradient")], penalties)
    return solve(problem, max_iter=max_iter, tol=tol, learning_rate=learning_rate,
                 verbose=verbose, desc=desc, unit=unit)


def solve_frame_latents(
    X, autoencoders, *, beta, max_iter, learning_rate, penalties=(), groups=None,
    device="cpu", verbose=0, desc="latents", audible_only=True, chunk_size=1 << 17,
):
    """Eqs. 6 and 8 of Smaragdis & Venkataramani (2017): latents, decoders frozen.

    Each frame of ``X`` is explained by the sum of the fitted autoencoders'
    frozen decoders (one autoencoder: eq. 6; one per source: eq. 8), and
    only their latents are learned, by projected Rprop on the problem layer
    (:class:`~sklearn_innmf.problem.DecoderModel`, one table of latents over
    the frames, :func:`~sklearn_innmf.solvers.solve`). The objective is the
    mean beta-divergence in X's unit, each autoencoder's own L1 penalty on its
    latents (its ``sparsity``, eq. 5) and ``penalties``. Each frame starts at
    the encoders' output for its own points (the magnitudes shared out evenly
    between the autoencoders), takes ``max_iter`` steps and keeps its iterate
    of lowest objective: the gradient for a frame's latents involves its own
    points only, and Rprop's steps are elementwise, so a frame's latents do
    not depend on the other frames.

    Parameters
    ----------
    X : ndarray of shape (n_points, d + 1)
    autoencoders : list of fitted NonNegativeAutoencoder
    beta : float
    max_iter : int
        Steps per frame (``tol=0``: a fixed number).
    learning_rate : float
        Initial Rprop step.
    penalties : sequence of Penalty, default=()
        On the latents (axis 0), in X's unit.
    groups : list of slice, default=None
        Each autoencoder's latent columns (default: consecutive).
    device, verbose, desc
        As the estimators'.
    audible_only : bool, default=True
        Leave out the frames whose magnitudes are all 0.
    chunk_size : int, default=2**17
        Frames are solved in chunks of whole frames of about this many points.

    Yields
    ------
    rows : ndarray
        The chunk's rows of ``X``.
    model : DecoderModel
        Fitted, with the chunk's points laid out in ``model.data``.
    result : FitResult
        The chunk's training record.
    """
    coords, m = X[:, :-1], np.asarray(X[:, -1], dtype=np.float64)
    uniques, inverse = unique_coordinates(coords)
    if groups is None:
        bounds = np.cumsum([0, *(e.n_components_ for e in autoencoders)])
        groups = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    # each autoencoder's L1 on its latents: it minimised the divergence of
    # m / scale_, which is scale_ ** -beta times ours
    penalties = list(penalties) + [
        L1L2Penalty(0, l1=float(e.sparsity) * e.scale_**beta, columns=g)
        for e, g in zip(autoencoders, groups)
        if e.sparsity > 0
    ]
    share = 1.0 / len(autoencoders)
    for rows in frame_chunks(inverse[0], uniques[0].size, m, chunk_size,
                             audible_only=audible_only):
        data = prepare_points(coords[rows], m[rows], scale=1.0, device=device,
                              dtype=torch.float64, allow_dense=False)
        # the decoders at the chunk's distinct template coordinates
        cols, col_index = np.unique(coords[rows, 1:], axis=0, return_inverse=True)
        col_index = torch.as_tensor(col_index.ravel(), device=device)
        decoders = [e._frame_decoder(cols).to(device) for e in autoencoders]
        H0 = np.hstack([e._frame_start(X[rows], share) for e in autoencoders])
        latents = TableFactor(data.uniques[0].cpu(), torch.as_tensor(H0)).to(device)
        model = DecoderModel(latents, decoders, groups, col_index)
        problem = Problem(model, data, beta, [Block(0, "gradient")], penalties)
        result = solve(problem, max_iter=max_iter, tol=0.0, learning_rate=learning_rate,
                       verbose=verbose, desc=desc, keep_best_rows=True)
        model.data = data
        yield rows, model, result


def occlusion_shares(decode, H):
    """Each latent's share of the decoded frames: (n_frames, n_bins, K).

    ``delta_k = decode(H) - decode(H with latent k set to 0)`` is what latent
    k adds to each bin; the shares are ``decode(H) * max(delta_k, 0) / sum_j
    max(delta_j, 0)`` (equal shares where no latent adds anything), so they
    are non-negative and sum to ``decode(H)``.
    """
    n, K = H.shape
    D = decode(H)
    off = H[:, None, :].expand(n, K, K).clone()
    off[:, torch.arange(K), torch.arange(K)] = 0.0
    delta = (D[:, None, :] - decode(off.reshape(n * K, K)).reshape(n, K, -1)).clamp_min(0.0)
    delta = delta.transpose(1, 2)  # (n, bins, K)
    total = delta.sum(dim=2, keepdim=True)
    share = torch.where(total > 0, delta / torch.where(total > 0, total, 1.0), 1.0 / K)
    return D[:, :, None] * share
