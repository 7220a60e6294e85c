"""
Classic NMF and iN-NMF, side by side
====================================

A step-by-step comparison for a class: the same spectrogram factorised by
classic NMF (:class:`~sklearn_innmf.MatrixNMF`, and
:class:`sklearn.decomposition.NMF` for reference: the same numbers) and by
implicit-neural NMF (:class:`~sklearn_innmf.ImplicitNMF`, after Subramani et
al., arXiv:2404.04439).

Both minimise the same Kullback-Leibler divergence with the same model,
``m(t, f) ~= sum_k W_k(f) H_k(t)``. They differ in what a factor *is*: for
classic NMF, ``W_k`` is a table with one number per frequency bin; for
iN-NMF it is a small neural network, a function of frequency defined between
the bins too. The last section shows what that buys.
"""

# %%
# The signal
# ----------
# Two piano-like notes, A3 (220 Hz) then E4 (330 Hz), then both together:
# 1.8 s, synthesised (nothing is downloaded). Two notes, so we ask for two
# components.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import NMF

from sklearn_innmf import ImplicitNMF, MatrixNMF, grid_to_points, points_to_grid
from sklearn_innmf.datasets import piano_notes
from sklearn_innmf.plotting import plot_points
from sklearn_innmf.representations import stft_points

n_fft, hop_length, K = 512, 128, 2  # the STFT, and two components for two notes
max_iter = 400  # for every fit below; most stop earlier, on their tolerance
sizes = (256, 384, 512, 768, 1024)  # the STFT sizes of the last section
# sphinx_gallery_start_ignore
# The test suite sets SKLEARN_INNMF_EXAMPLES_QUICK=1 to run the examples in
# seconds (this block is hidden in the rendered gallery).
import os

if os.environ.get("SKLEARN_INNMF_EXAMPLES_QUICK", "0") not in ("", "0"):
    max_iter, sizes = 40, (256, 1024)
# sphinx_gallery_end_ignore

y, sr = piano_notes(("A3", "E4"), sr=8000, random_state=0)
print(f"{y.size / sr:.1f} s at sr={sr} Hz")

# %%
# The spectrogram as a matrix
# ---------------------------
# librosa (like most audio code) returns a spectrogram ``V`` of shape
# ``(n_freqs, n_frames)``: frequency along the rows. We use ``|X| ** 0.5``,
# as the paper does, and divide by the mean so that the numbers are easy to
# read (NMF is scale-equivariant: this changes no template shape).
X = stft_points(y, sr=sr, n_fft=n_fft, hop_length=hop_length, power=0.5)
V, times, freqs = points_to_grid(X)
V = V / V.mean()
print(f"V: {V.shape[0]} frequencies x {V.shape[1]} frames")

top = np.percentile(V, 99.5)  # a colour scale for the partials, not the attacks
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
mesh = ax.pcolormesh(times, freqs, V, shading="nearest", cmap="magma", vmax=top)
ax.set(ylim=(0, 2500), xlabel="Time (s)", ylabel="Frequency (Hz)", title="V (freqs x frames)")
fig.colorbar(mesh, ax=ax, label="|X| ** 0.5 / mean")

# %%
# Here is the trap. :class:`sklearn.decomposition.NMF` factorises an
# ``(n_samples, n_features)`` matrix into ``W (n_samples, K)`` and
# ``components_ (K, n_features)``. For a spectrogram the *frames* are the
# samples and the frequencies the features, so it needs ``V.T``; handed ``V``
# it runs without complaint and returns "templates" that are functions of
# time. (librosa's :func:`librosa.decompose.decompose` transposes for you and
# says so in its documentation.)
# (50 fixed steps, ``tol=0``: only the shapes matter here.)
wrong_way = NMF(K, solver="mu", beta_loss="kullback-leibler", max_iter=50, tol=0).fit(V)
print(f"NMF().fit(V).components_ has shape {wrong_way.components_.shape}: one value per frame")

# %%
# The same spectrogram as points
# ------------------------------
# A point array has one row per observation, ``(t, f, m)``, so there is no
# orientation to get wrong: every row says where it is.
X = grid_to_points(V, times, freqs)
print(X[:3])
print(f"{len(X)} points = {len(freqs)} frequencies x {len(times)} frames")

fig = plot_points(X, power=0.5)
fig.axes[0].set_title("The same data as (t, f, m) points")

# %%
# Classic NMF, twice
# ------------------
# scikit-learn on the transposed matrix, and :class:`~sklearn_innmf.MatrixNMF`
# on the points. Same algorithm (Lee & Seung's multiplicative updates for
# the KL divergence), same initialisation (NNDSVDa), same stopping rule.
# (MatrixNMF computes the initialisation on ``m / mean(m)``, so that it does
# not depend on the unit of ``m``; our ``V`` has mean 1, so both start from
# exactly the same factors.)
sk = NMF(K, solver="mu", beta_loss="kullback-leibler", init="nndsvda", max_iter=max_iter)
H_sklearn = sk.fit_transform(V.T)  # (n_frames, K): the activations
W_sklearn = sk.components_.T  # (n_freqs, K): the templates
nmf = MatrixNMF(K, init="nndsvda", max_iter=max_iter, dtype="float64").fit(X)

