"""``python -m sklearn_innmf demo``: a short tour on synthesised signals.

``demo`` is a short tour on synthesised signals (no data, no network), in
four steps that print Markdown tables and write figures (and WAV files) to
``--out``:

1. classic NMF vs iN-NMF on the STFT of two piano-like notes: KL, time and
   the learned factors;
2. one ImplicitNMF on a hybrid of STFT, sinusoidal peaks and CQT points of
   the same notes (paper Fig. 3): a template per note, activations that say
   which note sounds when;
3. templates across resolutions (paper Fig. 4): models trained on STFT-256,
   STFT-1024 and CQT points each explain the others; KL relative to the
   self-fit, for ImplicitNMF and for MatrixNMF with interpolated templates;
4. supervised separation of a 0 dB mixture of two synthesised voices with
   ``SupervisedSeparator(ImplicitNMF(...))``: SDR per source, separated WAVs.

``--quick`` runs the same steps with fewer iterations and shorter signals
(a fixed number of steps, ``tol=0``: its fits stop before they converge, by
design, and say nothing about it). Without it every fit stops on its
tolerance, except the small template network of steps 2 and 3, which trains a
fixed 500 steps (see :func:`sklearn_innmf.experiments.small_implicit_nmf`).
The experiments are those of :mod:`sklearn_innmf.experiments`.
"""

import os
import time


class _Steps:
    """Section headers, and the time of each step and of the whole run."""

    def __init__(self, n_steps):
        self.n_steps = n_steps
        self.index = 0
        self.start = time.perf_counter()
        self.step_start = None

    def __call__(self, title):
        self.done()
        self.index += 1
        self.step_start = time.perf_counter()
        line = f"Step {self.index}/{self.n_steps}: {title}"
        print(f"\n{line}\n{'=' * len(line)}\n", flush=True)

    def done(self):
        if self.step_start is not None:
            print(f"\n(step {self.index} took {time.perf_counter() - self.step_start:.1f} s, "
                  f"{time.perf_counter() - self.start:.1f} s so far)", flush=True)
            self.step_start = None

    def progress(self, text):
        print(f"  [{time.perf_counter() - self.start:6.1f} s] {text}", flush=True)


def _save(fig, path, paths):
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    paths.append(path)


def _steps(args, max_iter):
    """An estimator's stopping rule in the demo: ``max_iter`` and its tolerance,
    or with ``--quick`` a fixed 30 steps (``tol=0``: cut short by design)."""
    return dict(max_iter=30, tol=0.0) if args.quick else dict(max_iter=max_iter)


def _step_compare(args, step, figures):
    """MatrixNMF vs ImplicitNMF on the STFT of the piano notes."""
    import numpy as np

    from .. import ImplicitNMF, MatrixNMF
    from ..datasets.synthetic import piano_notes
    from ..plotting import plot_factors, plot_points
    from ..representations.stft import stft_points

    step("classic NMF vs iN-NMF on an STFT")
    y, sr = piano_notes(("A3", "E4"), sr=16000, random_state=0)
    X = stft_points(y, sr=sr, n_fft=1024, hop_length=256, power=0.5)
    print(
        f"Signal: two piano-like notes (A3 = 220 Hz, then E4 = 330 Hz, then both), "
        f"{y.size / sr:.1f} s at {sr} Hz"
    )
    print(f"STFT points: {len(X)} (t, f, m) rows, n_fft=1024, |X|^0.5\n")
    steps = _steps(args, args.max_iter)
    K = args.n_components
    estimators = {
        "MatrixNMF (classic KL-MU)": (
            "matrixnmf", MatrixNMF(K, random_state=0, verbose=1, **steps)),
        "ImplicitNMF (implicit W, table H)": (
            "implicitnmf_implicit_w_table_h",
            ImplicitNMF(K, time_factor="table", random_state=0, verbose=1, **steps)),
        "ImplicitNMF (implicit W and H)": (
            "implicitnmf_implicit_w_and_h",
            ImplicitNMF(K, random_state=0, verbose=1, **steps)),
    }
    rows = []
    for name, (_, est) in estimators.items():
        t0 = time.perf_counter()
        est.fit(X)
        rows.append((name, -est.score(X), est.n_iter_, time.perf_counter() - t0))
        step.progress(f"{name}: {est.n_iter_} iterations in {rows[-1][-1]:.1f} s")
    print("\n| estimator | mean KL | iterations | fit time (s) |\n|---|---|---|---|")
    for name, kl, n_iter, seconds in rows:
        print(f"| {name} | {kl:.4g} | {n_iter} | {seconds:.2f} |")

    fig = plot_points(X)
    fig.suptitle("STFT points of the demo signal")
    _save(fig, os.path.join(args.out, "points.png"), figures)
    for name, (slug, est) in estimators.items():
        fig = plot_factors(est, freqs=np.linspace(0, 4000, 800), log_freq=False)
        fig.suptitle(f"{name}: templates (left) and activations (right)")
        _save(fig, os.path.join(args.out, f"factors_{slug}.png"), figures)


