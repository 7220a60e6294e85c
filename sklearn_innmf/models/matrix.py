"""MatrixNMF: classic NMF with multiplicative updates on point arrays."""

import numpy as np
import torch
from sklearn.decomposition._nmf import _initialize_nmf
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from ..factors import TableFactor
from ..problem.forward import SeparableModel
from .nmf import BaseNMF

__all__ = ["MatrixNMF"]

_NNDSVD = {"nndsvd", "nndsvda", "nndsvdar"}


class MatrixNMF(BaseNMF):
    """Non-negative factorisation with a free value per coordinate (classic NMF).

    The factors are tables: one non-negative value per unique coordinate value
    and component, i.e. the matrices W (templates, frequency x K) and H
    (activations, time x K) of classic NMF (the audio convention V = W H;
    scikit-learn, fitted with the frames as samples, names them the other
    way round, and ``alpha_W`` / ``alpha_H`` follow scikit-learn), or a
    non-negative CP decomposition for d > 2 coordinates. They are learned
    with the multiplicative updates of Lee & Seung (beta-divergence form of
    Fevotte & Idier), masked when the points do not fill their grid. On a full grid it is numerically the same
    algorithm as ``sklearn.decomposition.NMF(solver="mu")`` from the same
    initial factors, with the same stopping rule.

    Parameters
    ----------
    n_components : int, default=10
        Number of components K.
    beta_loss : float or {"frobenius", "kullback-leibler", "itakura-saito"}, \
            default="kullback-leibler"
        The beta-divergence minimised.
    init : {"random", "nndsvd", "nndsvda", "nndsvdar", "custom"}, default=None
        Initialisation, computed as scikit-learn computes it on the grid of
        magnitudes divided by their mean (so the result does not depend on
        the unit of m; on data of mean 1 it is sklearn's). None means
        "nndsvda" when the points fill a (t, f) grid and
        ``n_components <= min(n_times, n_freqs)``, else "random". The NNDSVD
        variants need a full grid. "custom" takes ``fit(X, factors=[H, W])``.
    alpha_W : float, default=0.0
        scikit-learn's ``alpha_W``, with the frames as its samples: sklearn
        fitted on the (times x freqs) matrix calls the activations (axis 0,
        time x K) ``W`` and the templates its ``components_`` ``H``. So this
        is the penalty on the **activations**: ``alpha_W * (l1_ratio * |A|_1
        + 0.5 * (1 - l1_ratio) * |A|_F^2)`` times the mean number of points
        per unique time (sklearn's ``n_features`` on a full grid). With
        ``l1_ratio=1`` it is the L1 sparsity penalty on activations
        (Smaragdis & Venkataramani 2017, eq. 5). 0 means no penalty. On a
        full grid ``MatrixNMF(alpha_W=a, alpha_H=b, l1_ratio=r)`` is
        ``NMF(alpha_W=a, alpha_H=b, l1_ratio=r).fit(V.T)`` (``V`` freqs x
        times) from the same initial factors.
    alpha_H : float or "same", default="same"
        scikit-learn's ``alpha_H``: the same penalty on the **templates**
        (every axis but axis 0), times the mean number of points per
        template coordinate value (sklearn's ``n_samples``, the number of
        frames, on a full grid). "same" takes ``alpha_W``'s value.
    l1_ratio : float, default=0.0
        Mix of L1 (1.0) and squared L2 (0.0) in both penalties.
    max_iter : int, default=200
        Maximum number of iterations.
    tol : float, default=1e-4
        Tolerance of the stopping rule (sklearn's): every 10 iterations, stop
        when the decrease of ``sqrt(2 * divergence)`` over the last 10
        iterations, relative to its initial value, is below ``tol``.
    interpolation : {"linear", "nearest"} or None, default="linear"
        How the tables are evaluated at coordinates not seen in fit (in
        ``transform``, ``fit_activations``, ``factor``). None raises
        ``ValueError`` on unseen coordinates.
    random_state : int, RandomState instance or None, default=None
        Seed of the random initialisation.
    device : str, default="auto"
        Torch device: "auto" (CUDA when present, else CPU), "cpu", "cuda",
        "cuda:1".
    dtype : {"float32", "float64"}, default="float32"
        Precision of the training computation. Outputs keep X's dtype.
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
        Number of iterations run.
    loss_curve_ : list of float
        Mean divergence per point after 0, 10, 20, ... iterations and at the
        last one (measured where the stopping rule looks, as sklearn does).
    reconstruction_err_ : float
        ``sqrt(2 * total divergence)`` of the fitted model, as sklearn's NMF.
    coordinate_ranges_ : list of (float, float)
        Range of each coordinate axis in the training data.
    n_features_in_ : int
        Number of columns of X (d + 1).
    feature_names_in_ : ndarray of str
        Column names of X, when it was a DataFrame.

    Notes
    -----
    A factor entry that an update takes below the smallest normal number of
    ``dtype`` (1.2e-38 in float32, 2.2e-308 in float64) is set to 0, where the
    multiplicative updates keep it. Unneeded entries decay geometrically and,
    left alone, would sink to the smallest subnormal numbers, contributing
    nothing to the model but making every product with them many times
    slower on x86 CPUs (sklearn's float32 NMF slows down this way). While no
    entry is subnormal the results are sklearn's.

    See Also
    --------
    ImplicitNMF : factors as implicit neural representations.
    sklearn.decomposition.NMF : the matrix-only original.

    References
    ----------
    .. [1] D. D. Lee and H. S. Seung, "Algorithms for non-negative matrix
       factorization", NIPS 2000.
    .. [2] C. Fevotte and J. Idier, "Algorithms for nonnegative matrix
       factorization with the beta-divergence", Neural Computation 23(9),
       2011. :doi:`10.1162/NECO_a_00168`

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_innmf import MatrixNMF, grid_to_points
    >>> rng = np.random.default_rng(0)
    >>> V = rng.random((32, 2)) @ rng.random((2, 20))      # freqs x times, rank 2
    >>> X = grid_to_points(V, times=np.arange(20) * 0.01, freqs=np.arange(32) * 50.0)
    >>> nmf = MatrixNMF(n_components=2, max_iter=1000, random_state=0).fit(X)
    >>> nmf.transform(X).shape                              # t, f, then 2 components
    (640, 4)
    >>> nmf.templates([0.0, 25.0]).shape                    # between bins: interpolated
    (2, 2)
    >>> bool(nmf.score(X) > -1e-3)
    True
    """

    _parameter_constraints: dict = {
        **BaseNMF._parameter_constraints,
        "init": [StrOptions({"random", "custom"} | _NNDSVD), None],
        "interpolation": [StrOptions({"linear", "nearest"}), None],
    }

    def __init__(
        self,
        n_components=10,
        *,
        beta_loss="kullback-leibler",
        init=None,
        alpha_W=0.0,
        alpha_H="same",
        l1_ratio=0.0,
        max_iter=200,
        tol=1e-4,
        interpolation="linear",
        random_state=None,
        device="auto",
        dtype="float32",
        verbose=0,
        n_coordinates=None,
    ):
        self.n_components = n_components
        self.beta_loss = beta_loss
        self.init = init
        self.alpha_W = alpha_W
        self.alpha_H = alpha_H
        self.l1_ratio = l1_ratio
        self.max_iter = max_iter
        self.tol = tol
        self.interpolation = interpolation
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.verbose = verbose
        self.n_coordinates = n_coordinates

    def fit(self, X, y=None, factors=None):
        """Learn the tables W and H (or the CP factors) from a point array.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_points, d + 1)
            Coordinates (column 0 time, then frequency, ...), then magnitude.
        y : None
            Ignored.
        factors : list of d array-likes, default=None
            With ``init="custom"``: the initial factors, ``factors[a]`` of shape
            (number of unique values of column a, n_components), rows in
            increasing coordinate order. For (t, f, m) points of a
            spectrogram V (freqs x times) ``factors=[H, W]`` where sklearn's
            ``NMF().fit(V.T)`` would take ``W=H, H=W.T``.

        Returns
        -------
        self : MatrixNMF
        """
        return super().fit(X, y, factors=factors)

    def _init_model(self, data, generator, rng, factors=None):
        K = self.n_components
        sizes = [u.numel() for u in data.uniques]
        full_grid = data.grid is not None and data.mask is None
        init = self.init
        if init is None:
            init = "nndsvda" if full_grid and K <= min(sizes) else "random"
        if init != "custom" and factors is not None:
            raise ValueError(f"factors were given, but init={init!r}; use init='custom'.")
        if init == "custom":
            G = _check_custom_factors(factors, sizes, K)
        elif full_grid:
            # sklearn's init of the normalised grid (its eps threshold and the
            # NNDSVDa fill value are absolute, so this keeps m's unit out),
            # with the scale shared by both factors
            V = data.grid.to(torch.float64).cpu().numpy()
            with np.errstate(invalid="ignore"):
                W, H = _initialize_nmf(V, K, init=init, random_state=self.random_state)
            # sklearn's NNDSVD divides 0 by 0 for a component without energy
            # (rank-deficient grids, e.g. one non-zero cell): give those
            # entries NNDSVDa's fill value (0 for plain NNDSVD)
            fill = 0.0 if init == "nndsvd" else float(V.mean())
            W, H = (np.where(np.isfinite(G), G, fill) for G in (W, H))
            root = np.sqrt(data.scale)
            G = [W * root, H.T * root]
        elif init in _NNDSVD:
            raise ValueError(
                f"init={init!r} needs points that fill a (t, f) grid once each; "
                "these do not. Use init='random'."
            )
        else:
            G = _random_factors(data, K, self.random_state)
        dtype = self._torch_dtype
        G = [torch.as_tensor(np.asarray(g, dtype=np.float64)) for g in G]
        G[0] = G[0] / data.scale  # the model carries the scale on axis 0
        tables = [
            TableFactor(u.cpu(), g.to(dtype), interpolation=self.interpolation)
            for u, g in zip(data.uniques, G)
        ]
        return SeparableModel(tables, scale=data.scale)

    def _activation_model(self, data, generator, rng):
        templates = []
        with torch.no_grad():
            fitted = self._eval_model(self._torch_dtype, torch.device("cpu"))
            for a in range(1, len(data.uniques)):
                u = data.uniques[a].cpu()
                templates.append(TableFactor(u, fitted.factors[a](u).clone(), self.interpolation))
        values = [t.values.to(data.m.device) for t in templates]
        h0 = self._frame_start(data, values).cpu().to(self._torch_dtype)
        time = TableFactor(data.uniques[0].cpu(), h0, self.interpolation)
        return SeparableModel([time, *templates], scale=data.scale)

    def _rules(self):
        return "multiplicative", "multiplicative"

    def _configure_eval(self, model):
        for f in model.factors:
            f.interpolation = self.interpolation