print(f"iterations: sklearn {sk.n_iter_}, MatrixNMF {nmf.n_iter_}")
print(f"max |W difference| = {np.abs(nmf.templates(freqs) - W_sklearn).max():.1e}")
print(f"max |H difference| = {np.abs(nmf.activations(times) - H_sklearn).max():.1e}")

# %%
# The numbers agree to rounding. (``dtype="float64"`` makes the comparison
# exact; the default, float32, is faster and agrees to float32 precision.) So
# everything below said of :class:`~sklearn_innmf.MatrixNMF` is said of
# classic NMF.
#
# iN-NMF
# ------
# :class:`~sklearn_innmf.ImplicitNMF` fits the same model, but ``W_k(f)`` is
# a network: the frequency scaled to [0, 1], Fourier features
# ``cos, sin(2^j pi x + phase_j)`` for ``j < encoding_size``, sine layers,
# softplus. It is trained by gradient steps (Rprop), not multiplicative
# updates. The activations can be networks too (``time_factor="implicit"``,
# the default); here we keep them a free value per frame, updated
# multiplicatively as in classic NMF (``time_factor="table"``, Sec. 3.1 of
# the paper), so that the two models differ in one thing only: the
# templates. ``encoding_size=6`` (a finest Fourier period of 4000 Hz / 2^4 =
# 250 Hz; the sine layers draw sharper peaks than that) is enough for these
# partials; the last section says why more is not better.
inmf = ImplicitNMF(K, encoding_size=6, time_factor="table", max_iter=max_iter, random_state=0)
inmf.fit(X)

print(f"mean KL per point: MatrixNMF {-nmf.score(X):.4f}, ImplicitNMF {-inmf.score(X):.4f}")

# %%
# ``score`` is minus the mean KL divergence per point, so higher is better
# and :class:`~sklearn.model_selection.GridSearchCV` can maximise it (see
# :ref:`sphx_glr_auto_examples_plot_grid_search.py`).
#
# Templates: a table and a function
# ---------------------------------
# Both estimators answer ``templates(freqs)`` at any frequency. For
# MatrixNMF the answer between two bins is a linear interpolation of the
# table (``interpolation="linear"``; ``None`` refuses): the dots are what was
# learned, the lines are drawn by the interpolation rule. For ImplicitNMF the
# network *is* the template: it is evaluated at 4000 frequencies here.
fine = np.linspace(0, sr / 2, 4000)

# The scale of W is arbitrary (it trades with H's), its shape is not: each
# template is drawn divided by its maximum.

fig, axes = plt.subplots(2, 1, figsize=(7, 5), sharex=True, layout="constrained")
for ax, est, name in zip(axes, (nmf, inmf), ("MatrixNMF", "ImplicitNMF")):
    peak = est.templates(fine).max(axis=0)
    for k in range(K):
        ax.plot(fine, est.templates(fine)[:, k] / peak[k], color=f"C{k}", lw=1, label=f"W_{k}(f)")
        if est is nmf:
            ax.plot(freqs, est.templates(freqs)[:, k] / peak[k], ".", color=f"C{k}", ms=5)
    ax.set(title=name, ylabel="template / max")
    ax.legend(loc="upper right")
axes[-1].set(xlim=(150, 1100), xlabel="Frequency (Hz)")

# %%
# The two fits find the same notes (partials of A3 at 220, 440, 660 Hz...,
# of E4 at 330, 660, 990 Hz...). The zoom shows the difference in kind:
# MatrixNMF's template is 257 numbers joined by straight lines; ImplicitNMF's
# is one smooth curve, through nearly the same values at the bins.
fig, ax = plt.subplots(figsize=(7, 3), layout="constrained")
zoom = (fine > 180) & (fine < 270)
at_bins = (freqs > 180) & (freqs < 270)
for est, name, colour in ((nmf, "MatrixNMF", "C0"), (inmf, "ImplicitNMF", "C3")):
    peak = est.templates(fine)[:, 0].max()
    ax.plot(fine[zoom], est.templates(fine[zoom])[:, 0] / peak, "-", color=colour, label=name)
    ax.plot(freqs[at_bins], est.templates(freqs[at_bins])[:, 0] / peak, "o", color=colour)
ax.set(xlabel="Frequency (Hz)", ylabel="W_0(f) / max", title="Around the 220 Hz partial")
ax.legend()

# %%
# Activations and reconstructions
# -------------------------------
# ``activations(times)`` samples ``H`` the same way; here both are tables,
# linear between frames. Mind the scale: a product ``W H`` can trade a factor
# ``c`` between ``W`` and ``H``, so compare shapes, not heights.
fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True, layout="constrained")
fine_t = np.linspace(times[0], times[-1], 1000)
for ax, est, name in zip(axes, (nmf, inmf), ("MatrixNMF", "ImplicitNMF")):
    ax.plot(fine_t, est.activations(fine_t), lw=1)
    ax.set(title=name, xlabel="Time (s)")
