"""Separation across STFT sizes (the iN-NMF paper's Fig. 5): one iN-NMF model vs NMF.

The iN-NMF paper's speech experiment (Table 1, right): each speaker's model
is trained on 8 sentences; 0 dB mixtures of the two other sentences
(s09 with s09, s10 with s10, cut to the shorter one) are separated with
supervised NMF and Wiener masks, the mixtures analysed at n_fft 1000, 1500,
2000 and 2500 (hop n_fft // 4, |X| ** 0.5, K = 20 per speaker).

* ``ImplicitNMF @2000``: trained once, at n_fft 2000 (the default
  ``encoding_size``, table time factor); its templates are sampled at each size's frequencies.
* ``MatrixNMF re-trained``: trained again at each size (the reference).
* ``MatrixNMF @2000 interp.``: trained at 2000 and linearly interpolated to
  each size, the baseline the paper argues against.

    python benchmarks/separation.py [DATA] [--quick] [--threads N] [--out DIR]

Prints Markdown tables: SDR / SIR / SAR (dB, BSS Eval v3 via fast_bss_eval
or mir_eval, :func:`sklearn_innmf.metrics.bss_eval`) and STOI
(:func:`sklearn_innmf.metrics.stoi`, pystoi), mean, standard deviation and
range over the 2 mixtures x 2 speakers, per STFT size and model; then each
model's SDR minus the re-trained NMF's, paired per source. ``--out DIR``
saves a figure (each metric against n_fft per model, and the paired SDR
differences) and the raw numbers (CSV). ``--quick`` trains for fewer steps
(150 iN-NMF steps, 200 NMF iterations, 100 activation updates per frame
instead of 500, 500, 200): a minute or two on one thread; the full run
takes five to eight minutes.

Needs a speech folder (default ``../shared/data/speech``: spkA, spkB,
s01..s10.wav at 16 kHz), which tests never use.
"""

import argparse
import csv
import os
import sys
import time

import numpy as np
import torch

from sklearn_innmf import ImplicitNMF, MatrixNMF
from sklearn_innmf.datasets import load_audio, two_source_mixture
from sklearn_innmf.metrics import bss_eval, stoi
from sklearn_innmf.separation import fit_separator, separate_mixture

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "speech"))
SPEAKERS = ("spkA", "spkB")
TRAIN = [f"s{i:02d}" for i in range(1, 9)]
TEST = ["s09", "s10"]
METRICS = ("SDR", "SIR", "SAR", "STOI")


def log(*args):
    """Progress, on stderr: stdout is the Markdown report."""
    print(*args, file=sys.stderr, flush=True)


def load(data, speaker, sentence):
    y, sr = load_audio(os.path.join(data, speaker, f"{sentence}.wav"))
    return y.astype(np.float64), sr


def mixtures(data):
    """0 dB mixtures of the test sentences, cut to equal length."""
    out = []
    for sentence in TEST:
        (a, sr), (b, _) = (load(data, s, sentence) for s in SPEAKERS)
        n = min(a.size, b.size)
        mix, a, b = two_source_mixture(a[:n], b[:n], snr_db=0.0)
        out.append((sentence, mix, np.stack([a, b]), sr))
    return out


def evaluate(separator, mixes, n_fft, power):
    """SDR, SIR, SAR (dB) and STOI of every separated source.

    Returns an array (4, n_mixtures * n_speakers): metrics in the order of
    ``METRICS``, sources ordered mixture by mixture, speaker by speaker.
    """
    scores = []
    for _, mix, truth, sr in mixes:
        est = separate_mixture(separator, mix, sr, n_fft=n_fft, power=power)
        r = bss_eval(truth, est, compute_permutation=False)
        intelligibility = [stoi(ref, e, sr) for ref, e in zip(truth, est)]
        scores.append(np.stack([r.sdr, r.sir, r.sar, intelligibility]))
    return np.concatenate(scores, axis=1)


