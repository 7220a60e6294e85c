"""The problem layer: penalties, update rules of blocks, and what rests on them
(scikit-learn's alpha_W / alpha_H / l1_ratio, sparsity and the cross-source
penalty of the separator, semi-supervised separation with free components)."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

from sklearn_innmf import ImplicitNMF, MatrixNMF, SupervisedSeparator, grid_to_points
from sklearn_innmf.datasets import harmonic_source, two_source_mixture
from sklearn_innmf.factors import ImplicitFactor, TableFactor
from sklearn_innmf.metrics import bss_eval, hoyer_sparsity
from sklearn_innmf.problem import SeparableModel, prepare_points
from sklearn_innmf.problem import Block, CoactivityPenalty, L1L2Penalty, Problem
from sklearn_innmf.separation import fit_separator, separate_mixture
from sklearn_innmf.solvers import multiplicative_update, solve

from _helpers import two_speakers  # tests/_helpers.py

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def positive_grid(n_freqs=40, n_times=30, seed=0):
    rng = np.random.RandomState(seed)
    V = np.abs(rng.randn(n_freqs, n_times)) * 3 + 0.1  # > 0: Itakura-Saito too
    V /= V.mean()  # the init is computed on m / mean(m)
    times, freqs = np.arange(n_times) * 0.01, np.arange(n_freqs) * 10.0
    return V, times, freqs


# -- MatrixNMF's penalties are scikit-learn's ------------------------------------

PENALTIES = [(0.1, 0.0, 1.0), (0.0, 0.05, 0.5), (0.02, 0.03, 0.0), (0.01, "same", 0.3)]


@pytest.mark.parametrize("beta_loss", ["kullback-leibler", "itakura-saito", "frobenius"])
@pytest.mark.parametrize("alpha_W, alpha_H, l1_ratio", PENALTIES)
def test_penalised_matrix_nmf_matches_sklearn(beta_loss, alpha_W, alpha_H, l1_ratio):
    """sklearn fitted on the (times x freqs) matrix, as in our parity tests:
    its W are our activations, and alpha_W / alpha_H keep sklearn's names."""
    V, times, freqs = positive_grid()
    X = grid_to_points(V, times, freqs)
    skl = NMF(
        5, solver="mu", beta_loss=beta_loss, init="random", random_state=0, max_iter=200,
        alpha_W=alpha_W, alpha_H=alpha_H, l1_ratio=l1_ratio,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        H = skl.fit_transform(V.T)
    ours = MatrixNMF(
        5, beta_loss=beta_loss, init="random", random_state=0, dtype="float64",
        alpha_W=alpha_W, alpha_H=alpha_H, l1_ratio=l1_ratio,
    ).fit(X)
    assert ours.n_iter_ == skl.n_iter_
    W = skl.components_.T
    np.testing.assert_allclose(ours.activations(times), H, rtol=0, atol=1e-10 * H.max())
    np.testing.assert_allclose(ours.templates(freqs), W, rtol=0, atol=1e-10 * W.max())


def test_penalties_change_the_result():
    """The parity above is not the unpenalised fit twice."""
    V, times, freqs = positive_grid()
    X = grid_to_points(V, times, freqs)
    plain = MatrixNMF(5, init="random", random_state=0, dtype="float64").fit(X)
    sparse = MatrixNMF(5, init="random", random_state=0, dtype="float64", alpha_W=0.1,
                       l1_ratio=1.0).fit(X)
    assert np.abs(plain.activations(times) - sparse.activations(times)).max() > 1e-3


def test_custom_factors_are_not_modified():
    V, times, freqs = positive_grid()
    X = grid_to_points(V, times, freqs)
    rng = np.random.RandomState(0)
    H0, W0 = rng.rand(30, 3) + 0.1, rng.rand(40, 3) + 0.1
    H_copy, W_copy = H0.copy(), W0.copy()
    MatrixNMF(3, init="custom", dtype="float64", max_iter=20).fit(X, factors=[H0, W0])
    np.testing.assert_array_equal(H0, H_copy)
    np.testing.assert_array_equal(W0, W_copy)


# -- penalties: value and multiplicative terms agree ---------------------------


def _problem(penalties, seed=0, scale=2.5):
    V, times, freqs = positive_grid(seed=seed)
    X = grid_to_points(V * scale, times, freqs)
    data = prepare_points(X[:, :2], X[:, 2], scale=X[:, 2].mean(), device="cpu",
                          dtype=torch.float64)
    rng = np.random.RandomState(seed)
    tables = [
        TableFactor(u, torch.as_tensor(rng.rand(u.numel(), 4) + 0.1)) for u in data.uniques
    ]
    model = SeparableModel(tables, scale=data.scale)
    blocks = [Block(0, "multiplicative"), Block(1, "multiplicative")]
    return Problem(model, data, 1.0, blocks, penalties)


PENALTY_CASES = {
    "l1 activations": lambda: [L1L2Penalty(0, l1=0.7)],
    "l2 templates": lambda: [L1L2Penalty(1, l2=0.4)],
    "elastic net, some columns": lambda: [L1L2Penalty(0, l1=0.3, l2=0.2, columns=slice(1, 3))],
    "coactivity": lambda: [CoactivityPenalty([slice(0, 2), slice(2, 4)], 0.5)],
    "per point": lambda: [
        L1L2Penalty(0, l1=0.1, l2=0.05, per_point=True),
        CoactivityPenalty([slice(0, 1), slice(1, 4)], 0.01, per_point=True),
    ],
}


@pytest.mark.parametrize("case", sorted(PENALTY_CASES))
@pytest.mark.parametrize("axis", [0, 1])
def test_mu_terms_are_the_gradient_of_the_value(case, axis):
    """denominator - numerator = n_points * d(value)/dG: the two faces of a
    penalty describe one function."""
    problem = _problem(PENALTY_CASES[case]())
    values = [v.detach().clone().requires_grad_(True) for v in problem.values()]
    problem.penalty(values).backward()
    with torch.no_grad():
        num, den = problem.mu_terms([v.detach() for v in values], axis, slice(None))
        G = values[axis]
        expected = torch.zeros_like(G)
        for t in den:
            expected = expected + t
        for t in num:
            expected = expected - t
    grad = torch.zeros_like(G) if G.grad is None else G.grad
    np.testing.assert_allclose(
        (grad * problem.data.n_points).numpy(), expected.expand_as(G).numpy(), rtol=1e-12,
        atol=1e-14,
    )


@pytest.mark.parametrize("case", sorted(PENALTY_CASES))
def test_each_penalised_update_decreases_the_objective(case):
    problem = _problem(PENALTY_CASES[case]())
    with torch.no_grad():
        values = problem.values()
        objective = float(problem.objective(values))
        for _ in range(10):
            for axis in (0, 1):
                terms = problem.mu_terms(values, axis, slice(None))
                multiplicative_update(values, axis, problem.data, 1.0, with_loss=False,
                                      terms=terms)
                new = float(problem.objective(values))
                assert new <= objective + 1e-12
                objective = new


def test_penalty_is_stated_in_the_users_units():
    """Data scaled by c gives the same fit (activations scaled by c, as the
    model stores them): the penalty does not depend on the normalisation
    the solvers use internally."""
    fits = []
    for scale in (1.0, 4.0):
        # KL and an L1 penalty on the activations are both of degree 1 in
        # the scale: the problem on c * m is c times the problem on m
        problem = _problem([L1L2Penalty(0, l1=0.2, l2=0.0)], scale=scale)
        solve(problem, max_iter=50, tol=0.0)
        fits.append(problem.values())
    # the model's activations carry the scale
    for a in (0, 1):
        np.testing.assert_allclose(fits[0][a].numpy(), fits[1][a].numpy(), rtol=1e-9)


# -- blocks --------------------------------------------------------------------


def test_frozen_and_partial_blocks():
    problem = _problem([])
    before = [v.clone() for v in problem.values()]
    problem.blocks[:] = [Block(0, "multiplicative"), Block(1, "multiplicative", slice(2, 4))]
    solve(problem, max_iter=20, tol=0.0)
    after = problem.values()
    np.testing.assert_array_equal(after[1][:, :2].numpy(), before[1][:, :2].numpy())
    assert not torch.equal(after[1][:, 2:], before[1][:, 2:])
    assert not torch.equal(after[0], before[0])


def test_normalised_block_keeps_the_model_and_unit_templates():
    problem = _problem([L1L2Penalty(0, l1=0.5)])
    problem.blocks[:] = [Block(0, "multiplicative"), Block(1, "multiplicative", normalize=True)]
    solve(problem, max_iter=30, tol=0.0)
    W = problem.values()[1]
    np.testing.assert_allclose(W.sum(dim=0).numpy(), 1.0, rtol=1e-12)


def test_block_errors():
    problem = _problem([])
    with pytest.raises(ValueError, match="rule='sgd' is not one of"):
        Block(0, "sgd")
    with pytest.raises(ValueError, match="normalize=True is for multiplicative blocks"):
        Block(0, "multiplicative", normalize=True)
    with pytest.raises(ValueError, match="axis=5 is not an axis of a 2-axis model"):
        Problem(problem.model, problem.data, 1.0, [Block(5, "frozen")])
    net = ImplicitFactor(4, 0.0, 1.0, encoding_size=2, hidden_size=4, n_layers=1)
    model = SeparableModel([problem.model.factors[0], net])
    with pytest.raises(ValueError, match="'multiplicative'\\) needs a table factor"):
        Problem(model, problem.data, 1.0, [Block(1, "multiplicative")])
    frozen = TableFactor(torch.zeros(1, dtype=torch.float64), torch.ones(1, 4))
    frozen.values = torch.nn.Parameter(torch.ones(1, 4)).requires_grad_(False)
    del frozen.values
    frozen.register_buffer("values", torch.ones(1, 4))
    model = SeparableModel([frozen, problem.model.factors[1]])
    with pytest.raises(ValueError, match="'gradient'\\) needs trainable parameters"):
        Problem(model, problem.data, 1.0, [Block(0, "gradient")])
    with pytest.raises(ValueError, match="cannot learn some template components"):
        ImplicitNMF(2)._blocks(2, activations_only=True, learn_templates=slice(1, None))


# -- sparsity ------------------------------------------------------------------


def sparse_grid(seed=0):
    """Sums of 6 peaky templates with activations off half of the time."""
    rng = np.random.RandomState(seed)
    nf, nt, K = 60, 50, 6
    W = np.abs(rng.randn(nf, K)) ** 3
    H = np.abs(rng.randn(K, nt)) * (rng.rand(K, nt) < 0.5)
    V = W @ H + 0.05 * rng.rand(nf, nt)
    times, freqs = np.arange(nt) * 0.01, np.arange(nf) * 10.0
    return grid_to_points(V / V.mean(), times, freqs), times


@pytest.mark.parametrize("alpha_W", [0.0, "same"])
def test_activation_sparsity_rises_with_alpha_W(alpha_W):
    X, times = sparse_grid()
    hoyer = []
    for a in (0.0, 0.01, 0.03, 0.1, 0.3):
        penalties = dict(alpha_H="same", alpha_W=a) if alpha_W == "same" else dict(
            alpha_W=a, alpha_H=0.0)
        est = MatrixNMF(6, init="random", random_state=0, l1_ratio=1.0, max_iter=300,
                        **penalties).fit(X)
        hoyer.append(hoyer_sparsity(est.activations(times)))
    assert np.all(np.diff(hoyer) > 0), hoyer


def test_implicit_nmf_l1_penalty_makes_table_activations_sparser():
    """alpha_W = alpha_H: with the networks' templates unpenalised, they
    would grow to undo an L1 penalty on the activations alone (measured:
    0.44, 0.41, 0.42, 0.45 for alpha_H 0, 0.03, 0.1, 0.3)."""
    X, times = sparse_grid()
    common = dict(time_factor="table", hidden_size=16, n_layers=2, max_iter=80, random_state=0,
                  l1_ratio=1.0)
    hoyer = [
        hoyer_sparsity(ImplicitNMF(6, alpha_W=a, **common).fit(X).activations(times))
        for a in (0.0, 0.1, 0.3)
    ]
    assert np.all(np.diff(hoyer) > 0.03), hoyer


# -- the separator on the same layer -------------------------------------------

SR, N_FFT = 8000, 512
VOICE_B = dict(formants=(400.0, 2000.0, 2800.0), formant_bandwidths=(100.0, 150.0, 250.0))


@pytest.fixture(scope="module")
def speech_and_buzz():
    """A trained 'speaker' and an untrained harmonic 'instrument' at 0 dB."""
    train_a = [
        harmonic_source(sr=SR, duration=0.8, f0=(110.0, 150.0), random_state=10)[0],
        harmonic_source(sr=SR, duration=0.7, f0=(150.0, 115.0), random_state=12)[0],
    ]
    a = harmonic_source(sr=SR, duration=1.0, f0=(125.0, 140.0), random_state=0)[0]
    b = harmonic_source(sr=SR, duration=1.0, f0=(330.0, 330.0), random_state=1,
                        syllable_rate=1.0, **VOICE_B)[0]
    mixture, a, b = two_source_mixture(a, b, snr_db=0.0)
    return train_a, mixture, np.stack([a, b])


def test_free_components_explain_the_untrained_source(speech_and_buzz):
    train_a, mixture, truth = speech_and_buzz
    base = MatrixNMF(8, random_state=0)
    sep = fit_separator([train_a], SR, estimator=base, n_fft=N_FFT, max_iter=100,
                        random_state=0)
    assert list(sep._output_names()) == ["source_0"]
    sdr = {}
    for n_free in (0, 4):
        sep.set_params(n_free_components=n_free)
        est = separate_mixture(sep, mixture, SR, n_fft=N_FFT)
        assert est.shape == (1 + (n_free > 0), mixture.size)
        sdr[n_free] = bss_eval(truth[:1], est[:1], compute_permutation=False).sdr[0]
    assert sep.get_feature_names_out().tolist()[-1] == "source_unknown"
    assert sdr[4] > sdr[0] + 2.0, sdr


def test_free_components_output_sums_to_mixture(speech_and_buzz):
    train_a, mixture, _ = speech_and_buzz
    sep = fit_separator([train_a], SR, estimator=MatrixNMF(4, random_state=0), n_fft=N_FFT,
                        random_state=0)
    from sklearn_innmf.representations import stft_points

    X = stft_points(mixture, sr=SR, n_fft=N_FFT)
    Z = sep.set_params(n_free_components=2, max_iter=30).transform(X)
    assert Z.shape == (len(X), 2 + 2)
    np.testing.assert_allclose(Z[:, 2:].sum(axis=1), X[:, 2], rtol=1e-10, atol=1e-12)
    assert Z[:, 3].sum() > 0.05 * X[:, 2].sum()


def test_unknown_label_is_refused_with_free_components():
    rng = np.random.RandomState(0)
    X = np.column_stack([np.repeat(np.arange(10.0), 5), np.tile(np.arange(5.0), 10), rng.rand(50)])
    with pytest.raises(ValueError, match="labelled 'unknown'"):
        SupervisedSeparator(MatrixNMF(1, max_iter=2), n_free_components=1).fit(
            X, np.repeat(["unknown", "b"], 25)
        )


def test_separator_sparsity_and_cross_source_penalty(speech_and_buzz):
    """More sparsity: sparser mixture activations; a cross-source penalty:
    less of the two sources in the same frame."""
    from sklearn_innmf.representations import stft_points

    train_a, mixture, truth = speech_and_buzz
    buzz = harmonic_source(sr=SR, duration=1.0, f0=(330.0, 330.0), random_state=5,
                           syllable_rate=1.0, **VOICE_B)[0]
    sep = fit_separator([train_a, [buzz]], SR, estimator=MatrixNMF(6, random_state=0),
                        n_fft=N_FFT, random_state=0)
    X = stft_points(mixture, sr=SR, n_fft=N_FFT)
    hoyer, overlap = [], []
    for s in (0.0, 0.05, 0.2):
        joint = sep.set_params(sparsity=s).mixture_activations(X)
        hoyer.append(hoyer_sparsity(joint))
    assert np.all(np.diff(hoyer) > 0), hoyer
    for c in (0.0, 1.0):
        V = sep.set_params(sparsity=0.0, cross_source_penalty=c)._source_models(X)
        overlap.append(float(np.minimum(V[:, 0], V[:, 1]).sum() / V.sum()))
    assert overlap[1] < overlap[0], overlap


# -- non-negative autoencoders as sources (eq. 8) ------------------------------


@pytest.fixture(scope="module", name="two_speakers")
def two_speakers_fixture():
    return two_speakers(SR)


@pytest.fixture(scope="module")
def nae_separator(two_speakers):
    from sklearn_innmf.models.autoencoder import NonNegativeAutoencoder

    train, _, _ = two_speakers
    return fit_separator(train, SR, estimator=NonNegativeAutoencoder(8, max_iter=300,
                                                                      random_state=0),
                         n_fft=N_FFT, max_iter=100, random_state=0)


def test_autoencoder_sources_separate(nae_separator, two_speakers):
    """Measured: 14.6 / 15.9 dB (MatrixNMF(8): 14.2 / 14.9 dB)."""
    _, mixture, truth = two_speakers
    est = separate_mixture(nae_separator, mixture, SR, n_fft=N_FFT)
    sdr = bss_eval(truth, est, compute_permutation=False).sdr
    assert np.all(sdr > 10.0), sdr


def test_autoencoder_sources_frames_independent_and_sum(nae_separator, two_speakers):
    from sklearn_innmf.representations import stft_points

    _, mixture, _ = two_speakers
    X = stft_points(mixture, sr=SR, n_fft=N_FFT)
    Z = nae_separator.transform(X)
    np.testing.assert_allclose(Z[:, 2:].sum(axis=1), X[:, 2], rtol=1e-10, atol=1e-12)
    times = np.unique(X[:, 0])
    some = np.isin(X[:, 0], times[5:12])
    np.testing.assert_allclose(nae_separator.transform(X[some]), Z[some], rtol=1e-9,
                               atol=1e-12)
    H = nae_separator.mixture_activations(X)
    assert H.shape == (times.size, 16) and H.min() >= 0


def test_autoencoder_sources_refuse_what_needs_templates(two_speakers):
    from sklearn_innmf.models.autoencoder import NonNegativeAutoencoder

    from sklearn_innmf.separation import training_points

    train, _, _ = two_speakers
    X, y = training_points(train, SR, n_fft=N_FFT)
    for params, match in [
        (dict(activations="implicit"), "activations='implicit' needs templates"),
        (dict(n_free_components=2), "n_free_components needs table templates"),
    ]:
        sep = SupervisedSeparator(NonNegativeAutoencoder(2, max_iter=5), **params)
        with pytest.raises(ValueError, match=match):
            sep.fit(X, y)


# -- ImplicitNMF with other beta-divergences ------------------------------------


@pytest.mark.parametrize("beta_loss", ["itakura-saito", 0.5, 1.5, "frobenius"])
@pytest.mark.parametrize("time_factor", ["implicit", "table"])
def test_implicit_nmf_other_betas_fit(beta_loss, time_factor):
    """Finite gradients everywhere (beta in (1, 2): the model is floored
    where a softplus underflows) and a loss that falls by half or more."""
    X, times = sparse_grid()
    X[:, 2] += 0.01  # > 0 for Itakura-Saito
    est = ImplicitNMF(4, beta_loss=beta_loss, time_factor=time_factor, hidden_size=16,
                      n_layers=2, max_iter=60, random_state=0).fit(X)
    assert np.all(np.isfinite(est.loss_curve_))
    assert est.loss_curve_[-1] < 0.5 * est.loss_curve_[0], est.loss_curve_[::10]
    assert est.score(X) == pytest.approx(-est.loss_curve_[-1], rel=0.05)


def test_beta_between_one_and_two_has_finite_gradient_at_zero():
    from sklearn_innmf.divergences import beta_divergence

    y = torch.tensor([0.0, 1e-30, 0.5], requires_grad=True)
    x = torch.tensor([1.0, 1.0, 1.0])
    beta_divergence(x, y, 1.5).backward()
    assert torch.all(torch.isfinite(y.grad)), y.grad


def test_implicit_templates_outside_the_training_range_warn():
    X, times = sparse_grid()
    est = ImplicitNMF(2, hidden_size=8, n_layers=1, max_iter=5, random_state=0).fit(X)
    lo, hi = est.coordinate_ranges_[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        est.templates(np.linspace(lo, hi, 7))  # inside: quiet
        MatrixNMF(2, max_iter=5, tol=0).fit(X).templates([hi + 100.0])  # tables: edge values
    with pytest.warns(UserWarning, match=r"1 of 2 value\(s\) of axis 1 lie outside the training"):
        est.templates([lo, hi * 2 + 10.0])