axes[0].set_ylabel("H_k(t)")

# %%
# ``transform`` gives each component's value at each point and
# ``inverse_transform`` their sum, the model ``m_hat``, as points again.
fig, axes = plt.subplots(1, 3, figsize=(10, 3), sharey=True, layout="constrained")
panels = [("V", V)]
for est, name in ((nmf, "MatrixNMF"), (inmf, "ImplicitNMF")):
    V_hat, _, _ = points_to_grid(est.inverse_transform(est.transform(X)))
    panels.append((name, V_hat))
for ax, (name, grid) in zip(axes, panels):
    ax.pcolormesh(times, freqs, grid, shading="nearest", cmap="magma", vmax=top)
    ax.set(title=name, ylim=(0, 2500), xlabel="Time (s)")
axes[0].set_ylabel("Frequency (Hz)")

# %%
# Training curves
# ---------------
# ``loss_curve_`` holds the mean KL per point during training. MatrixNMF,
# like scikit-learn, measures it every 10 iterations (the stopping rule's
# checks); ImplicitNMF at every step. An iteration of classic NMF is a few
# matrix products. A step of iN-NMF runs the template networks once per
# *unique* frequency (257 evaluations here, not one per point: 29 041), takes
# a gradient step, and gives the activation table three multiplicative
# updates.
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
iters = np.minimum(10 * np.arange(len(nmf.loss_curve_)), nmf.n_iter_)
ax.semilogy(iters, nmf.loss_curve_, "o-", label="MatrixNMF (every 10 iterations)")
ax.semilogy(inmf.loss_curve_, label="ImplicitNMF")
ax.set(xlabel="iteration", ylabel="mean KL per point", title="Training")
ax.legend()

# %%
# What only iN-NMF can do: another STFT size
# ------------------------------------------
# Take the same signal analysed with other FFT sizes. The frequency bins are
# now elsewhere (``k * sr / n_fft``). ``fit_activations`` keeps an
# estimator's templates frozen and learns only new activations for the new
# points:
#
# * ImplicitNMF evaluates its template networks at the new bins;
# * MatrixNMF has no value there: it interpolates its table (the baseline
#   the paper argues against);
# * as a reference, MatrixNMF re-fitted from scratch at each size.
print("n_fft | ImplicitNMF | MatrixNMF interpolated | MatrixNMF re-fitted")
for size in sizes:
    X_new = stft_points(y, sr=sr, n_fft=size, hop_length=hop_length, power=0.5)
    X_new[:, -1] /= X_new[:, -1].mean()
    kl_inmf = -inmf.fit_activations(X_new).score(X_new)
    kl_interp = -nmf.fit_activations(X_new).score(X_new)
    kl_refit = -MatrixNMF(K, max_iter=max_iter).fit(X_new).score(X_new)
    print(f"{size:5d} | {kl_inmf:11.4f} | {kl_interp:22.4f} | {kl_refit:19.4f}")

# %%
# Read the table row by row: the magnitudes change with ``n_fft``, so rows
# are not comparable with each other.
#
# * At 512 there is nothing to transfer and all three agree.
# * 256 puts its bins on every second bin of 512, and 1024 on every bin and
#   halfway between; 384 and 768 put most of their bins where neither model
#   was trained. That is where the two definitions of a template between
#   bins differ.
# * The re-fitted model is best everywhere, as it should be: with a shorter
#   FFT each partial's peak is wider (narrower with a longer one), a change
#   that no frozen template follows.
# * On this clean two-note signal the network does not beat linear
#   interpolation of the table by much, if at all: a windowed partial's peak
#   is smooth, and straight lines between bins 15.6 Hz apart follow it well.
#
# So what differs here is less the numbers than what each model had to
# assume. MatrixNMF needs an interpolation rule, chosen by hand
# (``interpolation="linear"``, ``"nearest"``, or ``None`` to refuse unseen
# frequencies). ImplicitNMF's templates are defined at every frequency, so
# one model takes STFTs of any size, constant-Q transforms or irregular
# points (reassigned spectrograms, sinusoidal peaks) without a choice to
# make: see :ref:`sphx_glr_auto_examples_plot_hybrid_representation.py`. The
# paper's own cross-resolution experiment, on speech with 20 components and
# FFT sizes 1000 to 2500, is reproduced on the :doc:`benchmarks page
# </benchmarks>`.
#
# One caveat: between the bins, a network is only as well behaved as its
# Fourier features let it be. With a larger ``encoding_size`` (try 8 or 10
# here) it fits the 257 training bins no better, but with curves that can
# wiggle between them, and the transfer gets clearly worse than
# interpolation. Prefer the smallest ``encoding_size`` that fits. A
# cross-validation over points (:ref:`sphx_glr_auto_examples_plot_grid_search.py`)
# measures the fit; only points at other frequencies test the in-between.
plt.show()