def _step_hybrid(args, step, figures):
    """ImplicitNMF(2) on hybrid STFT / peaks / CQT points (paper Fig. 3)."""
    import numpy as np

    from ..experiments.hybrid import (
        hybrid_piano_points,
        hybrid_summary,
        plot_hybrid_factors,
        small_implicit_nmf,
    )

    step("one model, three representations (paper Fig. 3)")
    data = hybrid_piano_points(power=0.5)
    X = data.X
    print("The same notes as one point array: a short STFT over the two solo notes, "
          "sinusoidal peaks,\nthen a CQT (all in one unit, |X|^0.5). No matrix holds "
          "these points.\n")
    print("| representation | time span (s) | points | distinct frequencies |\n|---|---|---|---|")
    for name, start, end in data.segments:
        keep = (X[:, 0] >= start) & (X[:, 0] < end)
        end = min(end, data.y.size / data.sr)
        print(f"| {name} | {start:.1f} - {end:.1f} | {keep.sum()} | "
              f"{len(np.unique(X[keep, 1]))} |")
    max_iter = 60 if args.quick else 500
    est = small_implicit_nmf(2, max_iter=max_iter, random_state=0, verbose=1)
    t0 = time.perf_counter()
    est.fit(X)
    step.progress(f"ImplicitNMF(2), small template network: {est.n_iter_} steps in "
                  f"{time.perf_counter() - t0:.1f} s, mean KL {-est.score(X):.3g}")
    print("\nEach component should follow one note: its template peaking at the "
          "note's fundamental,\nits activation high in that note's solo and in "
          "the chord, low in the other solo.\n")
    print("| component | note | strongest peak (Hz) | fundamental (Hz) | solo contrast | "
          "chord / solo |\n|---|---|---|---|---|---|")
    for k, c in enumerate(hybrid_summary(est, data)):
        print(f"| {k} | {c.note} | {c.peak:.1f} | {data.f0[c.note]:.1f} | "
              f"{c.contrast:.1f} | {c.chord:.2f} |")
    fig = plot_hybrid_factors(est, data, power=0.5)
    fig.suptitle("ImplicitNMF(2) on hybrid STFT / sinusoidal peaks / CQT points")
    _save(fig, os.path.join(args.out, "hybrid.png"), figures)


