"""Seed 002: shallow and multilayer non-negative autoencoders against NMF over rank.

Smaragdis & Venkataramani (ICASSP 2017), Fig. 3: 0 dB mixtures of two
speakers, one model per speaker trained on 9 sentences, magnitude STFT with
a 512-point DFT, square-root Hann window and 25% hop (128 samples at 16 kHz);
a shallow NAE (F -> K -> F) and a multilayer NAE whose layers all have the
rank's size (F -> K -> K -> K -> F, ``hidden_layer_sizes=(K,)``), against
NMF, at ranks 10 to 200. The paper reports the median and interquartile range
of SDR: the multilayer NAE keeps improving with rank and peaks at K = 100,
above NMF.

Data: the two recorded speakers of ``/work/shared/data/speech`` (spkA, spkB,
s01..s10). Leave-one-out folds: for a held-out sentence i, each speaker's
models are trained on the other 9. A mixture takes spkA's held-out sentence
of fold i and spkB's of fold j (both unseen by their speaker's models), mixed
at 0 dB and cut to the shorter: n folds give n * n mixtures, 2 n^2 separated
sources.

Models (all from the same seed; no ConvergenceWarning is silenced: every
budget below is a fixed number of steps, ``tol=0``, as the paper's protocol
trains for a set number of epochs):

* ``NMF``: ``MatrixNMF(K)`` (KL, multiplicative updates, ``--nmf-iter``);
  on a mixture the templates of both speakers are frozen and the
  activations found by ``--act-iter`` KL multiplicative updates per frame,
  then Wiener masks (exactly what ``SupervisedSeparator`` does on a full
  grid, written out so that one fitted model serves several mixtures);
* ``NAE shallow``: ``NonNegativeAutoencoder(K)``;
* ``NAE multilayer``: ``NonNegativeAutoencoder(K, hidden_layer_sizes=(K,)*depth)``;

both ``--nae-iter`` Rprop steps, ``--sparsity``; the mixture is separated
by the paper's eq. 8 (decoders frozen, latents learned, Wiener masks) as
``benchmarks/autoencoder_separation.py`` solves it.

    python benchmarks/nae.py run --json FILE [--ranks ...] [--folds ...]
    python benchmarks/nae.py report --json FILE [FILE ...] --out benchmarks/nae.md \
        --figure doc/_static/nae.png

``run`` appends one JSON line per (model, rank, fold pair) as it goes, so an
interrupted run keeps what it measured; rerunning skips what is there.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

from sklearn_innmf import MatrixNMF, NonNegativeAutoencoder
from sklearn_innmf.datasets import load_audio, two_source_mixture
from sklearn_innmf.metrics import bss_eval
from sklearn_innmf.representations import STFTSynthesizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from autoencoder_separation import (
    HOP,
    N_FFT,
    SR,
    WINDOW,
    NAESeparator,
    log,
    median_iqr,
    training_points,
)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "speech"))
SPEAKERS = ("spkA", "spkB")


def load_speaker(data, name):
    return [load_audio(os.path.join(data, name, f"s{i:02d}.wav"))[0] for i in range(1, 11)]


def make_model(name, K, args, seed):
    if name == "NMF":
        return MatrixNMF(K, max_iter=args.nmf_iter, tol=0.0, random_state=seed)
    hidden = () if name == "NAE shallow" else (K,) * args.depth
    return NonNegativeAutoencoder(
        K, hidden_layer_sizes=hidden, sparsity=args.sparsity, max_iter=args.nae_iter, tol=0.0,
        learning_rate=args.nae_lr, random_state=seed,
    )


class NMFMasks:
    """Frozen templates of each source, per-frame KL multiplicative updates of
    the activations from a constant, Wiener masks (``SupervisedSeparator`` on a
    full grid)."""

    def __init__(self, estimators, n_iter):
        self.estimators = estimators
        self.n_iter = n_iter

    def masks(self, X):
        times, freqs = np.unique(X[:, 0]), np.unique(X[:, 1])
        M = X[:, 2].reshape(times.size, freqs.size).T  # (F, T)
        Ws = [np.asarray(e.templates(freqs), dtype=np.float64) for e in self.estimators]
        W = np.hstack(Ws)
        H = np.full((W.shape[1], M.shape[1]), M.mean() / max(W.sum(axis=0).mean(), 1e-12))
        denom = W.sum(axis=0)[:, None]
        for _ in range(self.n_iter):
            H *= (W.T @ (M / np.maximum(W @ H, 1e-12))) / denom
        parts, k = [], 0
        for w in Ws:
            parts.append(w @ H[k:k + w.shape[1]])
            k += w.shape[1]
        V = np.stack(parts, axis=-1)  # (F, T, S)
        total = V.sum(axis=-1, keepdims=True)
        masks = np.divide(V, total, out=np.full_like(V, 0.5), where=total > 0)
        return masks.transpose(1, 0, 2).reshape(len(X), -1)


def evaluate(separator, mix, truth):
    synth = STFTSynthesizer(mix, sr=SR, n_fft=N_FFT, hop_length=HOP, window=WINDOW)
    est = synth.istft_from_mask(separator.masks(synth.points()))
    r = bss_eval(truth, est, compute_permutation=False)
    return np.stack([r.sdr, r.sir, r.sar])


def done_keys(path):
    keys = set()
    if os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                r = json.loads(line)
                keys.add((r["tag"], r["model"], r["K"], r["fold_a"], r["fold_b"]))
    return keys


def run(args):
    torch.set_num_threads(args.threads)
    sentences = {s: load_speaker(args.data, s) for s in SPEAKERS}
    done = done_keys(args.json)
    folds = args.folds
    for K in args.ranks:
        for name in args.models:
            need = [(i, j) for i in folds for j in folds
                    if (args.tag, name, K, i, j) not in done]
            if not need:
                continue
            fitted, fit_s = {}, []
            for i in sorted({p[0] for p in need} | {p[1] for p in need}):
                for s in SPEAKERS:
                    if (s == "spkA" and i not in {p[0] for p in need}) or (
                        s == "spkB" and i not in {p[1] for p in need}
                    ):
                        continue
                    X = training_points([y for n, y in enumerate(sentences[s], 1) if n != i])
                    t0 = time.perf_counter()
                    fitted[(s, i)] = make_model(name, K, args, args.seed).fit(X)
                    fit_s.append(time.perf_counter() - t0)
                    log(f"{args.tag} {name} K={K} {s} without s{i:02d}: "
                        f"{fit_s[-1]:.0f} s, loss {fitted[(s, i)].loss_curve_[-1]:.4g}")
            for i, j in need:
                ya, yb = sentences["spkA"][i - 1], sentences["spkB"][j - 1]
                n = min(ya.size, yb.size)
                mix, ya, yb = two_source_mixture(ya[:n], yb[:n], snr_db=0.0)
                ests = [fitted[("spkA", i)], fitted[("spkB", j)]]
                sep = (NMFMasks(ests, args.act_iter) if name == "NMF"
                       else NAESeparator(ests, args.act_iter))
                v = evaluate(sep, mix, np.stack([ya, yb]))
                rec = {"tag": args.tag, "model": name, "K": K, "fold_a": i, "fold_b": j,
                       "sdr": v[0].tolist(), "sir": v[1].tolist(), "sar": v[2].tolist(),
                       "fit_s": float(np.mean(fit_s)) if fit_s else None,
                       "config": {k: getattr(args, k) for k in
                                  ("nae_iter", "nmf_iter", "act_iter", "sparsity", "depth",
                                   "nae_lr", "seed")}}
                with open(args.json, "a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                log(f"  A s{i:02d} + B s{j:02d}: SDR {np.round(v[0], 2)}")


def load_records(paths):
    recs = []
    for p in paths:
        with open(p) as fh:
            recs += [json.loads(line) for line in fh]
    return recs


def table(recs, tag):
    """{(model, K): sdr array over sources}, fit seconds."""
    out, fit = {}, {}
    for r in recs:
        if r["tag"] != tag:
            continue
        out.setdefault((r["model"], r["K"]), []).extend(r["sdr"])
        fit[(r["model"], r["K"])] = r["fit_s"]
    return {k: np.asarray(v) for k, v in out.items()}, fit


def plot(tab, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    models = sorted({m for m, _ in tab}, key=["NMF", "NAE shallow", "NAE multilayer"].index)
    for n, m in enumerate(models):
        ks = sorted(K for mm, K in tab if mm == m)
        q = np.array([np.percentile(tab[(m, K)], [25, 50, 75]) for K in ks])
        x = np.array(ks) * (1 + 0.04 * (n - 1))
        ax.errorbar(x, q[:, 1], yerr=[q[:, 1] - q[:, 0], q[:, 2] - q[:, 1]], marker="o",
                    capsize=3, label=m)
    ax.set_xscale("log")
    ax.set_xticks(sorted({K for _, K in tab}))
    ax.set_xticklabels(sorted({K for _, K in tab}))
    ax.set_xlabel("rank K")
    ax.set_ylabel("SDR (dB): median, IQR")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def markdown_table(tab, fit):
    lines = ["| model | K | SDR median [IQR] (dB) | sources | fit s / model |",
             "|---|---:|---:|---:|---:|"]
    for (m, K) in sorted(tab, key=lambda k: (["NMF", "NAE shallow", "NAE multilayer"].index(k[0]),
                                             k[1])):
        f = fit[(m, K)]
        lines.append(f"| {m} | {K} | {median_iqr(tab[(m, K)])} | {tab[(m, K)].size} | "
                     f"{'' if f is None else f'{f:.0f}'} |")
    return "\n".join(lines)


def report(args):
    recs = load_records(args.json_in)
    for tag in dict.fromkeys(r["tag"] for r in recs):
        tab, fit = table(recs, tag)
        cfg = next(r["config"] for r in recs if r["tag"] == tag)
        print(f"### {tag}\n\n{json.dumps(cfg)}\n\n{markdown_table(tab, fit)}\n")
        if args.figure and tag == args.figure_tag:
            plot(tab, args.figure, f"{tag}: spkA + spkB at 0 dB, {tab[next(iter(tab))].size} "
                 "sources per point")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--json", required=True)
    r.add_argument("--tag", default="main")
    r.add_argument("--data", default=DEFAULT_DATA)
    r.add_argument("--ranks", type=int, nargs="+", default=[10, 20, 50, 100, 200])
    r.add_argument("--folds", type=int, nargs="+", default=[2, 6, 10],
                   help="held-out sentences (1-10); n folds give n*n mixtures")
    r.add_argument("--models", nargs="+", default=["NMF", "NAE shallow", "NAE multilayer"])
    r.add_argument("--nae-iter", type=int, default=1000)
    r.add_argument("--nae-lr", type=float, default=1e-2)
    r.add_argument("--nmf-iter", type=int, default=200)
    r.add_argument("--act-iter", type=int, default=200)
    r.add_argument("--sparsity", type=float, default=0.0)
    r.add_argument("--depth", type=int, default=1,
                   help="hidden layers of size K on each side of the multilayer NAE")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--threads", type=int, default=1)
    q = sub.add_parser("report")
    q.add_argument("--json-in", nargs="+", required=True)
    q.add_argument("--figure", default=None)
    q.add_argument("--figure-tag", default="main")
    args = p.parse_args()
    run(args) if args.cmd == "run" else report(args)


if __name__ == "__main__":
    main()
