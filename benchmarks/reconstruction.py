"""Reconstruction across STFT sizes: the iN-NMF paper's Table 1.

One speaker at a time: a K=20 dictionary is learned from the speaker's
training sentences (all but the last two WAVs, concatenated) and every
sentence, training and held-out, is then explained at each STFT size with
``fit_activations`` (templates frozen, activations learned). Three sources of
templates:

* ``ImplicitNMF @2000``: trained once at ``n_fft=2000`` (table time factor);
  its templates are functions of frequency, sampled at each size's bins.
* ``MatrixNMF re-fitted``: trained again at each size, the best a table of
  templates can do there (the paper's reference).
* ``MatrixNMF @2000 interp.``: trained at 2000, its templates linearly
  interpolated to each size's bins (the baseline the paper argues against).

The score is the mean KL divergence per point of |X|^0.5 (hop n_fft // 4,
Hann window of n_fft samples), in the magnitudes' units, so compare models at
one size (the ratios), not sizes. The tables give the mean and standard deviation over sentences, and
ImplicitNMF's ratio to each baseline (mean of the per-sentence ratios).

    python benchmarks/reconstruction.py [WAV_FOLDER] [--quick] [--out DIR]

``WAV_FOLDER`` (default ``../shared/data/speech``) holds one sub-folder of
WAVs per speaker, or WAVs directly (one speaker). Prints Markdown; saves
``reconstruction.png`` (KL per size, per model) in ``--out``.
"""

import argparse
import glob
import os
import time

import numpy as np
import torch

from sklearn_innmf import ImplicitNMF, MatrixNMF
from sklearn_innmf.datasets import load_audio
from sklearn_innmf.representations import stft_points

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "speech"))
MODELS = ("ImplicitNMF @{train}", "MatrixNMF re-fitted", "MatrixNMF @{train} interp.")


def speakers(folder):
    """``{name: [wav paths]}``: one entry per sub-folder of WAVs, or the folder itself."""
    folder = os.path.abspath(folder)
    groups = {}
    for sub in sorted(os.listdir(folder)):
        wavs = sorted(glob.glob(os.path.join(folder, sub, "*.wav")))
        if wavs:
            groups[sub] = wavs
    if not groups:
        wavs = sorted(glob.glob(os.path.join(folder, "*.wav")))
        if wavs:
            groups[os.path.basename(folder)] = wavs
    if not groups:
        raise SystemExit(f"no WAV files in {folder} or its sub-folders")
    return groups