def _step_cross(args, step, figures):
    """Models trained on one representation explain the others (paper Fig. 4)."""
    from .. import MatrixNMF
    from ..experiments.cross_representation import (
        cross_representation_markdown,
        cross_representation_table,
        piano_representations,
        plot_cross_representation,
    )
    from ..experiments.hybrid import small_implicit_nmf

    step("templates across resolutions (paper Fig. 4)")
    reps = piano_representations(("STFT-256", "STFT-1024", "CQT"), power=0.5)
    print("One model per representation of the same notes; each explains the others "
          "with its templates\nfrozen (fit_activations). Cells: mean KL (ratio to "
          "the column's self-fit; bold: > 3x).")
    max_iter = 60 if args.quick else 500  # small_implicit_nmf: a fixed number of steps
    methods = {
        "ImplicitNMF": lambda: small_implicit_nmf(2, max_iter=max_iter, random_state=0,
                                                  verbose=1),
        "MatrixNMF, interpolated": lambda: MatrixNMF(2, random_state=0, verbose=1,
                                                     **_steps(args, 500)),
    }
    tables = {}
    for method, make in methods.items():
        t0 = time.perf_counter()
        tables[method] = cross_representation_table(make, reps)
        step.progress(f"{method}: {len(reps) ** 2} fits in {time.perf_counter() - t0:.1f} s")
    for method, table in tables.items():
        print(f"\n{method}\n")
        print(cross_representation_markdown(table))
    print()
    for method, table in tables.items():
        print(_transfer_summary(method, table))
    print("A template keeps its analysis's peak widths (+-125 Hz at 256 samples, "
          "+-31 Hz at 1024),\nwhich activations cannot change. See "
          "benchmarks/cross_representation.md.")
    _save(plot_cross_representation(tables), os.path.join(args.out, "cross_representation.png"),
          figures)


def _transfer_summary(method, table, threshold=3.0):
    """One sentence from a cross-representation table's numbers: which
    transfers stay within ``threshold`` x the target's own model."""
    names = table.names
    within, above = [], []
    for i, source in enumerate(names):
        for j, target in enumerate(names):
            if i != j:
                cell = f"{source} -> {target} ({table.ratio[i, j]:.1f}x)"
                (within if table.ratio[i, j] <= threshold else above).append(cell)
    text = f"{method}: {len(within)} of {len(within) + len(above)} transfers within "
    text += f"{threshold:g}x of the target's own model"
    text += (": " + ", ".join(within)) if within else ""
    text += ("; above: " + ", ".join(above)) if above else ""
    return text + "."


def _spectrogram(ax, y, sr, title):
    import numpy as np

    from ..representations.stft import stft_points

    X = stft_points(y, sr=sr, n_fft=1024, hop_length=256)
    times, freqs = np.unique(X[:, 0]), np.unique(X[:, 1])
    S = X[:, 2].reshape(len(times), len(freqs)).T
    db = 20 * np.log10(np.maximum(S, 1e-10) / max(S.max(), 1e-10))
    image = ax.imshow(np.maximum(db, -70), origin="lower", aspect="auto", cmap="magma",
                      vmin=-70, vmax=0, extent=(times[0], times[-1], freqs[0], freqs[-1]))
    ax.set(title=title, ylim=(0, 4000), xlabel="Time (s)", ylabel="Frequency (Hz)")
    ax.tick_params(labelbottom=True, labelleft=True)
    return image


