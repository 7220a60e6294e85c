"""Supervised speech separation with non-negative autoencoders (Smaragdis &
Venkataramani 2017, Fig. 2/3) against NMF.

Protocol (the seed paper's): 0 dB two-speaker mixtures; magnitude STFT with a
512-point DFT, square-root Hann window, hop 128 (25%); per speaker a model is
trained on 9 sentences and 1 other sentence goes into the mixtures. Three
models per speaker at ranks 20 and 100:

* ``NMF``: ``MatrixNMF`` (KL, multiplicative updates) through
  ``SupervisedSeparator`` (frame-wise activations, Wiener masks);
* ``NAE shallow``: ``NonNegativeAutoencoder(K, sparsity=...)``;
* ``NAE multilayer``: ``NonNegativeAutoencoder(K, hidden_layer_sizes=(H,))``.

The NAE separation is eq. 8 of the paper, solved here (:func:`nae_masks`):
the decoders of both speakers are frozen and summed, only the latents of the
mixture's frames are learned (projected Rprop on KL + the models' L1
penalty, from each speaker's encoder output), and the Wiener masks
``dec_s(h_s) / sum_r dec_r(h_r)`` filter the mixture's complex STFT. It uses
only ``NonNegativeAutoencoder._frame_decoder`` / ``_frame_encoder``, the
interface ``SupervisedSeparator`` is to call, so :class:`NAESeparator` can be
replaced by ``SupervisedSeparator(NonNegativeAutoencoder(...))``.

Voices. Two recorded speakers (``../shared/data/speech``: spkA, spkB, 10
sentences each) and synthetic ones made here with espeak-ng (Harvard
sentences, different voice variants and pitches; written to a temporary
folder, or ``--voices DIR`` to keep them). The voices used to tune the
settings (``--tune``) are not among the reported ones.

    python benchmarks/autoencoder_separation.py [--tune] [--quick] [--out FILE]

The default settings were chosen on the tuning voices (``--tune``; three
runs, in ``autoencoder_separation.md``): 600 Rprop steps, hidden layer 128,
sparsity 1 at rank 20 and 0 at rank 100 for both autoencoders, 200 steps of
eq. 8. The full run takes about 15 minutes on one thread of a shared machine.

Prints (and with ``--out`` writes) a Markdown report: per model and rank the
median and interquartile range of SDR / SIR / SAR (BSS Eval v3) and STOI over
all separated sources, paired differences with a Wilcoxon signed-rank test,
and the training time of the rank-100 multilayer NAE on 10 s of speech at
one thread. Needs espeak-ng and the speech folder; tests never run it.
"""

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.signal
import scipy.stats
import torch

from sklearn_innmf import MatrixNMF
from sklearn_innmf.models.autoencoder import NonNegativeAutoencoder
from sklearn_innmf.datasets import load_audio, save_audio, two_source_mixture
from sklearn_innmf.divergences import beta_divergence
from sklearn_innmf.metrics import bss_eval, stoi
from sklearn_innmf.representations import STFTSynthesizer
from sklearn_innmf.separation import SupervisedSeparator

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "speech"))
SR = 16000
N_FFT, HOP = 512, 128
WINDOW = np.sqrt(scipy.signal.get_window("hann", N_FFT))  # square-root Hann
METRICS = ("SDR", "SIR", "SAR", "STOI")