def train_models(paths, sr, args, log):
    """One speaker's sentences and its models: the networks trained at
    ``args.train_size`` and MatrixNMF at every size, all on the training
    sentences (all but the last two WAVs, concatenated).

    Returns ``(signals, n_train, points, implicit, matrix)``, where
    ``points(y, n_fft)`` is the STFT point array of a signal and ``matrix``
    maps each size to its MatrixNMF. Every model is left set to explain a
    sentence the same way: ``args.matrix_iter`` multiplicative updates of the
    activations, no early stop.
    """
    signals = [load_audio(p, sr=sr)[0] for p in paths]
    n_train = max(1, len(signals) - 2)
    train = np.concatenate(signals[:n_train])

    def points(y, n_fft):
        return stft_points(y, sr=sr, n_fft=n_fft, hop_length=n_fft // 4, power=args.power)

    K, seed = args.components, args.seed
    # the paper trains for a fixed number of steps: tol=0, as for MatrixNMF below
    implicit_params = dict(time_factor="table", max_iter=args.implicit_iter, tol=0.0,
                           random_state=seed)
    if args.encoding_size is not None:
        implicit_params["encoding_size"] = args.encoding_size
    t0 = time.perf_counter()
    implicit = ImplicitNMF(K, **implicit_params).fit(points(train, args.train_size))
    log(f"  ImplicitNMF at n_fft={args.train_size}: {implicit.n_iter_} steps, "
        f"{time.perf_counter() - t0:.0f} s")
    matrix = {}
    for n_fft in sorted({*args.sizes, args.train_size}):
        t0 = time.perf_counter()
        matrix[n_fft] = MatrixNMF(K, max_iter=args.matrix_iter, tol=0,
                                  random_state=seed).fit(points(train, n_fft))
        log(f"  MatrixNMF at n_fft={n_fft}: {matrix[n_fft].n_iter_} iterations, "
            f"{time.perf_counter() - t0:.1f} s")
    for model in (implicit, *matrix.values()):
        model.set_params(max_iter=args.matrix_iter, tol=0)
    return signals, n_train, points, implicit, matrix


def evaluate_speaker(paths, sr, args, log):
    """Per-sentence KL at every size, for the three models: ``{(size, model): [kl]}``."""
    signals, n_train, points, implicit, matrix = train_models(paths, sr, args, log)
    kl = {}
    for n_fft in args.sizes:
        models = (implicit, matrix[n_fft], matrix[args.train_size])
        for y in signals:
            X = points(y, n_fft)
            for name, model in zip(MODELS, models):
                kl.setdefault((n_fft, name), []).append(-model.fit_activations(X).score(X))
    return kl, n_train, len(signals)


def parse_arguments(description):
    """The command line shared by the reconstruction benchmarks; sets the
    torch threads and the iteration counts (``args.implicit_iter``,
    ``args.matrix_iter``). Returns ``(args, groups, sr)``: the speakers'
    WAVs (the first only with ``--quick``) and their sampling rate."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA,
                        help="folder of WAVs, or of one sub-folder of WAVs per speaker")
    parser.add_argument("--quick", action="store_true",
                        help="one speaker, fewer training steps (a few minutes)")
    parser.add_argument("--out", default=os.path.join(HERE, "figures"),
                        help="folder for the figure (default: %(default)s)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 1500, 2000, 2500])
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--power", type=float, default=0.5)
    parser.add_argument("--encoding-size", type=int, default=None,
                        help="ImplicitNMF's encoding_size (default: the estimator's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.implicit_iter, args.matrix_iter = (150, 300) if args.quick else (1000, 1000)
    groups = speakers(args.data)
    if args.quick:
        groups = dict(list(groups.items())[:1])
    sr = load_audio(next(iter(groups.values()))[0])[1]
    return args, groups, sr


def main():
    args, groups, sr = parse_arguments(__doc__.splitlines()[0])

    def log(message):
        print(message, flush=True)

    kl, split = {}, {}
    for name, paths in groups.items():
        log(f"{name}: {len(paths)} WAVs")
        speaker_kl, n_train, n_all = evaluate_speaker(paths, sr, args, log)
        split[name] = (n_train, n_all)
        for key, values in speaker_kl.items():
            kl.setdefault(key, []).extend((name, i < n_train, v) for i, v in enumerate(values))

    names = [m.format(train=args.train_size) for m in MODELS]
    n_sentences = sum(n for _, n in split.values())
    n_train = sum(n for n, _ in split.values())
    mode = (f"{args.implicit_iter} iN-NMF Rprop steps, {args.matrix_iter} NMF iterations "
            f"without early stopping, {'quick' if args.quick else 'full'} run")
    print(f"\n## Reconstruction across STFT sizes (paper Table 1)\n\n"
          f"{len(groups)} speaker(s), {n_sentences} sentences ({n_train} used for training), "
          f"sr={sr}, K={args.components}, |X|^{args.power:g}, hop n_fft/4 ({mode}). "
          f"Mean KL per point (|X|^{args.power:g} as analysed) +- std over sentences; every model "
          f"explains each sentence with frozen templates (`fit_activations`, "
          f"{args.matrix_iter} multiplicative updates of the activations).\n")
    print("| n_fft | " + " | ".join(names) + " | ImplicitNMF / re-fitted | "
          "ImplicitNMF / interp. |")
    print("|---:|" + "---:|" * (len(names) + 2))
    ratios = {}
    for n_fft in args.sizes:
        v = [np.array([x for *_, x in kl[n_fft, m]]) for m in MODELS]
        ratios[n_fft] = (np.mean(v[0] / v[1]), np.mean(v[0] / v[2]))
        print(f"| {n_fft} | " + " | ".join(f"{a.mean():.5f} +- {a.std():.5f}" for a in v)
              + f" | {ratios[n_fft][0]:.3f} | {ratios[n_fft][1]:.3f} |")
    print("\nThe same ratios on the held-out sentences only (not used for training):\n")
    print("| n_fft | ImplicitNMF / re-fitted | ImplicitNMF / interp. |")
    print("|---:|---:|---:|")
    for n_fft in args.sizes:
        v = [np.array([x for _, tr, x in kl[n_fft, m] if not tr]) for m in MODELS]
        print(f"| {n_fft} | {np.mean(v[0] / v[1]):.3f} | {np.mean(v[0] / v[2]):.3f} |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax_ratio) = plt.subplots(1, 2, figsize=(10, 3.5))
    per_size = {n_fft: [np.array([x for *_, x in kl[n_fft, m]]) for m in MODELS]
                for n_fft in args.sizes}
    for k, name in enumerate(names):
        offset = np.array(args.sizes) + (k - 1) * 15
        v = [per_size[n_fft][k] for n_fft in args.sizes]
        ax.errorbar(offset, [a.mean() for a in v], yerr=[a.std() for a in v], marker="o",
                    capsize=3, label=name)
        r = [per_size[n_fft][k] / per_size[n_fft][1] for n_fft in args.sizes]
        ax_ratio.errorbar(offset, [a.mean() for a in r], yerr=[a.std() for a in r],
                          marker="o", capsize=3, label=name)
    for a in (ax, ax_ratio):
        a.axvline(args.train_size, color="0.8", zorder=0)
        a.set(xlabel="n_fft", xticks=args.sizes)
    ax.set(ylabel="mean KL per point", title="KL per sentence (mean +- std)")
    ax_ratio.axhline(1.0, color="0.5", lw=0.8)
    ax_ratio.set(ylabel="KL / KL of MatrixNMF re-fitted",
                 title="Per-sentence ratio to NMF re-fitted at that size")
    ax.legend(fontsize=8)
    save_figure(fig, args.out, "reconstruction.png")


def save_figure(fig, folder, name, dpi=120):
    """Save ``fig`` as ``folder/name`` (creating the folder) and say where."""
    fig.tight_layout()
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    print(f"\nFigure: {path}")


if __name__ == "__main__":
    main()
