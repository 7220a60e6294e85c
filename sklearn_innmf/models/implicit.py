"""ImplicitNMF: NMF whose factors are implicit neural representations."""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ..factors import ImplicitFactor, TableFactor
from ..problem.forward import SeparableModel
from .nmf import BaseNMF

__all__ = ["ImplicitNMF"]

# the hyper-parameters of an implicit factor's network, as estimators take them
# (ImplicitNMF; SupervisedSeparator's implicit activations)
_NETWORK_CONSTRAINTS: dict = {
    "encoding_size": [Interval(Integral, 1, None, closed="left")],
    "hidden_size": [Interval(Integral, 1, None, closed="left")],
    "n_layers": [Interval(Integral, 1, None, closed="left")],
    "architecture": [StrOptions({"separate", "shared"})],
}


def _network(estimator, n_components, uniques, generator, init_value):
    """An :class:`ImplicitFactor` over the range of ``uniques`` (the axis'
    unique coordinates), with the network hyper-parameters of ``estimator``
    (its ``encoding_size``, ``hidden_size``, ``n_layers``, ``architecture``)."""
    return ImplicitFactor(
        n_components,
        float(uniques.min()),
        float(uniques.max()),
        encoding_size=estimator.encoding_size,
        hidden_size=estimator.hidden_size,
        n_layers=estimator.n_layers,
        architecture=estimator.architecture,
        init_value=init_value,
        generator=generator,
        lattice=getattr(estimator, "lattice", "auto"),
    )