# Harvard sentences (IEEE 1969), lists 1-4, public domain
HARVARD = [
    ["The birch canoe slid on the smooth planks.", "Glue the sheet to the dark blue background.",
     "It's easy to tell the depth of a well.", "These days a chicken leg is a rare dish.",
     "Rice is often served in round bowls.", "The juice of lemons makes fine punch.",
     "The box was thrown beside the parked truck.", "The hogs were fed chopped corn and garbage.",
     "Four hours of steady work faced us.", "A large size in stockings is hard to sell."],
    ["The boy was there when the sun rose.", "A rod is used to catch pink salmon.",
     "The source of the huge river is the clear spring.", "Kick the ball straight and follow through.",
     "Help the woman get back to her feet.", "A pot of tea helps to pass the evening.",
     "Smoky fires lack flame and heat.", "The soft cushion broke the man's fall.",
     "The salt breeze came across from the sea.", "The girl at the booth sold fifty bonds."],
    ["The small pup gnawed a hole in the sock.", "The fish twisted and turned on the bent hook.",
     "Press the pants and sew a button on the vest.", "The swan dive was far short of perfect.",
     "The beauty of the view stunned the young boy.", "Two blue fish swam in the tank.",
     "Her purse was full of useless trash.", "The colt reared and threw the tall rider.",
     "It snowed, rained, and hailed the same morning.", "Read verse out loud for pleasure."],
    ["Hoist the load to your left shoulder.", "Take the winding path to reach the lake.",
     "Note closely the size of the gas tank.", "Wipe the grease off his dirty face.",
     "Mend the coat before you go out.", "The wrist was badly strained and hung limp.",
     "The stray cat gave birth to kittens.", "The young girl gave no clear response.",
     "The meal was cooked before the bell rang.", "What joy there is in living."],
]
# espeak-ng voices: (name, voice+variant, pitch 0-99, words per minute, Harvard list)
TUNE_VOICES = [
    ("esA", "en-us+f3", 65, 160, 0), ("esB", "en-gb+m2", 40, 150, 1), ("esE", "en-us+m7", 30, 145, 0),
]
REPORT_VOICES = [("esC", "en-us+m4", 45, 155, 2), ("esD", "en-gb-x-rp+f2", 72, 165, 3)]
RECORDED = ["spkA", "spkB"]


def log(*args):
    """Progress, on stderr: stdout is the Markdown report."""
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Voices


def synthesise_voice(folder, voice, pitch, speed, sentences):
    """Ten espeak-ng sentences as s01..s10.wav (16 kHz mono) in ``folder``."""
    import librosa

    os.makedirs(folder, exist_ok=True)
    for i, text in enumerate(sentences, start=1):
        path = os.path.join(folder, f"s{i:02d}.wav")
        if os.path.exists(path):
            continue
        raw = path + ".raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(speed), "-w", raw, text],
            check=True,
        )
        y, sr = load_audio(raw)
        os.remove(raw)
        y = librosa.resample(y, orig_sr=sr, target_sr=SR)
        y, _ = librosa.effects.trim(y, top_db=40)
        save_audio(path, 0.9 * y / np.max(np.abs(y)), SR)


def speaker_sentences(voices_dir, data_dir, name):
    folder = os.path.join(data_dir if name in RECORDED else voices_dir, name)
    return [load_audio(os.path.join(folder, f"s{i:02d}.wav"))[0] for i in range(1, 11)]


# ---------------------------------------------------------------------------
# Points, separators


def training_points(waveforms):
    """(t, f, |X|) points of several recordings laid end to end in time."""
    parts, offset = [], 0.0
    for y in waveforms:
        X = STFTSynthesizer(y, sr=SR, n_fft=N_FFT, hop_length=HOP, window=WINDOW).points()
        X[:, 0] += offset
        offset = float(X[:, 0].max()) + HOP / SR
        parts.append(X)
    return np.vstack(parts)