def _step_separation(args, step, figures, sounds):
    """SupervisedSeparator(ImplicitNMF) on a 0 dB mixture of two synthesised voices."""
    import matplotlib.pyplot as plt
    import numpy as np

    from .. import ImplicitNMF, MatrixNMF
    from ..datasets.audio import save_audio
    from ..experiments.separation import synthetic_separation

    step("separation of a synthesised mixture")
    if args.quick:
        settings = dict(train_duration=1.0, test_duration=1.0, max_iter=30)
    else:
        settings = dict(train_duration=3.0, test_duration=2.0, max_iter=100)
    steps = _steps(args, 3000)  # ImplicitNMF stops on tol after 610 and 1890 steps
    print(f"Two speech-like voices (pitch 110-150 Hz and 200-260 Hz, different formants); "
          f"each model\nlearns {settings['train_duration']:g} s of its voice, then "
          f"separates another {settings['test_duration']:g} s of both, mixed at 0 dB\n"
          f"(STFT 1024, |X|^0.5, Wiener masks). SDR of the mixture itself is the "
          f"starting point.\n")
    estimators = {
        "ImplicitNMF (K=10 per voice)": ImplicitNMF(
            10, time_factor="table", verbose=1, **steps),
        "MatrixNMF (K=10 per voice)": MatrixNMF(10, verbose=1, **steps),
    }
    results = {}
    for name, est in estimators.items():
        t0 = time.perf_counter()
        results[name] = synthetic_separation(est, random_state=0, **settings)
        step.progress(f"{name}: trained and separated in {time.perf_counter() - t0:.1f} s")
    first = next(iter(results.values()))
    print("\n| separator | source | SDR (dB) | SIR (dB) | SAR (dB) | mixture SDR (dB) |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        for s, voice in enumerate(r.names):
            print(f"| {name} | {voice} | {r.sdr[s]:.1f} | {r.sir[s]:.1f} | "
                  f"{r.sar[s]:.1f} | {r.sdr_mixture[s]:.1f} |")

    r = first
    # one gain for all files, so they do not clip and keep their balance
    gain = 0.9 / max(np.max(np.abs(r.mixture)), np.max(np.abs(r.estimates)), 1e-12)
    path = os.path.join(args.out, "mixture.wav")
    save_audio(path, gain * r.mixture, r.sr)
    sounds.append(path)
    for s, voice in enumerate(r.names):
        path = os.path.join(args.out, f"separated_{voice.replace(' ', '_')}.wav")
        save_audio(path, gain * r.estimates[s], r.sr)
        sounds.append(path)
    fig, axes = plt.subplots(2, 3, figsize=(12, 6), sharex=True, sharey=True,
                             layout="constrained")
    image = _spectrogram(axes[0, 0], r.mixture, r.sr, "mixture (0 dB)")
    _spectrogram(axes[1, 0], np.sum(r.estimates, axis=0), r.sr,
                 "separated sources, summed")
    for s, voice in enumerate(r.names):
        _spectrogram(axes[0, s + 1], r.sources[s], r.sr, f"{voice}: true")
        _spectrogram(axes[1, s + 1], r.estimates[s], r.sr,
                     f"{voice}: separated, SDR {r.sdr[s]:.1f} dB")
    fig.colorbar(image, ax=axes, label="dB (0 = loudest bin of each panel)", shrink=0.8)
    fig.suptitle(f"SupervisedSeparator({next(iter(results))})")
    _save(fig, os.path.join(args.out, "separation.png"), figures)


def _demo(args):
    import matplotlib

    matplotlib.use("Agg")
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    n_threads = torch.get_num_threads()
    print(f"sklearn-innmf demo{' (quick)' if args.quick else ''}: {n_threads} torch "
          f"thread(s), output in {args.out}")
    step = _Steps(4)
    figures, sounds = [], []
    _step_compare(args, step, figures)
    _step_hybrid(args, step, figures)
    _step_cross(args, step, figures)
    _step_separation(args, step, figures, sounds)
    step.done()
    print("\nFigures written:")
    for p in figures:
        print(f"  {p}")
    print("Audio written:")
    for p in sounds:
        print(f"  {p}")
    print(f"\nDemo finished in {time.perf_counter() - step.start:.1f} s.")
    return 0


def add_parser(subparsers):
    p = subparsers.add_parser(
        "demo",
        help="a short tour on synthesised signals: NMF vs iN-NMF, hybrid "
             "representation, cross-resolution table, separation",
    )
    p.add_argument("--out", default="innmf_demo",
                   help="folder for the figures and WAV files (default: %(default)s)")
    p.add_argument("--n-components", type=int, default=4,
                   help="rank K of step 1 (default: %(default)s)")
    p.add_argument("--max-iter", type=int, default=2000,
                   help="most iterations of step 1's fits, which stop on their tolerance "
                        "(default: %(default)s; a fixed 30 with --quick)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default: %(default)s; the demo's problems are small, "
                   "and on a busy machine a second thread can make them many times slower)")
    p.add_argument("--quick", action="store_true",
                   help="fewer iterations and shorter signals, for a smoke test")
    p.set_defaults(func=_demo)