def summary(values, digits=2):
    """``mean ± std`` (population std over the sources)."""
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def save_figure(rows, names, sizes, train_size, path):
    """Each metric against n_fft (mean, error bar: std over the sources), and the
    SDR difference to the re-trained NMF, paired per source (dots: sources)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(METRICS) + 1, figsize=(16, 3.6), layout="constrained")
    markers = ("o", "s", "^")
    sizes = np.asarray(sizes)
    step = 0.02 * (sizes.max() - sizes.min() or sizes.max())  # side by side
    for j, (ax, metric) in enumerate(zip(axes, METRICS)):
        for i, name in enumerate(names):
            vals = np.array([rows[(n, name)][j] for n in sizes])  # (sizes, sources)
            ax.errorbar(sizes + (i - 1) * step, vals.mean(axis=1), yerr=vals.std(axis=1),
                        marker=markers[i % 3], color=f"C{i}", capsize=3, label=name)
        ax.set(xlabel="n_fft", title=metric + (" (dB)" if metric != "STOI" else ""),
               xticks=sizes)
    ax = axes[-1]
    for i, name in enumerate(names):
        if name == "MatrixNMF re-trained":
            continue
        diff = np.array([rows[(n, name)][0] - rows[(n, "MatrixNMF re-trained")][0]
                         for n in sizes])
        x = sizes + (i - 1) * step
        ax.plot(np.repeat(x, diff.shape[1]), diff.ravel(), ".", color=f"C{i}", alpha=0.5)
        ax.plot(x, diff.mean(axis=1), marker=markers[i % 3], color=f"C{i}", label=name)
    ax.axhline(0, color="C1", lw=1)
    ax.set(xlabel="n_fft", title="SDR minus re-trained NMF (dB)", xticks=sizes)
    for ax in axes:
        ax.axvline(train_size, color="0.6", lw=0.8, ls=":")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Separation of 0 dB two-speaker mixtures, models trained at n_fft "
                 f"{train_size} (dotted): mean ± std over 2 mixtures x 2 speakers",
                 fontsize=10)
    fig.savefig(path, dpi=120)
    plt.close(fig)

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=None,
                        help="speech folder (spkA, spkB); same as --data")
    parser.add_argument("--quick", action="store_true",
                        help="fewer training and activation steps (a minute or two on 1 thread)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="speech folder (spkA, spkB)")
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="mixture STFT sizes (default 1000 1500 2000 2500)")
    parser.add_argument("--train-size", type=int, default=2000)
    parser.add_argument("--power", type=float, default=0.5)
    parser.add_argument("--components", type=int, default=20)
    parser.add_argument("--encoding-size", type=int, default=None,
                        help="ImplicitNMF's Fourier-feature octaves (default: the "
                        "estimator's; larger values ripple between the training bins)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None,
                        help="folder for separation.png (metrics vs n_fft) and separation.csv")
    args = parser.parse_args()
    if args.encoding_size is None:
        args.encoding_size = ImplicitNMF().encoding_size
    if args.data_dir is not None:
        args.data = args.data_dir
    if args.sizes is None:
        args.sizes = [1000, 1500, 2000, 2500]
    if args.threads:
        torch.set_num_threads(args.threads)
    if not os.path.isdir(args.data):
        raise SystemExit(f"no speech data at {args.data}; pass the folder: separation.py DIR")

    t_start = time.perf_counter()
    t_retrain = {}
    K, power = args.components, args.power
    # fixed budgets (tol=0): every model trains for the number of steps the report states
    implicit_iter, matrix_iter, act_iter = (150, 200, 100) if args.quick else (500, 500, 200)
    train = {s: [load(args.data, s, t)[0] for t in TRAIN] for s in SPEAKERS}
    sr = load(args.data, SPEAKERS[0], TRAIN[0])[1]
    sources = [train[s] for s in SPEAKERS]
    mixes = mixtures(args.data)
    common = dict(power=power, max_iter=act_iter, random_state=args.seed)

    def fit(estimator, n_fft):
        t0 = time.perf_counter()
        sep = fit_separator(sources, sr, estimator=estimator, n_fft=n_fft, **common)
        return sep, time.perf_counter() - t0

    implicit, t_implicit = fit(
        ImplicitNMF(K, time_factor="table", max_iter=implicit_iter, tol=0.0,
                    encoding_size=args.encoding_size, random_state=args.seed),
        args.train_size,
    )
    log(f"ImplicitNMF trained at n_fft={args.train_size} in {t_implicit:.0f} s "
        f"({[e.n_iter_ for e in implicit.estimators_]} steps)")
    matrix_train, t_matrix = fit(MatrixNMF(K, max_iter=matrix_iter, tol=0.0, random_state=args.seed),
                                 args.train_size)
    log(f"MatrixNMF trained at n_fft={args.train_size} in {t_matrix:.0f} s")

    names = [f"ImplicitNMF @{args.train_size}", "MatrixNMF re-trained",
             f"MatrixNMF @{args.train_size} interp."]
    rows = {}  # (n_fft, name) -> (4, n_sources)
    t_eval = 0.0
    for n_fft in args.sizes:
        if n_fft == args.train_size:
            retrained = matrix_train
        else:
            retrained, t = fit(MatrixNMF(K, max_iter=matrix_iter, tol=0.0, random_state=args.seed), n_fft)
            t_retrain[n_fft] = t
            log(f"MatrixNMF re-trained at n_fft={n_fft} in {t:.0f} s")
        for name, sep in zip(names, (implicit, retrained, matrix_train)):
            t0 = time.perf_counter()
            rows[(n_fft, name)] = evaluate(sep, mixes, n_fft, power)
            t_eval += time.perf_counter() - t0
            log(f"  n_fft={n_fft} {name}: SDR {rows[(n_fft, name)][0].mean():.2f} dB, "
                f"STOI {rows[(n_fft, name)][3].mean():.3f}")
    total = time.perf_counter() - t_start
    n_sources = rows[(args.sizes[0], names[0])].shape[1]
    source_names = [f"{sentence}/{spk}" for sentence, *_ in mixes for spk in SPEAKERS]

    mode = "quick" if args.quick else "full"
    threads = torch.get_num_threads()
    print(f"\n## Separation across STFT sizes ({mode} run)\n")
    corpus = os.path.basename(os.path.normpath(args.data))
    print(f"The iN-NMF paper's Fig. 5 on {len(SPEAKERS)} speakers ({corpus}: "
          f"{', '.join(SPEAKERS)}; sr={sr} Hz). Per speaker a K={K} dictionary is trained on "
          f"{TRAIN[0]}-{TRAIN[-1]}; the 0 dB mixtures {' and '.join(f'{t}+{t}' for t in TEST)} "
          f"(cut to the shorter sentence) are analysed at each n_fft (hop n_fft/4, "
          f"|X|^{power:g}) and separated with frame-wise activations ({act_iter} "
          f"multiplicative updates per frame) and Wiener masks on the complex STFT. "
          f"Models: `{names[0]}` is ImplicitNMF (encoding_size={args.encoding_size}, "
          f"table time factor, {implicit_iter} steps) trained once at n_fft "
          f"{args.train_size}, its templates evaluated at each size's bins; "
          f"`MatrixNMF re-trained` is KL NMF ({matrix_iter} iterations) trained again "
          f"at each size (the reference); `{names[2]}` is that NMF trained at "
          f"{args.train_size} with its templates linearly interpolated to each size's "
          f"bins (the interpolation baseline). Each cell is the mean ± standard deviation "
          f"over the {n_sources} separated sources (2 mixtures x 2 speakers); SDR, SIR "
          f"and SAR in dB (BSS Eval v3, higher is better), STOI between 0 and 1 "
          f"(higher is better). Seed {args.seed}, {threads} torch thread(s), "
          f"{total / 60:.0f} min in all.\n")
    print("### Mean ± std over the separated sources\n")
    print("| n_fft | model | SDR (dB) | SIR (dB) | SAR (dB) | STOI |")
    print("|---:|---|---:|---:|---:|---:|")
    for n_fft in args.sizes:
        for name in names:
            v = rows[(n_fft, name)]
            cells = [summary(v[0]), summary(v[1]), summary(v[2]), summary(v[3], 3)]
            print(f"| {n_fft} | {name} | " + " | ".join(cells) + " |")

    print("\n### SDR range (min to max) over the separated sources\n")
    print("| n_fft | " + " | ".join(names) + " |")
    print("|---:|" + "---:|" * len(names))
    for n_fft in args.sizes:
        cells = [f"{rows[(n_fft, n)][0].min():.2f} to {rows[(n_fft, n)][0].max():.2f}"
                 for n in names]
        print(f"| {n_fft} | " + " | ".join(cells) + " |")

    print("\n### SDR difference to the re-trained NMF (dB)\n")
    print("Paired per source (same mixture, same speaker): mean ± std of the "
          f"{n_sources} differences; positive means better than re-training at "
          "that size.\n")
    print(f"| n_fft | {names[0]} minus re-trained | {names[2]} minus re-trained |")
    print("|---:|---:|---:|")
    for n_fft in args.sizes:
        ref = rows[(n_fft, names[1])][0]
        d_imp = rows[(n_fft, names[0])][0] - ref
        d_int = rows[(n_fft, names[2])][0] - ref
        print(f"| {n_fft} | {np.mean(d_imp):+.2f} ± {np.std(d_imp):.2f} "
              f"| {np.mean(d_int):+.2f} ± {np.std(d_int):.2f} |")

    print("\n### Run time\n")
    print("| step | seconds |")
    print("|---|---:|")
    print(f"| ImplicitNMF, 2 dictionaries at n_fft {args.train_size} | {t_implicit:.0f} |")
    print(f"| MatrixNMF, 2 dictionaries at n_fft {args.train_size} | {t_matrix:.0f} |")
    for n_fft, t in t_retrain.items():
        print(f"| MatrixNMF, 2 dictionaries at n_fft {n_fft} | {t:.0f} |")
    print(f"| separation and metrics ({len(rows)} size-model pairs x {len(mixes)} mixtures) "
          f"| {t_eval:.0f} |")
    print(f"| total (with loading) | {total:.0f} |")

    if args.out:
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "separation.png")
        save_figure(rows, names, args.sizes, args.train_size, path)
        with open(os.path.join(args.out, "separation.csv"), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["n_fft", "model", "source", *METRICS])
            for (n_fft, name), v in rows.items():
                for i in range(n_sources):
                    w.writerow([n_fft, name, source_names[i], *(f"{x:.4f}" for x in v[:, i])])
        log(f"figure: {path}")

if __name__ == "__main__":
    main()