def nae_masks(estimators, M, freqs, *, n_steps=200, learning_rate=1e-2):
    """Eq. 8: Wiener masks of a mixture from frozen NAE decoders.

    Parameters
    ----------
    estimators : list of fitted NonNegativeAutoencoder, one per source
    M : ndarray of shape (n_frames, n_freqs)
        The mixture's magnitudes.
    freqs : ndarray of shape (n_freqs,)

    Returns
    -------
    masks : ndarray of shape (n_frames, n_freqs, n_sources)

    Each frame's latents (all sources') minimise ``KL(M | sum_s dec_s(h_s)) /
    s0 + sum_s lambda_s |h_s|_1`` over ``h >= 0`` by projected Rprop, from
    each source's encoder output on the mixture, keeping each frame's best
    iterate; ``s0`` is the mean training scale, so the penalty weighs as in
    training. Frames are independent.
    """
    decoders = [e._frame_decoder(freqs) for e in estimators]
    encoders = [e._frame_encoder(freqs) for e in estimators]
    Mt = torch.as_tensor(M, dtype=torch.float64)
    s0 = float(np.mean([e.scale_ for e in estimators]))
    lam = [float(e.sparsity) for e in estimators]
    with torch.no_grad():
        H = [enc(Mt).clamp_min(0.0) for enc in encoders]
    best = [h.clone() for h in H]
    best_obj = torch.full((Mt.shape[0],), float("inf"), dtype=torch.float64)
    for h in H:
        h.requires_grad_(True)
    opt = torch.optim.Rprop(H, lr=learning_rate)
    for step in range(n_steps + 1):
        Y = sum(dec(h) for dec, h in zip(decoders, H))
        per_frame = beta_divergence(Mt / s0, Y / s0, 1.0, reduction="none").sum(dim=1)
        per_frame = per_frame + sum(l * h.sum(dim=1) for l, h in zip(lam, H))
        with torch.no_grad():  # keep each frame's best iterate (Rprop may climb)
            better = per_frame.detach() < best_obj
            best_obj = torch.where(better, per_frame.detach(), best_obj)
            for b, h in zip(best, H):
                b[better] = h.detach()[better]
        if step == n_steps:
            break
        opt.zero_grad(set_to_none=True)
        per_frame.sum().backward()
        opt.step()
        with torch.no_grad():
            for h in H:
                h.clamp_min_(0.0)
    H = best
    with torch.no_grad():
        V = torch.stack([dec(h) for dec, h in zip(decoders, H)], dim=-1).numpy()
    total = V.sum(axis=-1, keepdims=True)
    return np.divide(V, total, out=np.full_like(V, 1.0 / V.shape[-1]), where=total > 0)


class NAESeparator:
    """Eq. 8 with already fitted autoencoders (one per source), with the
    ``masks(X)`` of ``SupervisedSeparator`` on a full STFT grid."""

    def __init__(self, estimators, n_steps):
        self.estimators = estimators
        self.n_steps = n_steps

    def masks(self, X):
        times, freqs = np.unique(X[:, 0]), np.unique(X[:, 1])
        M = X[:, 2].reshape(times.size, freqs.size)  # time-major grid order
        return nae_masks(self.estimators, M, freqs, n_steps=self.n_steps).reshape(len(X), -1)


def evaluate(separator, mix, truth):
    """(4, 2): SDR, SIR, SAR, STOI of both separated sources."""
    synth = STFTSynthesizer(mix, sr=SR, n_fft=N_FFT, hop_length=HOP, window=WINDOW)
    est = synth.istft_from_mask(separator.masks(synth.points()))
    r = bss_eval(truth, est, compute_permutation=False)
    return np.stack([r.sdr, r.sir, r.sar, [stoi(t, e, SR) for t, e in zip(truth, est)]])


# ---------------------------------------------------------------------------
# The experiment


def make_models(K, cfg, seed):
    """The three models at rank K. Every budget is a fixed number of steps
    (``tol=0``: the protocol trains for a set number of iterations, so no
    ConvergenceWarning is raised and none needs silencing)."""
    return {
        "NMF": MatrixNMF(K, max_iter=cfg["nmf_iter"], tol=0.0, random_state=seed),
        "NAE shallow": NonNegativeAutoencoder(
            K, sparsity=cfg["sparsity"][K != 20], max_iter=cfg["nae_iter"], tol=0.0,
            random_state=seed,
        ),
        "NAE multilayer": NonNegativeAutoencoder(
            K, hidden_layer_sizes=(cfg["hidden"],), sparsity=cfg["sparsity_ml"][K != 20],
            max_iter=cfg["nae_iter"], tol=0.0, random_state=seed,
        ),
    }


