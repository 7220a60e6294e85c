"""Where ImplicitNMF's gap to linear interpolation comes from.

A diagnosis of the last column of ``reconstruction.py`` (paper Table 1), with
its protocol: per speaker, K=20 templates learned at ``n_fft=2000`` from the
training sentences, then every sentence explained at each size with the
templates frozen. Four template sets, each explained by the same KL
multiplicative updates of the activations from the same constant start:

* ``network``: ImplicitNMF's templates sampled at each size's bins (what
  ``reconstruction.py`` measures);
* ``network at training bins, linear``: the same networks sampled only at the
  training bins and linearly interpolated between them;
* ``NMF interp.``: MatrixNMF's 2000-point templates linearly interpolated
  (the baseline);
* ``NMF re-fitted``: MatrixNMF trained again at each size.

``network at training bins, linear`` over ``NMF interp.`` compares the two
models' values *at* the training bins (the interpolation is the same);
``network`` over ``network at training bins, linear`` is what the networks do
*between* the bins. The script also reports the networks' overshoot between
bins: the template mass, on a grid 8 times finer than the training bins, that
lies above both neighbouring bins' values, as a fraction of the template mass.

    python benchmarks/interpolation_gap.py [WAV_FOLDER] [--quick] [--out DIR]

Prints Markdown; saves ``interpolation_gap.png`` (the template with the most
overshoot: the network between the bins against its values at the bins) in
``--out``.
"""

import numpy as np
import torch

from reconstruction import parse_arguments, save_figure, train_models
from sklearn_innmf.divergences import beta_divergence
from sklearn_innmf.representations import points_to_grid

SETS = ("network", "network at training bins, linear", "NMF interp.", "NMF re-fitted")
FINE = 8  # evaluation points per training bin for the overshoot


def explain(V, W, n_iter):
    """Mean KL per cell of V (F x T) explained by fixed templates W (F x K):
    ``n_iter`` multiplicative updates of the activations from a constant start."""
    V = torch.as_tensor(V, dtype=torch.float64)
    W = torch.as_tensor(W, dtype=torch.float64).clamp_min(1e-12)
    H = torch.full((W.shape[1], V.shape[1]), float(V.mean() / W.mean() / W.shape[1]),
                   dtype=torch.float64)
    column_sums = W.sum(0)[:, None]
    for _ in range(n_iter):
        H *= (W.T @ (V / (W @ H).clamp_min(1e-12))) / column_sums
    return float(beta_divergence(V, W @ H, 1.0))


def linear(bins, W):
    """Templates W known at ``bins``, linearly interpolated to ``freqs``."""
    return lambda freqs: np.stack([np.interp(freqs, bins, w) for w in W.T], axis=1)


def overshoot(network, bins, W_bins):
    """Per template: the mass above both neighbouring bins' values
    (``W_bins = network(bins)``), between the bins, over the template's mass
    (on a grid FINE times finer)."""
    steps = np.arange(FINE) / FINE
    fine = (bins[:-1, None] + steps * np.diff(bins)[:, None]).ravel()
    W_fine = network(fine).reshape(bins.size - 1, FINE, -1)
    upper = np.maximum(W_bins[:-1], W_bins[1:])[:, None, :]
    excess = np.clip(W_fine - upper, 0, None).sum(axis=(0, 1))
    return excess / W_fine.sum(axis=(0, 1)), fine, W_fine.reshape(fine.size, -1)