class ImplicitNMF(BaseNMF):
    """Implicit-neural NMF (iN-NMF) of time-frequency points.

    Models ``m(t, f) ~= sum_k W_k(f) H_k(t)`` where each W_k (and H_k) is a
    small neural network of its coordinate: Fourier features
    ``[cos, sin](2^j pi x + phase_j)`` of the coordinate scaled to [0, 1],
    then ``n_layers`` sine-activated layers, then softplus. The data can be
    any set of (t, f, m) points (STFTs of any size, CQTs, reassigned
    spectrograms, sinusoidal peaks or a mix), and the learned templates can
    be sampled at any frequency. With d > 2 coordinate columns the model is a
    non-negative CP decomposition with one network per axis.

    Parameters
    ----------
    n_components : int, default=10
        Number of components K.
    encoding_size : int, default=6
        Number of Fourier-feature frequencies (octaves 2^0..2^(E-1)) per axis.
        Larger values fit sharper detail at the training coordinates but
        ripple between them: on speech (K=20, templates trained at
        ``n_fft=2000`` and sampled at 1000-2500) 6 stays within 1.06x of NMF
        re-fitted at each size, while 8 reached 1.2x at the sizes whose bins
        fall between the training bins (``benchmarks/reconstruction.md``).
        Choose it with ``GridSearchCV``.
    hidden_size : int, default=64
        Width of the hidden layers.
    n_layers : int, default=4
        Number of sine-activated hidden layers.
    architecture : {"separate", "shared"}, default="separate"
        "separate": one network per component and axis, as in the paper
        (batched into one stacked computation). "shared": one network per axis
        with K outputs, about K times cheaper.
    lattice : "auto", int or None, default="auto"
        How the networks are evaluated at many coordinates. "auto": a network
        whose training asks for more than 8192 distinct coordinates (scattered
        points, e.g. a reassigned spectrogram) is evaluated on 2048 evenly
        spaced nodes over its training range and linearly interpolated (10^5
        scattered points, K=20, 1 thread: 3-3.8 training steps/s instead of
        0.03-0.05, KL within 0.1% of exact evaluation); grids (STFT and CQT
        axes up to 8192 bins or frames) are evaluated exactly. An int: that
        many nodes always; None: always exact (one evaluation per distinct
        coordinate). The fitted model keeps its evaluation, so a row's
        transform does not depend on the other rows.
    time_factor : {"implicit", "table"}, default="implicit"
        The activation factor (axis 0): a network, or a free value per unique
        time updated multiplicatively (paper Sec. 3.1; best for framed data).
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, \
            default="kullback-leibler"
        The beta-divergence minimised.
    alpha_W : float, default=0.0
        Strength of the elastic-net penalty on the activations (axis 0),
        with scikit-learn's ``NMF`` meaning and scaling, the frames being
        its samples (as for :class:`MatrixNMF`: sklearn's ``W`` is the
        time side): ``alpha_W * (l1_ratio * |A|_1 + 0.5 * (1 - l1_ratio) *
        |A|_F^2)`` over the activations at the unique training times, times
        the mean number of points per time. With ``l1_ratio=1``: L1
        sparsity of the activations.
    alpha_H : float or "same", default="same"
        The same on the templates (every axis but axis 0: the networks'
        values at the unique training coordinates, times the mean number of
        points per coordinate value). "same" takes ``alpha_W``.
    l1_ratio : float, default=0.0
        Mix of L1 (1.0) and squared L2 (0.0) in both penalties.
    optimizer : {"rprop", "adam"}, default="rprop"
        Full-batch optimiser of the networks. Rprop, as in the paper's code,
        converges much faster here than Adam.
    learning_rate : float or "auto", default="auto"
        Initial step size of the optimiser. "auto" is 3e-2 with
        ``time_factor="table"`` and 1e-2 (torch's Rprop default) otherwise,
        chosen by measurement: with a table time factor (speech, n_fft 2000,
        K=20; piano-like notes) 3e-2 escapes early plateaus that smaller steps
        get stuck on for some seeds; with implicit activations on irregular
        points 3e-2 overshoots (20% held-out error vs 1% at 1e-2).
    max_iter : int, default=2000
        Maximum number of training steps. On the README's example (two
        piano notes, K=4, seed 0) training stops on ``tol`` after 860 steps
        with ``time_factor="table"`` and after 1090 with implicit
        activations. A fit that stops on ``tol`` does not depend on
        ``max_iter``.
    tol : float, default=1e-4
        Stop when the loss decreased by less than ``tol`` (relative) over the
        last 10 steps. 0 runs exactly ``max_iter`` steps (and does not warn
        that they ran out).
    random_state : int, RandomState instance or None, default=None
        Seed of the networks' initial weights and phases.
    device : str, default="auto"
        Torch device: "auto" (CUDA when present, else CPU), "cpu", "cuda",
        "cuda:1".
    dtype : {"float32", "float64"}, default="float32"
        Precision of training. ``transform`` computes in X's precision, so
        results keep X's dtype; ``score`` sums in float64.
    verbose : int, default=0
        1 shows a progress bar with the current loss.
    n_coordinates : int, default=None
        The number of coordinate columns of X (2 for (t, f, m) points). None
        reads it from X's width and warns when it is not 2 (a point array of
        2 or 4 columns is more often a mistake than a 1-axis model or a CP
        decomposition); an integer confirms the layout: X of another width
        is refused at fit.

    Attributes
    ----------
    model_ : SeparableModel
        The fitted factors (kept on the CPU).
    n_components_ : int
        Number of components.
    n_iter_ : int
        Number of training steps run.
    loss_curve_ : list of float
        Mean divergence per point at each step.
    reconstruction_err_ : float
        ``sqrt(2 * total divergence)`` of the fitted model, as sklearn's NMF.
    coordinate_ranges_ : list of (float, float)
        Range of each coordinate axis in the training data; the networks map
        it to [0, 1].
    n_features_in_ : int
        Number of columns of X (d + 1).
    feature_names_in_ : ndarray of str
        Column names of X, when it was a DataFrame.

    Notes
    -----
    The networks are defined on the training range of each coordinate
    (``coordinate_ranges_``): their Fourier features are periodic, so beyond
    it they repeat a pattern from inside the range instead of extrapolating.
    ``factor``, ``templates`` and ``activations`` warn when asked for values
    outside it. ``MatrixNMF`` holds its edge values there instead.

    See Also
    --------
    MatrixNMF : classic NMF with a free value per coordinate.

    References
    ----------
    .. [1] K. Subramani, P. Smaragdis, T. Higuchi and M. Souden, "Rethinking
       non-negative matrix factorization with implicit neural
       representations", arXiv:2404.04439, 2024.
       :doi:`10.48550/arXiv.2404.04439`

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf import ImplicitNMF
    >>> rng = np.random.default_rng(0)
    >>> t, f = rng.random(2000), 4000 * rng.random(2000)     # irregular points
    >>> m = np.exp(-((f - 1000) / 300) ** 2) * t + np.exp(-((f - 3000) / 300) ** 2) * (1 - t)
    >>> X = np.column_stack([t, f, m])
    >>> model = ImplicitNMF(n_components=2, max_iter=300, tol=0, random_state=0).fit(X)
    >>> model.templates(np.linspace(100, 3900, 5)).shape  # sampled at any frequency
    (5, 2)
    """

    _periodic_outside = True

    _parameter_constraints: dict = {
        **BaseNMF._parameter_constraints,
        **_NETWORK_CONSTRAINTS,
        "time_factor": [StrOptions({"implicit", "table"})],
        "optimizer": [StrOptions({"rprop", "adam"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "lattice": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left"), None],
    }

    def __init__(
        self,
        n_components=10,
        *,
        encoding_size=6,
        hidden_size=64,
        n_layers=4,
        architecture="separate",
        lattice="auto",
        time_factor="implicit",
        beta_loss="kullback-leibler",
        alpha_W=0.0,
        alpha_H="same",
        l1_ratio=0.0,
        optimizer="rprop",
        learning_rate="auto",
        max_iter=2000,
        tol=1e-4,
        random_state=None,
        device="auto",
        dtype="float32",
        verbose=0,
        n_coordinates=None,
    ):
        self.n_components = n_components
        self.encoding_size = encoding_size
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.architecture = architecture
        self.lattice = lattice
        self.time_factor = time_factor
        self.beta_loss = beta_loss
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.verbose = verbose
        self.n_coordinates = n_coordinates

    @property
    def _learning_rate(self):
        if self.learning_rate != "auto":
            return self.learning_rate
        return 3e-2 if self.time_factor == "table" else 1e-2

    def _implicit(self, uniques, generator, init_value):
        factor = _network(self, self.n_components, uniques, generator, init_value)
        return factor.to(self._torch_dtype)

    def _time(self, uniques, generator, init_value):
        if self.time_factor == "implicit":
            return self._implicit(uniques, generator, init_value)
        u = uniques.cpu()
        jitter = torch.rand(u.numel(), self.n_components, generator=generator)
        values = (init_value * (0.5 + jitter)).to(self._torch_dtype)
        return TableFactor(u, values, interpolation="linear")

    def _init_model(self, data, generator, rng):
        d = len(data.uniques)
        # every factor starts near c with K * c**d == 1 == mean of normalised m
        c = (1.0 / self.n_components) ** (1.0 / d)
        templates = [self._implicit(u.cpu(), generator, c) for u in data.uniques[1:]]
        time = self._time(data.uniques[0], generator, c)
        return SeparableModel([time, *templates], scale=data.scale)

    def _activation_model(self, data, generator, rng):
        import copy

        templates = [copy.deepcopy(f).to(data.m.device) for f in self.model_.factors[1:]]
        if self.time_factor == "table":
            with torch.no_grad():
                values = [t(u) for t, u in zip(templates, data.uniques[1:])]
            h0 = self._frame_start(data, values).cpu().to(self._torch_dtype)
            time = TableFactor(data.uniques[0].cpu(), h0, interpolation="linear")
        else:
            # the network starts where the model's mean is the data's (1)
            with torch.no_grad():
                P = torch.ones(
                    data.n_points, self.n_components_, dtype=torch.float64, device=data.m.device
                )
                for a, t in enumerate(templates, start=1):
                    P = P * t(data.uniques[a]).to(torch.float64)[data.index[a]]
                mean_model = float(P.sum(dim=1).mean())
            c = 1.0 / mean_model if mean_model > 0 else 1.0 / self.n_components_
            time = self._time(data.uniques[0], generator, c)
        return SeparableModel([time, *templates], scale=data.scale)

    def _rules(self):
        time_rule = "multiplicative" if self.time_factor == "table" else "gradient"
        return time_rule, "gradient"

    def _solver_options(self, data):
        return dict(
            super()._solver_options(data),
            learning_rate=self._learning_rate,
            optimizer=self.optimizer,
        )