def run(speakers, sentences, ranks, cfg, seed):
    """Every pair of speakers, every model and rank.

    Returns ``rows[(model, K)]`` of shape (4, n_sources), the fit times, and
    the source names.
    """
    train_X = {s: training_points(sentences[s][:9]) for s in speakers}
    rows, fit_time = {}, {}
    fitted = {}  # (model, K, speaker) -> NAE estimator (NMF is refitted per pair)
    for K in ranks:
        for name in ("NAE shallow", "NAE multilayer"):
            t0 = time.perf_counter()
            for s in speakers:
                fitted[(name, K, s)] = make_models(K, cfg, seed)[name].fit(train_X[s])
            fit_time[(name, K)] = (time.perf_counter() - t0) / len(speakers)
            log(f"  {name} K={K}: {fit_time[(name, K)]:.0f} s per speaker")
    names = []
    for a, b in itertools.combinations(speakers, 2):
        ya, yb = sentences[a][9], sentences[b][9]
        n = min(ya.size, yb.size)
        mix, ya, yb = two_source_mixture(ya[:n], yb[:n], snr_db=0.0)
        truth = np.stack([ya, yb])
        names += [f"{a}+{b}:{a}", f"{a}+{b}:{b}"]
        for K in ranks:
            t0 = time.perf_counter()
            X = np.vstack([train_X[a], train_X[b] + [train_X[a][:, 0].max() + 1.0, 0, 0]])
            y = np.repeat([0, 1], [len(train_X[a]), len(train_X[b])])
            nmf = SupervisedSeparator(
                make_models(K, cfg, seed)["NMF"], max_iter=cfg["act_iter"]
            ).fit(X, y)
            fit_time.setdefault(("NMF", K), 0.0)
            fit_time[("NMF", K)] += (time.perf_counter() - t0) / 2
            seps = {"NMF": nmf}
            for name in ("NAE shallow", "NAE multilayer"):
                ests = [fitted[(name, K, a)], fitted[(name, K, b)]]
                seps[name] = NAESeparator(ests, cfg["act_iter"])
            for name, sep in seps.items():
                v = evaluate(sep, mix, truth)
                rows.setdefault((name, K), []).append(v)
                log(f"  {a}+{b} {name} K={K}: SDR {v[0].round(2)}")
    n_pairs = len(names) // 2
    fit_time.update({("NMF", K): fit_time[("NMF", K)] / n_pairs for K in ranks})
    return {k: np.concatenate(v, axis=1) for k, v in rows.items()}, fit_time, names


def median_iqr(v, digits=2):
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return f"{med:.{digits}f} [{q1:.{digits}f}, {q3:.{digits}f}]"