def evaluate_speaker(paths, sr, args, log):
    signals, _, points, implicit, matrix = train_models(paths, sr, args, log)
    bins = np.arange(args.train_size // 2 + 1) * sr / args.train_size
    W_bins = implicit.templates(bins)
    template_sets = {
        "network": lambda n: implicit.templates,
        "network at training bins, linear": lambda n: linear(bins, W_bins),
        "NMF interp.": lambda n: linear(bins, matrix[args.train_size].templates(bins)),
        "NMF re-fitted": lambda n: matrix[n].templates,
    }
    kl = {}
    for n_fft in args.sizes:
        grids = [points_to_grid(points(y, n_fft)) for y in signals]
        if any(np.isnan(V).any() for V, _, _ in grids):
            raise ValueError(f"an STFT of n_fft={n_fft} does not fill its grid")
        for name, make in template_sets.items():
            templates = make(n_fft)
            for V, _, freqs in grids:
                kl.setdefault((n_fft, name), []).append(
                    explain(V, templates(freqs), args.matrix_iter))
    fraction, fine, W_fine = overshoot(implicit.templates, bins, W_bins)
    return kl, fraction, (bins, W_bins, fine, W_fine)


def main():
    args, groups, sr = parse_arguments(__doc__.splitlines()[0])

    rows, fractions, worst = {}, {}, None
    for name, paths in groups.items():
        print(f"{name}: {len(paths)} WAVs", flush=True)
        kl, fraction, curves = evaluate_speaker(paths, sr, args, lambda m: print(m, flush=True))
        fractions[name] = fraction
        k = int(np.argmax(fraction))
        if worst is None or fraction[k] > worst[0]:
            worst = (fraction[k], name, k, curves)
        for n_fft in args.sizes:
            base = np.array(kl[n_fft, "NMF interp."])
            rows[name, n_fft] = [np.mean(np.array(kl[n_fft, s]) / base) for s in SETS]

    mode = (f"{args.implicit_iter} iN-NMF Rprop steps, {args.matrix_iter} NMF iterations, "
            f"{'quick' if args.quick else 'full'} run")
    print(f"\n## Where ImplicitNMF's gap to linear interpolation comes from\n\n"
          f"`benchmarks/interpolation_gap.py`: the protocol of `reconstruction.py` "
          f"(K={args.components}, templates trained at n_fft={args.train_size}, {mode}, "
          f"seed {args.seed}), every template set explained by the same {args.matrix_iter} "
          f"KL multiplicative updates of the activations. Mean per-sentence KL over that "
          f"of *NMF interp.* (below 1: better than interpolation).\n")
    print("| speaker | n_fft | " + " | ".join(SETS) + " |")
    print("|---|---:|" + "---:|" * len(SETS))
    for (name, n_fft), ratios in rows.items():
        print(f"| {name} | {n_fft} | " + " | ".join(f"{r:.4f}" for r in ratios) + " |")
    print(f"\nOvershoot of the networks between the training bins (mass above both "
          f"neighbouring bins, on a grid {FINE}x finer, over the template's mass):\n")
    print("| speaker | median template | worst template |")
    print("|---|---:|---:|")
    for name, fraction in fractions.items():
        print(f"| {name} | {np.median(fraction):.2%} | {fraction.max():.2%} |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, name, k, (bins, W_bins, fine, W_fine) = worst
    fig, axes = plt.subplots(2, 1, figsize=(10, 5.5))
    # zoom on the largest excursion above the linear interpolation of the bins
    spike = fine[np.argmax(W_fine[:, k] - np.interp(fine, bins, W_bins[:, k]))]
    for ax, (lo, hi) in zip(axes, [(0, sr / 2), (spike - 80, spike + 80)]):
        s, sb = (fine >= lo) & (fine <= hi), (bins >= lo) & (bins <= hi)
        ax.plot(fine[s], W_fine[s, k], lw=0.8, label="network, between the bins")
        ax.plot(bins[sb], W_bins[sb, k], "o-", ms=2.5, lw=0.6,
                label="network at the training bins, linear")
        ax.set(xlim=(lo, hi), ylabel="template value")
    axes[0].set_title(f"{name}, template {k}: overshoot {worst[0]:.1%} of its mass")
    axes[1].set_xlabel("frequency (Hz)")
    axes[1].set_title("zoom on its largest excursion above the line between two bins",
                      fontsize=9)
    axes[0].legend(fontsize=8)
    save_figure(fig, args.out, "interpolation_gap.png", dpi=110)


if __name__ == "__main__":
    main()
