"""Semi-supervised separation and sparsity on the shared speech.

Two experiments on the problem layer's penalties and free components
(``SupervisedSeparator(sparsity=..., cross_source_penalty=...,
n_free_components=...)``, ``MatrixNMF(alpha_W=..., l1_ratio=1)``):

1. **Semi-supervised.** One speaker's dictionary (MatrixNMF, K = 20) is
   trained on sentences s01..s08; its test sentences (s09, s10) are mixed at
   0 dB with a source that has *no* training data: the shared piano
   recording, or a synthesised drum loop (``datasets.drum_loop``), tiled to
   the sentence's length. Supervised-only separation must explain the
   unknown source with speech templates; ``n_free_components`` adds free
   components learned on the mixture. The speech's SDR is reported (2
   speakers x 2 sentences x 2 unknown sources = 8 mixtures).
2. **Sparsity.** The two-speaker 0 dB mixtures of separation.py (s09 + s09,
   s10 + s10), separated with each ``sparsity`` (the separator's penalty on
   the mixture's activations) and with dictionaries trained with each
   ``alpha_W`` (L1, ``l1_ratio=1``, templates unpenalised): mean SDR, the
   mixture model's KL (mean per point, ``separator.score``) and the Hoyer
   sparsity of the mixture's activations.

STFT: n_fft 1024, hop 256, |X| ** 0.5, 16 kHz; 200 NMF iterations, 200
activation updates per frame (300 with free components, solved jointly).

    python benchmarks/penalties.py [DATA] [--threads N] > benchmarks/penalties.md

Needs ``../shared/data`` (speech and piano), which tests never use.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

from sklearn_innmf import MatrixNMF
from sklearn_innmf.datasets import drum_loop, load_audio, two_source_mixture
from sklearn_innmf.metrics import bss_eval, hoyer_sparsity
from sklearn_innmf.representations import STFTSynthesizer
from sklearn_innmf.separation import fit_separator, separate_mixture

# Every MatrixNMF below trains for a fixed 200 iterations (tol=0, scikit-learn's
# default budget), so that the penalties are compared at one budget.
NMF = {"max_iter": 200, "tol": 0.0, "random_state": 0}

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))
SPEAKERS = ("spkA", "spkB")
TRAIN = [f"s{i:02d}" for i in range(1, 9)]
TEST = ["s09", "s10"]
N_FFT, POWER, K = 1024, 0.5, 20


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def load(path):
    y, sr = load_audio(path)
    return y.astype(np.float64), sr


def tile(y, n):
    return np.tile(y, int(np.ceil(n / y.size)))[:n]


def sdr_of(reference, estimate):
    return float(bss_eval(reference[None], estimate[None], compute_permutation=False).sdr[0])


def semi_supervised(data):
    piano, sr_p = load(os.path.join(data, "piano", "two_notes.wav"))
    drums, _ = drum_loop(sr=sr_p, duration=4.0, random_state=0)
    unknowns = {"piano": piano, "drums": np.asarray(drums, dtype=np.float64)}
    rows = []
    for speaker in SPEAKERS:
        other_speaker = [s for s in SPEAKERS if s != speaker][0]
        train = [load(os.path.join(data, "speech", speaker, f"{s}.wav"))[0] for s in TRAIN]
        stand_in = [load(os.path.join(data, "speech", other_speaker, f"{s}.wav"))[0]
                    for s in TRAIN]
        sr = load(os.path.join(data, "speech", speaker, "s01.wav"))[1]
        sep = fit_separator([train], sr, estimator=MatrixNMF(K, **NMF), n_fft=N_FFT,
                            power=POWER, random_state=0)
        # a wrong model for the unknown source: the other speaker's dictionary
        wrong = fit_separator([train, stand_in], sr, estimator=MatrixNMF(K, **NMF),
                              n_fft=N_FFT, power=POWER, random_state=0)
        for sentence in TEST:
            speech = load(os.path.join(data, "speech", speaker, f"{sentence}.wav"))[0]
            for name, other in unknowns.items():
                mix, a, b = two_source_mixture(speech, tile(other, speech.size), snr_db=0.0)
                row = {"speaker": speaker, "sentence": sentence, "unknown": name}
                for n_free in (0, 5, 10):
                    t0 = time.perf_counter()
                    sep.set_params(n_free_components=n_free, max_iter=300 if n_free else 200)
                    est = separate_mixture(sep, mix, sr, n_fft=N_FFT, power=POWER)
                    row[n_free] = sdr_of(a, est[0])
                    row[f"t{n_free}"] = time.perf_counter() - t0
                row["mix"] = sdr_of(a, mix)
                row["wrong"] = sdr_of(a, separate_mixture(wrong, mix, sr, n_fft=N_FFT,
                                                          power=POWER)[0])
                log(row)
                rows.append(row)
    return rows


def two_speaker_mixtures(data):
    out = []
    for sentence in TEST:
        (a, sr), (b, _) = (load(os.path.join(data, "speech", s, f"{sentence}.wav"))
                           for s in SPEAKERS)
        n = min(a.size, b.size)
        mix, a, b = two_source_mixture(a[:n], b[:n], snr_db=0.0)
        out.append((mix, np.stack([a, b]), sr))
    return out


def evaluate(sep, mixes):
    sdrs, kls, hoyers = [], [], []
    for mix, refs, sr in mixes:
        est = separate_mixture(sep, mix, sr, n_fft=N_FFT, power=POWER)
        sdrs += list(bss_eval(refs, est, compute_permutation=False).sdr)
        X = STFTSynthesizer(mix, sr=sr, n_fft=N_FFT).points(power=POWER)
        kls.append(-sep.score(X))
        hoyers.append(hoyer_sparsity(sep.mixture_activations(X), axis=1))
    return float(np.mean(sdrs)), float(np.mean(kls)), float(np.mean(hoyers))


def sparsity(data):
    mixes = two_speaker_mixtures(data)
    train = [[load(os.path.join(data, "speech", s, f"{t}.wav"))[0] for t in TRAIN]
             for s in SPEAKERS]
    sr = mixes[0][2]
    base = fit_separator(train, sr, estimator=MatrixNMF(K, **NMF), n_fft=N_FFT,
                         power=POWER, random_state=0)
    by_sparsity = []
    for s in (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3):
        by_sparsity.append((s, *evaluate(base.set_params(sparsity=s), mixes)))
        log("sparsity", by_sparsity[-1])
    base.set_params(sparsity=0.0)
    by_cross = []
    for c in (0.0, 0.003, 0.01, 0.03, 0.1, 1.0):
        by_cross.append((c, *evaluate(base.set_params(cross_source_penalty=c), mixes)))
        log("cross", by_cross[-1])
    base.set_params(cross_source_penalty=0.0)
    by_alpha = []
    for a in (0.0, 0.01, 0.03, 0.1):
        est = MatrixNMF(K, **NMF, alpha_W=a, alpha_H=0.0, l1_ratio=1.0)
        sep = fit_separator(train, sr, estimator=est, n_fft=N_FFT, power=POWER, random_state=0)
        train_hoyer = np.mean([
            hoyer_sparsity(e.model_.factors[0].values.detach().numpy(), axis=1)
            for e in sep.estimators_
        ])
        by_alpha.append((a, *evaluate(sep, mixes), float(train_hoyer)))
        log("alpha_W", by_alpha[-1])
    return by_sparsity, by_cross, by_alpha


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    rows = semi_supervised(args.data)
    by_sparsity, by_cross, by_alpha = sparsity(args.data)
    print("# Semi-supervised separation and sparsity (shared speech)\n")
    print(f"`python benchmarks/penalties.py --threads {args.threads}`: "
          f"{time.perf_counter() - t0:.0f} s. n_fft {N_FFT}, hop {N_FFT // 4}, "
          f"|X|^{POWER}, K = {K} per speaker.\n")
    print("## Semi-supervised: speech + an untrained source at 0 dB\n")
    print("SDR (dB) of the speech; `free = n` is `n_free_components=n`.\n")
    print("*supervised only*: the speech dictionary explains the whole mixture (one "
          "output: the mixture itself); *other speaker as 2nd source*: supervised with "
          "the other speaker's dictionary standing in for the unknown source.\n")
    print("| speaker | sentence | unknown | supervised only | other speaker as 2nd source "
          "| free = 5 | free = 10 |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['speaker']} | {r['sentence']} | {r['unknown']} | {r[0]:.2f} | "
              f"{r['wrong']:.2f} | {r[5]:.2f} | {r[10]:.2f} |")
    for n_free in (5, 10):
        gain = np.array([r[n_free] - r[0] for r in rows])
        print(f"\nfree = {n_free}: SDR gain over supervised-only, mean {gain.mean():+.2f} dB, "
              f"median {np.median(gain):+.2f}, min {gain.min():+.2f}, max {gain.max():+.2f}; "
              f"time per mixture {np.mean([r[f't{n_free}'] for r in rows]):.1f} s "
              f"(supervised only {np.mean([r['t0'] for r in rows]):.1f} s).")
    gain = np.array([r[5] - r["wrong"] for r in rows])
    print(f"\nfree = 5 against the other speaker as stand-in: mean {gain.mean():+.2f} dB, "
          f"min {gain.min():+.2f}, max {gain.max():+.2f}.")
    print("\n## Sparsity of the mixture's activations (`sparsity`)\n")
    print("Two-speaker 0 dB mixtures (s09 + s09, s10 + s10); mean over 4 sources.\n")
    print("| sparsity | SDR (dB) | KL of the mixture model | Hoyer of the activations |")
    print("|---|---|---|---|")
    for s, sdr, kl, h in by_sparsity:
        print(f"| {s} | {sdr:.2f} | {kl:.4g} | {h:.3f} |")
    print("\n## Cross-source penalty (`cross_source_penalty`)\n")
    print("| cross_source_penalty | SDR (dB) | KL of the mixture model | Hoyer |")
    print("|---|---|---|---|")
    for c, sdr, kl, h in by_cross:
        print(f"| {c} | {sdr:.2f} | {kl:.4g} | {h:.3f} |")
    print("\n## L1 on the dictionaries' training activations (`MatrixNMF(alpha_W=...)`)\n")
    print("`l1_ratio=1`, `alpha_H=0`; separation without `sparsity`.\n")
    print("| alpha_W | SDR (dB) | KL of the mixture model | Hoyer (mixture) | "
          "Hoyer (training activations) |")
    print("|---|---|---|---|---|")
    for a, sdr, kl, h, th in by_alpha:
        print(f"| {a} | {sdr:.2f} | {kl:.4g} | {h:.3f} | {th:.3f} |")


if __name__ == "__main__":
    main()