def _check_custom_factors(factors, sizes, K):
    if factors is None:
        raise ValueError("init='custom' needs fit(X, factors=[...]), one array per axis.")
    if len(factors) != len(sizes):
        raise ValueError(
            f"factors has {len(factors)} arrays, but X has {len(sizes)} coordinate axes."
        )
    out = []
    for a, (g, n) in enumerate(zip(factors, sizes)):
        # a copy: the updates work in place, and the caller's arrays are theirs
        g = np.array(g, dtype=np.float64, copy=True)
        if g.shape != (n, K):
            raise ValueError(
                f"factors[{a}] has shape={g.shape}, expected ({n}, {K}): one row per "
                f"unique value of coordinate column {a}, one column per component."
            )
        if not np.all(np.isfinite(g)) or g.min() < 0:
            raise ValueError(f"factors[{a}] must be finite and non-negative.")
        out.append(g)
    return out


def _random_factors(data, K, random_state):
    """sklearn's "random" init, generalised to any number of axes and to points:
    |N(0, 1)| * (mean(m) / K) ** (1 / d) per factor, in the user's units."""
    rng = check_random_state(random_state)
    d = len(data.uniques)
    avg = (float(data.m.double().mean()) * data.scale / K) ** (1.0 / d)
    # in sklearn's order and shapes: H (K, n_features) of the last axis
    # first, then W (n_samples, K), so a full grid gets sklearn's numbers
    G = [None] * d
    for a in reversed(range(d)):
        n = data.uniques[a].numel()
        draw = rng.standard_normal(size=(n, K) if a == 0 else (K, n))
        G[a] = np.abs(avg * (draw if a == 0 else draw.T))
    return G
