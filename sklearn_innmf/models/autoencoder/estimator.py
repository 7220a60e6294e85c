""":class:`NonNegativeAutoencoder`, the scikit-learn estimator: parameters, fitting
(eq. 4-5, on the problem layer) and fitted state; latents of new frames are
:mod:`~sklearn_innmf.models.autoencoder.latents`, frames and bins
:mod:`~sklearn_innmf.models.autoencoder.frames`.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..._device import resolve_device
from ...divergences import beta_loss_to_float
from ..base import record_training
from .latents import LatentSolving
from .network import (
    _ACTIVATIONS,
    _MAX_CELLS,
    AutoencoderNetwork,
    train_autoencoder,
)

# ---------------------------------------------------------------------------
# The estimator


class NonNegativeAutoencoder(LatentSolving):
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
    max_iter : int, default=3000
        Maximum number of Rprop steps of training. Measured (``tol=1e-4``,
        seed 0): the README's two piano notes stop on ``tol`` after 2350
        steps at K=4 and 1620 at K=10, 9 sentences of speech (512-point
        STFT) after 1920 at K=20; larger or multilayer models on speech
        (K=100, or ``hidden_layer_sizes=(K,)``) were still improving at 5000
        steps and warn: set ``max_iter`` higher, or ``tol=0`` for a fixed
        budget.
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
    >>> from sklearn_innmf.models.autoencoder import NonNegativeAutoencoder
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
        max_iter=3000,
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
        network = network.to("cpu").eval()
        with torch.no_grad():
            latents = network.encode(tensor(V_in).cpu()).to(torch.float64).numpy()
        record_training(self, result, unit, X.shape[0], learning_rate=self.learning_rate)
        self._set_fitted(network, scale, times, latents)
        return self

    def _set_fitted(self, network, scale, times, latents):
        for p in network.parameters():
            p.requires_grad_(False)
        self.model_ = network
        self.scale_ = float(scale)
        self.frame_times_ = np.asarray(times, dtype=np.float64)
        self.latents_ = latents
        self.n_components_ = network.n_components
        self.decoder_weights_ = [w.detach().to(torch.float64).numpy().copy() for w in network.decoder]