def training_speed(sentences, cfg, seed):
    """Seconds to train the rank-100 multilayer NAE on 10 s of speech, 1 thread."""
    y = np.concatenate(sentences)[: 10 * SR]
    X = training_points([y])
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        nae = make_models(100, cfg, seed)["NAE multilayer"].fit(X)
        return time.perf_counter() - t0, nae.n_iter_, len(np.unique(X[:, 0]))
    finally:
        torch.set_num_threads(n_threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="recorded speech (spkA, spkB)")
    parser.add_argument("--voices", default=None, help="keep the espeak-ng voices here")
    parser.add_argument("--tune", action="store_true",
                        help="run on the tuning voices only (never reported)")
    parser.add_argument("--quick", action="store_true", help="fewer steps, ranks 20 only")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the Markdown report here too")
    for key, default in [("nae_iter", 600), ("nmf_iter", 200), ("act_iter", 200),
                         ("hidden", 128)]:
        parser.add_argument(f"--{key.replace('_', '-')}", type=int, default=default)
    parser.add_argument("--sparsity", type=float, nargs=2, default=[1.0, 0.0],
                        metavar=("K20", "K100"), help="shallow NAE's sparsity at ranks 20, 100")
    parser.add_argument("--sparsity-ml", type=float, nargs=2, default=[1.0, 0.0],
                        metavar=("K20", "K100"), help="multilayer NAE's sparsity at ranks 20, 100")
    parser.add_argument("--ranks", type=int, nargs="+", default=[20, 100])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = {k: getattr(args, k) for k in
           ("nae_iter", "nmf_iter", "act_iter", "hidden", "sparsity", "sparsity_ml")}
    if args.quick:
        cfg.update(nae_iter=60, nmf_iter=60, act_iter=60)
    ranks = [20] if args.quick else args.ranks
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is needed: apt-get install espeak-ng")
    voices_dir = args.voices or tempfile.mkdtemp(prefix="nae_voices_")
    voices = TUNE_VOICES if args.tune else REPORT_VOICES
    for name, voice, pitch, speed, lst in voices:
        synthesise_voice(os.path.join(voices_dir, name), voice, pitch, speed, HARVARD[lst])
    speakers = [v[0] for v in voices] + ([] if args.tune else RECORDED)
    if not args.tune and not os.path.isdir(args.data):
        raise SystemExit(f"no recorded speech at {args.data}; pass --data DIR")
    sentences = {s: speaker_sentences(voices_dir, args.data, s) for s in speakers}

    t_start = time.perf_counter()
    rows, fit_time, names = run(speakers, sentences, ranks, cfg, args.seed)
    t_speed = None
    if not args.tune and not args.quick:
        t_speed = training_speed(sentences["spkA"], cfg, args.seed)
    total = time.perf_counter() - t_start
    if args.voices is None:
        shutil.rmtree(voices_dir, ignore_errors=True)

    out = []
    p = out.append
    mode = "tuning voices" if args.tune else "reported voices"
    p(f"## Speech separation with non-negative autoencoders ({mode})\n")
    p(f"Speakers: {', '.join(speakers)}; {len(names) // 2} mixtures (every pair; 0 dB; "
      f"sentence 10 of each speaker, cut to the shorter), {len(names)} separated sources. "
      f"Models trained on sentences 1-9 of each speaker; STFT 512 points, square-root "
      f"Hann, hop 128, magnitudes |X|, KL. NMF: MatrixNMF ({cfg['nmf_iter']} "
      f"iterations) in SupervisedSeparator ({cfg['act_iter']} updates per frame). NAE: "
      f"{cfg['nae_iter']} Rprop steps; shallow sparsity {cfg['sparsity'][0]:g} at K=20, "
      f"{cfg['sparsity'][1]:g} at K=100; multilayer hidden layer {cfg['hidden']} "
      f"(F -> {cfg['hidden']} -> K -> {cfg['hidden']} -> F), sparsity "
      f"{cfg['sparsity_ml'][0]:g} at K=20, {cfg['sparsity_ml'][1]:g} at K=100; eq. 8 with {cfg['act_iter']} Rprop steps on the "
      f"mixture's latents. Seed {args.seed}, {torch.get_num_threads()} thread(s), "
      f"{total / 60:.1f} min.\n")
    p("### Median [interquartile range] over the separated sources\n")
    p("| model | K | SDR (dB) | SIR (dB) | SAR (dB) | STOI | fit s / speaker |")
    p("|---|---:|---:|---:|---:|---:|---:|")
    for name in ("NMF", "NAE shallow", "NAE multilayer"):
        for K in ranks:
            v = rows[(name, K)]
            cells = [median_iqr(v[i]) for i in range(3)] + [median_iqr(v[3], 3)]
            p(f"| {name} | {K} | " + " | ".join(cells) + f" | {fit_time[(name, K)]:.0f} |")
    p("\n### Paired SDR differences (dB)\n")
    p("Per source (same mixture, same speaker): median [IQR] of the difference, "
      "the number of sources where the first is better, and the two-sided "
      "Wilcoxon signed-rank p-value.\n")
    p("| comparison | median [IQR] | first better | p |")
    p("|---|---:|---:|---:|")
    pairs = [(("NAE shallow", K), ("NMF", K)) for K in ranks]
    pairs += [(("NAE multilayer", K), ("NMF", K)) for K in ranks]
    if len(ranks) > 1:
        pairs += [(("NAE shallow", 20), ("NAE shallow", 100)),
                  (("NAE multilayer", 100), ("NAE multilayer", 20))]
    for first, second in pairs:
        d = rows[first][0] - rows[second][0]
        pval = scipy.stats.wilcoxon(d).pvalue if np.any(d != 0) else 1.0
        p(f"| {first[0]} {first[1]} - {second[0]} {second[1]} | {median_iqr(d)} | "
          f"{int(np.sum(d > 0))}/{d.size} | {pval:.3f} |")
    p("\n### Per source SDR (dB)\n")
    p("| source | " + " | ".join(f"{n} {K}" for n, K in rows) + " |")
    p("|---|" + "---:|" * len(rows))
    for i, src in enumerate(names):
        p(f"| {src} | " + " | ".join(f"{v[0, i]:.2f}" for v in rows.values()) + " |")
    if t_speed is not None:
        seconds, steps, frames = t_speed
        p(f"\n### Training speed\n\nNAE multilayer, K=100, hidden {cfg['hidden']}, on "
          f"10 s of speech (spkA, {frames} frames x 257 bins), full batch, 1 thread: "
          f"**{seconds:.1f} s** for {steps} Rprop steps ({1000 * seconds / steps:.0f} ms "
          "per step; the machine was shared with other jobs).")
    text = "\n".join(out)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
