"""Long recordings: mini-batch vs full-batch fits, memory of streamed fitting.

Material: ``python benchmarks/render_long.py`` (writes /work/material/long/).
Results: benchmarks/long.md. One thread, side by side in one process.

    python benchmarks/long.py kl [MINUTES]        # full vs mini-batch MatrixNMF, KL and time
    python benchmarks/long.py stream PATH          # one streamed mini-batch pass, prints RSS
    python benchmarks/long.py corpus DIR           # dictionary from a corpus of files
    python benchmarks/long.py separate MINUTES     # the CLI's long path, supervised
    python benchmarks/long.py separate-blind MINUTES

``stream`` is meant to run under ``/usr/bin/time -v`` once per file length.
"""

import os
import resource
import sys
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

MATERIAL = os.environ.get("LONG_MATERIAL", "/work/material/long")
N_FFT, HOP, POWER, K = 2048, 512, 0.5, 20


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_points(minutes):
    from sklearn_innmf.datasets import load_audio
    from sklearn_innmf.representations import stft_points

    y, sr = load_audio(os.path.join(MATERIAL, f"mix_{minutes}min.wav"))
    return stft_points(y.astype(np.float32), sr=sr, n_fft=N_FFT, hop_length=HOP, power=POWER)


def kl(minutes=10, configs=None):
    """Full-batch MatrixNMF (defaults) vs MiniBatchMatrixNMF on one recording."""
    from sklearn_innmf import MatrixNMF, MiniBatchMatrixNMF

    X = load_points(minutes)
    n_frames = np.unique(X[:, 0]).size
    print(f"{minutes} min: {X.shape[0]} points, {n_frames} frames x {N_FFT // 2 + 1} bins, K={K}")
    # passes fixed (tol=0, max_no_improvement=None) so that the time is set
    # by the budget, not by the stopping rule
    configs = configs or [
        dict(batch_size=1024, forget_factor=0.7, n_activation_iter=1, max_iter=30),
        dict(batch_size=1024, forget_factor=0.0, n_activation_iter=8, max_iter=11),
        dict(batch_size=512, forget_factor=0.0, n_activation_iter=10, max_iter=9),
        dict(batch_size=512, forget_factor=0.0, n_activation_iter=15, max_iter=6),
    ]
    rows = []
    t = time.perf_counter()
    full = MatrixNMF(K, random_state=0).fit(X)
    t_full = time.perf_counter() - t
    kl_full = -full.score(X)
    rows.append(("MatrixNMF (defaults)", t_full, kl_full, full.n_iter_))
    print(f"full: {t_full:.1f} s, KL {kl_full:.5g}, {full.n_iter_} iterations", flush=True)
    for cfg in configs:
        t = time.perf_counter()
        mb = MiniBatchMatrixNMF(K, random_state=0, tol=0, max_no_improvement=None, **cfg).fit(X)
        dt = time.perf_counter() - t
        v = -mb.score(X)
        name = "MiniBatchMatrixNMF(" + ", ".join(f"{k}={v}" for k, v in cfg.items()) + ")"
        rows.append((name, dt, v, mb.n_iter_))
        print(f"{name}: {dt:.1f} s ({dt / t_full:.2f}x), KL {v:.5g} ({v / kl_full - 1:+.2%}), "
              f"{mb.n_iter_} passes, {mb.n_steps_} steps", flush=True)
    print("\n| fit | time (s) | time / full | mean KL | KL / full - 1 | passes |")
    print("|---|---|---|---|---|---|")
    for name, dt, v, it in rows:
        print(f"| {name} | {dt:.1f} | {dt / t_full:.2f} | {v:.5g} | {v / kl_full - 1:+.2%} | {it} |")
    print(f"\npeak RSS {_rss_mb():.0f} MB")


def stream(path, batch_frames=1024):
    """One pass of mini-batch fitting over a file streamed from disk."""
    from sklearn_innmf import MiniBatchMatrixNMF
    from sklearn_innmf.representations.streaming import fit_corpus

    t = time.perf_counter()
    est = fit_corpus(
        MiniBatchMatrixNMF(K, random_state=0), [path], n_fft=N_FFT, hop_length=HOP,
        power=POWER, batch_size=batch_frames, verbose=1,
    )
    dt = time.perf_counter() - t
    print(f"{path}: {est.n_steps_} batches of {batch_frames} frames in {dt:.1f} s; "
          f"peak RSS {_rss_mb():.0f} MB")


def corpus(directory, n_epochs=2):
    """A dictionary from >= 100 files streamed from disk, scored on held-out speech."""
    from sklearn_innmf import MiniBatchMatrixNMF
    from sklearn_innmf.representations.streaming import fit_corpus
    from sklearn_innmf.datasets import load_audio
    from sklearn_innmf.representations import stft_points

    files = sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".wav"))
    t = time.perf_counter()
    est = fit_corpus(
        MiniBatchMatrixNMF(K, random_state=0), files, n_fft=1024, hop_length=256, power=POWER,
        batch_size=256, n_epochs=n_epochs, verbose=1,
    )
    dt = time.perf_counter() - t
    print(f"{len(files)} files, {n_epochs} passes, {est.n_steps_} batches in {dt:.1f} s; "
          f"peak RSS {_rss_mb():.0f} MB")
    # held-out: the same voice's 10-minute recording (first minute) vs the other voice
    for voice in "AB":
        y, sr = load_audio(os.path.join(MATERIAL, f"speech{voice}_10min.wav"))
        X = stft_points(y[: 60 * sr], sr=sr, n_fft=1024, hop_length=256, power=POWER)
        print(f"speech{voice} (1 min held out): KL with the corpus templates "
              f"{-est.fit_activations(X).score(X):.5g}")


def separate(minutes, blind=False, out=None):
    """The command line's long-mixture path (supervised or blind) on a mix."""
    import argparse

    from sklearn_innmf.cli import separate as cli_separate
    from sklearn_innmf.cli.separate_long import separate_long

    data = "/work/shared/data/speech"
    mix = os.path.join(MATERIAL, f"mix_{minutes}min.wav")
    out = out or os.path.join(MATERIAL, f"out_{'blind' if blind else 'sup'}_{minutes}")
    argv = ["separate", "--mixture", mix, "--out", out]
    if not blind:
        for spk in ("spkA", "spkB"):
            argv += ["--source"] + [f"{data}/{spk}/s{i:02d}.wav" for i in range(1, 9)]
    parser = argparse.ArgumentParser()
    cli_separate.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    os.makedirs(out, exist_ok=True)
    progress = cli_separate._Progress(False, 2)
    sources, sr, notes = [], 16000, []
    for group in args.source or []:
        sources.append([cli_separate._load(p, None, "--source file", notes)[0] for p in group])
    t = time.perf_counter()
    separate_long(args, cli_separate._estimator(args), sources, sr, len(args.source or [0, 0]),
                  progress, blind=blind)
    dt = time.perf_counter() - t
    print(f"{'blind' if blind else 'supervised'} {minutes} min: {dt:.1f} s; "
          f"peak RSS {_rss_mb():.0f} MB")


if __name__ == "__main__":
    torch.set_num_threads(1)
    with threadpool_limits(1):
        what = sys.argv[1]
        if what == "kl":
            kl(int(sys.argv[2]) if len(sys.argv) > 2 else 10)
        elif what == "stream":
            stream(sys.argv[2])
        elif what == "corpus":
            corpus(sys.argv[2])
        elif what in ("separate", "separate-blind"):
            separate(int(sys.argv[2]), blind=what == "separate-blind")
