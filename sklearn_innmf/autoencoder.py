"""NonNegativeAutoencoder: NMF recast as a neural network (Smaragdis & Venkataramani 2017).

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
that train it and solve for latents, the modules handed to separators
(:class:`FrameDecoder`, :class:`FrameEncoder`) and the estimator
(:class:`NonNegativeAutoencoder`).
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import PointTransformer, resolve_device
from ._points import frame_chunks, unique_coordinates
from .divergences import beta_loss_to_float
from .factors import TableFactor
from .model import AutoencoderModel, DecoderModel, FrameGrid, prepare_points
from .problem import Block, L1L2Penalty, Problem
from .solvers import solve

__all__ = [
    "NonNegativeAutoencoder",
    "AutoencoderNetwork",
    "FrameDecoder",
    "FrameEncoder",
    "train_autoencoder",
    "solve_frame_latents",
]

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
    :class:`~sklearn_innmf.model.AutoencoderModel` whose one "gradient" block
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
    (:class:`~sklearn_innmf.model.DecoderModel`, one table of latents over
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


# ---------------------------------------------------------------------------
# The estimator


class NonNegativeAutoencoder(PointTransformer):
    """Non-negative autoencoder (NAE) of time-frequency points.

    The neural-network alternative to NMF of Smaragdis & Venkataramani
    (2017). Each frame (the points of one unique time) is a vector ``v`` of
    magnitudes at the training frequency bins (the unique frequencies of
    ``fit``'s X). An encoder maps it to ``n_components`` latents and a
    decoder maps latents back to magnitudes, with a non-negative function
    ``g`` after every layer and no biases::

        h = g(W_enc v),   v_hat = g(W_dec h)                  (shallow)
        h = g(W_2 g(W_1 v)),   v_hat = g(W_4 g(W_3 h))        (hidden_layer_sizes=(n,))

    With ``g`` the identity restricted to non-negative weights this is NMF
    (``W_dec`` the templates, ``h`` the activations); the network may use
    negative weights, and the multilayer decoder is no longer a sum of
    fixed templates. It is trained full-batch with Rprop on the mean
    beta-divergence between the frames and their reconstruction plus an L1
    penalty on the latents (eq. 4-5). ``transform``, ``score`` and
    ``fit_activations`` find the latents of any frames by projected Rprop on
    the latents with the decoder frozen (eq. 6), starting from the encoder's
    output.

    Parameters
    ----------
    n_components : int, default=10
        Number of latents K.
    hidden_layer_sizes : tuple of int, default=()
        Widths of the encoder's hidden layers from the input side (the
        decoder mirrors them). ``()`` is the shallow model of the paper's
        eq. 1-3; ``(n,)`` its two-layer model (eq. 7).
    activation : {"softplus", "relu", "abs"}, default="softplus"
        The non-negative function ``g`` applied after every layer.
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, \
            default="kullback-leibler"
        The beta-divergence minimised (the paper's eq. 4 is KL).
    sparsity : float, default=0.0
        Weight λ of the L1 penalty on the latents (eq. 5): the objective is
        ``(sum_points d(m | m_hat) + λ sum(H)) / n_points`` on magnitudes
        divided by their mean in ``fit``, and the same per frame in eq. 6.
    max_iter : int, default=500
        Maximum number of Rprop steps of training.
    tol : float, default=1e-4
        Stop training when the objective fell by less than ``tol``
        (relative) over the last 10 steps.
    learning_rate : float, default=1e-2
        Initial Rprop step of training and of the latents (eq. 6).
    latent_iter : int, default=100
        Number of Rprop steps of eq. 6 per frame in ``transform``, ``score``
        and ``fit_activations``: a fixed number, so that no frame's result
        depends on a stopping rule shared with other frames.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights (a ``torch.Generator``; the global torch
        seed is not touched).
    device : str, default="auto"
        Torch device of training: "auto" (CUDA when present, else CPU),
        "cpu", "cuda", "cuda:1".
    dtype : {"float32", "float64"}, default="float32"
        Precision of training. ``transform``, ``score`` and the latents of
        eq. 6 are computed in float64 and returned in X's dtype.
    verbose : int, default=0
        1 shows a progress bar with the current loss.

    Attributes
    ----------
    model_ : AutoencoderNetwork
        The trained encoder and decoder (on the CPU, frozen).
    n_components_ : int
        Number of latents.
    bins_ : ndarray of shape (n_bins, d - 1)
        The training bins: the distinct template coordinates (frequencies
        for (t, f, m) points), sorted.
    scale_ : float
        The mean training magnitude; the network sees magnitudes divided
        by it.
    latents_ : ndarray of shape (n_frames, n_components)
        The latents of the frames at ``frame_times_`` in the network's unit:
        the encoder's output after ``fit``, the eq. 6 solution after
        ``fit_activations``.
    frame_times_ : ndarray of shape (n_frames,)
        The training frames' times (unique values of column 0).
    decoder_weights_ : list of ndarray
        The decoder's weight matrices from the latent side: with
        ``hidden_layer_sizes=()`` one array (n_bins, n_components), the
        paper's ``W_dec``, whose columns play NMF's templates.
    n_iter_ : int
        Number of Rprop steps run (of eq. 6 for ``fit_activations``).
    loss_curve_ : list of float
        Mean divergence per point at each step, in X's units (on cell means
        where several points share a cell).
    reconstruction_err_ : float
        ``sqrt(2 * total divergence)`` at the end of training.
    n_features_in_ : int
        Number of columns of X (d + 1).
    feature_names_in_ : ndarray of str
        Column names of X, when it was a DataFrame.

    See Also
    --------
    MatrixNMF : classic NMF, the model this network generalises.
    ImplicitNMF : NMF whose factors are neural functions of the coordinates.

    Notes
    -----
    **Frames and bins.** Column 0 (time) defines the frames; the other
    coordinate columns define the bins (with (t, f, m) points, the
    frequencies). The points need not fill the grid of frames x bins: the
    loss is a sum over the observed points (a masked loss), and the
    encoder's input at a missing cell is filled by linear interpolation of
    the frame's observed magnitudes over frequency (constant beyond them;
    with d > 2 coordinates, the frame's mean). Scattered points where every
    point has its own time and frequency make a grid of n_points² cells,
    one per point observed: this runs up to 2e7 cells and then raises
    ``ValueError``; :class:`~sklearn_innmf.ImplicitNMF` is the model for
    such data.

    **Any frequency.** The decoder outputs the training bins; at any other
    frequency its output is interpolated linearly between the two nearest
    bins (the edge bin beyond them). With d > 2 coordinates, a point takes
    its nearest training bin (axes scaled by their training range).

    **transform.** Each frame's latents solve eq. 6 on that frame's points
    (``latent_iter`` Rprop steps from the encoder's output), so a point's
    result depends on its own frame's points only. The component columns
    split the reconstruction ``m_hat`` at each point among the latents by
    occlusion: ``delta_k`` is how much the decoded frame drops at that bin
    when latent k is set to 0, and column k is ``m_hat * max(delta_k, 0) /
    sum_j max(delta_j, 0)`` (``m_hat / K`` each where no latent adds
    anything), interpolated between bins as ``m_hat`` is. The columns are
    non-negative and sum to ``m_hat`` (``inverse_transform``). For the
    shallow model with ``activation="relu"`` and non-negative weights,
    column k is exactly NMF's component ``W_dec[f, k] h_k``.

    References
    ----------
    .. [1] P. Smaragdis and S. Venkataramani, "A neural network alternative
       to non-negative audio models", ICASSP 2017, pp. 86-90.
       :doi:`10.1109/ICASSP.2017.7952121`
    .. [2] M. Riedmiller and H. Braun, "A direct adaptive method for faster
       backpropagation learning: the RPROP algorithm", ICNN 1993.
       :doi:`10.1109/ICNN.1993.298623`

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf import grid_to_points
    >>> from sklearn_innmf.autoencoder import NonNegativeAutoencoder
    >>> rng = np.random.default_rng(0)
    >>> V = rng.random((32, 2)) @ rng.random((2, 40))      # freqs x times, rank 2
    >>> X = grid_to_points(V, times=np.arange(40) * 0.01, freqs=np.arange(32) * 50.0)
    >>> nae = NonNegativeAutoencoder(2, max_iter=300, tol=0, random_state=0).fit(X)
    >>> Z = nae.transform(X)                               # t, f, then 2 components
    >>> Z.shape
    (1280, 4)
    >>> bool(np.allclose(nae.inverse_transform(Z)[:, 2], Z[:, 2:].sum(axis=1)))
    True
    >>> bool(nae.score(X) > -0.01)                         # minus the mean KL
    True
    """

    _output_kind = "components"

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "beta_loss": [
            StrOptions({"frobenius", "kullback-leibler", "itakura-saito"}),
            Real,
        ],
        "sparsity": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "latent_iter": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str],
        "dtype": [StrOptions({"float32", "float64"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=10,
        *,
        hidden_layer_sizes=(),
        activation="softplus",
        beta_loss="kullback-leibler",
        sparsity=0.0,
        max_iter=500,
        tol=1e-4,
        learning_rate=1e-2,
        latent_iter=100,
        random_state=None,
        device="auto",
        dtype="float32",
        verbose=0,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.beta_loss = beta_loss
        self.sparsity = sparsity
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.latent_iter = latent_iter
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.verbose = verbose

    # -- parameters --------------------------------------------------------

    @property
    def _beta(self):
        return beta_loss_to_float(self.beta_loss)

    @property
    def _torch_dtype(self):
        return torch.float64 if self.dtype == "float64" else torch.float32

    def _hidden_sizes(self):
        sizes = tuple(self.hidden_layer_sizes)
        for s in sizes:
            if isinstance(s, bool) or not isinstance(s, Integral) or s < 1:
                raise ValueError(
                    f"hidden_layer_sizes={self.hidden_layer_sizes!r} must hold positive "
                    "integers (the encoder's hidden widths), e.g. (256,) or ()."
                )
        return [int(s) for s in sizes]

    def _output_names(self):
        prefix = type(self).__name__.lower()
        return [f"{prefix}{k}" for k in range(self.n_components_)]

    def __sklearn_is_fitted__(self):
        return hasattr(self, "model_")

    def _check_magnitudes(self, m):
        if self._beta <= 0 and np.any(m == 0):
            raise ValueError(
                f"beta_loss={self.beta_loss!r} (beta <= 0) is undefined where "
                "magnitudes are 0, and X has zeros; add a small floor to m or use "
                "beta_loss='kullback-leibler'."
            )

    # -- frames and bins ---------------------------------------------------

    def _bin_coordinates(self, X):
        """The template coordinates of each point: (n_points, d - 1)."""
        return np.asarray(X[:, 1:-1], dtype=np.float64)

    def _locate(self, X):
        """Frame index, bracketing training bins and weight of each point.

        Returns ``times, frame, lo, hi, w``: the sorted unique times, and per
        point its frame and ``(1 - w) * bin lo + w * bin hi``.
        """
        (times,), (frame,) = unique_coordinates(np.asarray(X[:, :1], dtype=np.float64))
        coords = self._bin_coordinates(X)
        n = X.shape[0]
        if coords.shape[1] == 0:
            zeros = np.zeros(n, dtype=np.int64)
            return times, frame, zeros, zeros, np.zeros(n)
        if coords.shape[1] == 1:
            lo, hi, w = interpolation_weights(self.bins_[:, 0], coords[:, 0])
            return times, frame, lo, hi, w
        nearest = self._nearest_bins(coords)
        return times, frame, nearest, nearest, np.zeros(n)

    def _nearest_bins(self, coords):
        from scipy.spatial import cKDTree

        span = self.bins_.max(axis=0) - self.bins_.min(axis=0)
        span = np.where(span > 0, span, 1.0)
        _, idx = cKDTree(self.bins_ / span).query(coords / span)
        return np.asarray(idx, dtype=np.int64)

    def _encoder_input(self, X, times, frame, lo, hi, w):
        """Each frame's magnitudes at the training bins, (n_frames, n_bins).

        Cells a frame has points in hold their mean; with d = 2 a frame's
        other bins are interpolated linearly over frequency from its points
        (constant beyond them), otherwise they hold the frame's mean.
        """
        n_frames, n_bins = times.size, self.bins_.shape[0]
        m = np.asarray(X[:, -1], dtype=np.float64)
        exact = w == 0
        on_bin = np.where(exact, lo, -1)
        cell = frame * n_bins + on_bin
        # float even when no point lies on a bin (bincount of nothing is int)
        sums = np.bincount(cell[exact], weights=m[exact], minlength=n_frames * n_bins)
        sums = sums.astype(np.float64)
        counts = np.bincount(cell[exact], minlength=n_frames * n_bins)
        V = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        V = V.reshape(n_frames, n_bins)
        observed = counts.reshape(n_frames, n_bins) > 0
        off_bin = np.bincount(frame, weights=(~exact).astype(np.float64), minlength=n_frames)
        complete = observed.all(axis=1) & (off_bin == 0)
        todo = np.flatnonzero(~complete)
        if todo.size == 0:
            return V
        frame_mean = np.bincount(frame, weights=m, minlength=n_frames) / np.bincount(
            frame, minlength=n_frames
        )
        if self.bins_.shape[1] != 1:
            for i in todo:
                V[i, ~observed[i]] = frame_mean[i]
            return V
        f = self._bin_coordinates(X)[:, 0]
        order = np.lexsort((f, frame))
        starts = np.searchsorted(frame[order], np.arange(n_frames + 1))
        bins = self.bins_[:, 0]
        for i in todo:
            rows = order[starts[i] : starts[i + 1]]
            fi, mi = np.unique(f[rows], return_inverse=True)
            mean = np.bincount(mi, weights=m[rows]) / np.bincount(mi)
            V[i] = np.interp(bins, fi, mean)
        return V

    # -- fitting -----------------------------------------------------------

    def _generator(self):
        rng = check_random_state(self.random_state)
        return torch.Generator().manual_seed(int(rng.randint(np.iinfo(np.int32).max)))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the encoder and decoder on the frames of a point array.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            Coordinates (column 0 time, then frequency, ...), then magnitude.
        y : None
            Ignored.

        Returns
        -------
        self : NonNegativeAutoencoder
            The fitted estimator.
        """
        X = self._validate_points(X, reset=True)
        hidden = self._hidden_sizes()
        m = np.asarray(X[:, -1], dtype=np.float64)
        if not np.any(m > 0):
            raise ValueError("All magnitudes in X are zero: there is nothing to factorise.")
        self._check_magnitudes(m)
        coords = self._bin_coordinates(X)
        if coords.shape[1] == 0:
            bins, bin_index = np.zeros((1, 0)), np.zeros(X.shape[0], dtype=np.int64)
        else:
            bins, bin_index = np.unique(coords, axis=0, return_inverse=True)
            bin_index = bin_index.ravel()
        times, frame = np.unique(X[:, 0].astype(np.float64), return_inverse=True)
        n_frames, n_bins = times.size, bins.shape[0]
        if n_frames * n_bins > _MAX_CELLS:
            raise ValueError(
                f"X's points span {n_frames} times x {n_bins} frequency bins = "
                f"{n_frames * n_bins} grid cells (at most {_MAX_CELLS} are allowed) "
                f"and fill {X.shape[0] / (n_frames * n_bins):.2%} of them: "
                "NonNegativeAutoencoder models framed data (points on a grid of "
                "frames x bins, possibly with holes). Use ImplicitNMF for scattered points."
            )
        self.bins_ = bins
        scale = float(m.mean())
        device = resolve_device(self.device)
        dtype = self._torch_dtype

        cell = frame * n_bins + bin_index
        counts = np.bincount(cell, minlength=n_frames * n_bins)
        sums = np.bincount(cell, weights=m / scale, minlength=n_frames * n_bins)
        V = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        V = V.reshape(n_frames, n_bins)
        weight = None if np.all(counts == 1) else counts.reshape(n_frames, n_bins)
        lo = hi = bin_index
        V_in = self._encoder_input(X, times, frame, lo, hi, np.zeros(X.shape[0])) / scale

        def tensor(a):
            return torch.as_tensor(np.ascontiguousarray(a), device=device).to(dtype)

        network = AutoencoderNetwork(
            [n_bins, *hidden, self.n_components], self.activation, self._generator(), dtype
        ).to(device)
        beta = self._beta
        unit = scale**beta
        result = train_autoencoder(
            network,
            tensor(V_in),
            tensor(V),
            None if weight is None else tensor(weight),
            beta=beta,
            sparsity=float(self.sparsity),
            n_points=X.shape[0],
            max_iter=self.max_iter,
            tol=self.tol,
            learning_rate=self.learning_rate,
            verbose=self.verbose,
            desc=type(self).__name__,
            unit=unit,
        )
        self._warn_training(result.losses, result.converged, result.nonfinite, result.n_iter,
                            unit)
        network = network.to("cpu").eval()
        with torch.no_grad():
            latents = network.encode(tensor(V_in).cpu()).to(torch.float64).numpy()
        self._set_fitted(network, scale, times, latents, result.losses, result.n_iter, unit,
                         X.shape[0])
        return self

    def _warn_training(self, losses, converged, nonfinite, n_iter, unit):
        name = type(self).__name__
        if nonfinite:
            warnings.warn(
                f"{name}: the loss became non-finite after {n_iter} step(s); the last "
                f"finite state was kept. Lower learning_rate={self.learning_rate!r} or "
                "check the scale of X.",
                ConvergenceWarning,
                stacklevel=4,
            )
        elif not converged and self.tol > 0:  # tol=0: a fixed number of steps, as asked
            warnings.warn(
                f"{name}: maximum number of iterations max_iter={self.max_iter} reached "
                f"before tol={self.tol}; increase max_iter to improve convergence.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _set_fitted(self, network, scale, times, latents, losses, n_iter, unit, n_points):
        for p in network.parameters():
            p.requires_grad_(False)
        self.model_ = network
        self.scale_ = float(scale)
        self.frame_times_ = np.asarray(times, dtype=np.float64)
        self.latents_ = latents
        self.n_components_ = network.n_components
        self.n_iter_ = int(n_iter)
        self.loss_curve_ = [float(v) * unit for v in losses]
        final = self.loss_curve_[-1] if self.loss_curve_ else float("nan")
        self.reconstruction_err_ = float(np.sqrt(max(2.0 * final * n_points, 0.0)))
        self.decoder_weights_ = [w.detach().to(torch.float64).numpy().copy() for w in network.decoder]

    # -- latents of any frames (eq. 6) -------------------------------------

    def _network64(self):
        net = copy.deepcopy(self.model_).to(device="cpu", dtype=torch.float64)
        for p in net.parameters():
            p.requires_grad_(False)
        return net

    def _solve(self, X, *, shares):
        """Eq. 6 on X's frames (:func:`solve_frame_latents` with this
        autoencoder alone).

        Returns ``times, H, m_hat, C, losses``: the unique times, their
        latents (n_frames, K), the model at each point (n_points,), the
        component columns (n_points, K) if ``shares`` else None, and the
        mean divergence per point at each step (normalised units, over all
        chunks of frames).
        """
        X = np.asarray(X, dtype=np.float64)
        (times,), _ = unique_coordinates(X[:, :1])
        K, n = self.n_components_, X.shape[0]
        H = np.empty((times.size, K))
        m_hat = np.empty(n)
        C = np.empty((n, K)) if shares else None
        losses = np.zeros(self.latent_iter + 1)
        fits = solve_frame_latents(
            X, [self], beta=self._beta, max_iter=self.latent_iter,
            learning_rate=self.learning_rate, audible_only=False,
        )
        for rows, model, result in fits:
            data, (decoder,) = model.data, model.decoders
            with torch.no_grad():
                (Hc,) = model.values(data.uniques)
                H[np.searchsorted(times, data.uniques[0].numpy())] = Hc.numpy()
                frame, col = data.index[0], model.columns
                if shares:
                    # in frames of at most _CHUNK_CELLS shares (frames x columns x K)
                    step = max(1, _CHUNK_CELLS // (decoder.n_outputs * (K + 1)))
                    for f0 in range(0, Hc.shape[0], step):
                        S = occlusion_shares(decoder, Hc[f0 : f0 + step])
                        here = torch.nonzero((frame >= f0) & (frame < f0 + step)).ravel()
                        C[rows[here.numpy()]] = S[frame[here] - f0, col[here]].numpy()
                    m_hat[rows] = C[rows].sum(axis=1)
                else:
                    m_hat[rows] = decoder(Hc)[frame, col].numpy()
            curve = np.asarray(result.losses, dtype=np.float64)
            curve = np.pad(curve, (0, losses.size - curve.size), mode="edge")
            losses += curve * rows.size
        unit = self.scale_**self._beta  # the losses in the normalised units of training
        return times, H, m_hat, C, list(losses / max(n, 1) / unit)

    def transform(self, X):
        """Each point's coordinates, then the latents' shares of the model there.

        The latents of each frame solve eq. 6 on that frame's points (see
        Notes of the class), so a row's result depends on its own frame's
        rows only.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)

        Returns
        -------
        Z : ndarray of shape (n_points, d + n_components)
            The coordinates, then component k's share of the reconstruction
            ``m_hat`` (non-negative; the columns sum to ``m_hat``).
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        _, _, _, C, _ = self._solve(X, shares=True)
        return np.hstack([X[:, :-1], C.astype(X.dtype, copy=False)])

    def score(self, X, y=None):
        """Minus the mean beta-divergence between X's magnitudes and the model.

        The model of each frame is its eq. 6 reconstruction.

        Parameters
        ----------
        X : array-like of shape (n_points, d + 1)
        y : None
            Ignored.

        Returns
        -------
        score : float
            Higher is better.
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        self._check_magnitudes(X[:, -1])
        _, _, m_hat, _, _ = self._solve(X, shares=False)
        return self._score_model(X[:, -1], m_hat, self.scale_)

    def fit_activations(self, X):
        """Explain a new signal with this estimator's decoder (eq. 6).

        Returns a *new* fitted estimator with this one's network (the
        decoder frozen) whose ``latents_`` and ``frame_times_`` are X's
        frames' eq. 6 latents; ``loss_curve_`` is their mean divergence per
        step. ``self`` is left unchanged.

        Parameters
        ----------
        X : array-like of shape (n_points, d + 1)

        Returns
        -------
        estimator : NonNegativeAutoencoder
        """
        check_is_fitted(self)
        X = self._validate_points(X, reset=False)
        self._check_magnitudes(X[:, -1])
        times, H, _, _, losses = self._solve(X, shares=False)
        new = clone(self)
        for name in ("n_features_in_", "feature_names_in_", "bins_"):
            if hasattr(self, name):
                setattr(new, name, copy.copy(getattr(self, name)))
        unit = self.scale_**self._beta
        new._set_fitted(
            copy.deepcopy(self.model_), self.scale_, times, H, losses,
            self.latent_iter, unit, X.shape[0],
        )
        return new

    def activations(self, times):
        """The latents at the given times, in X's magnitude unit over the network's.

        Linear interpolation of ``latents_`` between ``frame_times_`` (the
        edge frame's beyond them).

        Parameters
        ----------
        times : array-like of shape (n_times,)

        Returns
        -------
        H : ndarray of shape (n_times, n_components)
        """
        check_is_fitted(self)
        t = np.asarray(times, dtype=np.float64).ravel()
        if not np.all(np.isfinite(t)):
            raise ValueError("times contains NaN or infinity.")
        lo, hi, w = interpolation_weights(self.frame_times_, t)
        return self.latents_[lo] * (1.0 - w)[:, None] + self.latents_[hi] * w[:, None]

    # -- modules for separators (eq. 8) ------------------------------------

    def _check_frequencies(self, freqs, name):
        check_is_fitted(self)
        if self.bins_.shape[1] != 1:
            raise ValueError(
                f"{name}(freqs) needs a model of (t, f, m) points (d=2), but this one "
                f"has d={self.bins_.shape[1] + 1}."
            )
        f = np.asarray(freqs, dtype=np.float64).ravel()
        if f.size == 0 or not np.all(np.isfinite(f)):
            raise ValueError("freqs must be a non-empty array of finite frequencies.")
        return f

    def _output_interpolation(self, coords):
        """``lo, hi, w`` (tensors of length n): the decoded value at each row of
        ``coords`` is ``(1 - w) * value[lo] + w * value[hi]`` of the values at
        the training bins: linear over frequency (d = 2, ``coords`` of shape
        (n,) or (n, 1)), the nearest bin for d > 2 (``coords`` (n, d - 1)),
        the single bin for d = 1 (``coords`` (n, 0))."""
        check_is_fitted(self)
        c = np.asarray(coords, dtype=np.float64)
        n_axes = self.bins_.shape[1]
        if c.ndim == 1 and n_axes == 1:
            c = c[:, None]
        if c.ndim != 2 or c.shape[1] != n_axes:
            raise ValueError(
                f"coords has shape={np.shape(coords)}, but this model's template "
                f"coordinates have {n_axes} column(s) (d={n_axes + 1})."
            )
        if c.shape[0] == 0 or not np.all(np.isfinite(c)):
            raise ValueError("coords must be a non-empty array of finite coordinates.")
        if n_axes == 1:
            lo, hi, w = interpolation_weights(self.bins_[:, 0], c[:, 0])
        else:
            lo = (self._nearest_bins(c) if n_axes else np.zeros(c.shape[0], dtype=np.int64))
            hi, w = lo, np.zeros(c.shape[0])
        return torch.as_tensor(lo), torch.as_tensor(hi), torch.as_tensor(w)

    def _frame_start(self, X, share=1.0):
        """Initial latents of X's frames for eq. 8: the encoder's output for
        each frame's own points (interpolated onto the training bins as
        :meth:`transform` does), the magnitudes scaled by ``share`` first.

        Returns an array (n_unique_times, n_components_), times sorted; a
        frame's row depends on that frame's points only.
        """
        times, frame, lo, hi, w = self._locate(X)
        V_in = self._encoder_input(X, times, frame, lo, hi, w) * (share / self.scale_)
        with torch.no_grad():
            return self._network64().encode(torch.as_tensor(V_in)).numpy()

    def _frame_decoder(self, freqs):
        """A frozen float64 CPU module: latents -> magnitudes at ``freqs``.

        Maps latents of shape (n_frames, n_components_) to non-negative
        magnitudes in X's units, shape (n_frames, len(freqs)), interpolated
        between the training bins as :meth:`transform` does. Separators sum
        such decoders of several sources and learn only the latents (eq. 8).

        Parameters
        ----------
        freqs : array-like of shape (n_freqs,) or (n_freqs, d - 1)
            Frequencies (d = 2), or rows of template coordinates for any d
            (the nearest bin for d > 2; shape (n, 0) for d = 1).

        Returns
        -------
        decoder : FrameDecoder
        """
        module = FrameDecoder(self._network64(), *self._output_interpolation(freqs), self.scale_)
        for p in module.parameters():
            p.requires_grad_(False)
        return module.eval()

    def _frame_encoder(self, freqs):
        """A frozen float64 CPU module: magnitudes at ``freqs`` -> latents.

        Maps magnitudes in X's units of shape (n_frames, len(freqs)) to
        latents (n_frames, n_components_): each frame is interpolated
        linearly onto the training bins (constant beyond ``freqs``), divided
        by ``scale_`` and encoded. An initial guess for eq. 6 / eq. 8.

        Parameters
        ----------
        freqs : array-like of shape (n_freqs,)

        Returns
        -------
        encoder : FrameEncoder
        """
        f = self._check_frequencies(freqs, "_frame_encoder")
        order = np.argsort(f, kind="stable")
        Q_sorted = interpolation_matrix(f[order], self.bins_[:, 0])  # (n_freqs, n_bins)
        Q = np.empty_like(Q_sorted)
        Q[order] = Q_sorted
        module = FrameEncoder(self._network64(), torch.as_tensor(Q), self.scale_)
        for p in module.parameters():
            p.requires_grad_(False)
        return module.eval()
