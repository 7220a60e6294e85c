"""Threads: the package's "auto" thread choice against torch's default.

Runs the README's example fit (ImplicitNMF(4, time_factor="table") on an
STFT of two synthesised piano notes) and a larger MatrixNMF fit (speech-sized
grid, 1025 x 400, K = 20, 200 iterations) three ways, side by side in one
run: the package default (``num_threads("auto")``), 1 thread, and torch's
default (one per core). Prints a Markdown table with the machine's load
average, which decides what "auto" gives on large problems.

    python benchmarks/threads.py [--repeat N]
"""

import argparse
import os
import time

import numpy as np
import torch

import sklearn_innmf
from sklearn_innmf import ImplicitNMF, MatrixNMF, grid_to_points
from sklearn_innmf.datasets import piano_notes
from sklearn_innmf.representations import stft_points


def readme_fit():
    y, sr = piano_notes(("A3", "E4"), random_state=0)
    X = stft_points(y, sr=sr, n_fft=1024, power=0.5)
    return lambda: ImplicitNMF(n_components=4, time_factor="table", random_state=0).fit(X)


def large_fit():
    rng = np.random.RandomState(0)
    V = rng.rand(1025, 20) @ rng.rand(20, 400) + 0.01
    X = grid_to_points(V, np.arange(400) * 0.01, np.arange(1025) * 8.0)
    return lambda: MatrixNMF(20, init="random", max_iter=200, tol=0, random_state=0).fit(X)


def timed(fit, setting):
    with sklearn_innmf.num_threads(setting):
        t0 = time.perf_counter()
        fit()
        return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    cores = torch.get_num_threads()
    print(f"torch default threads {cores}; load average at start "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print(f"| fit | auto (s) | 1 thread (s) | {cores} threads (s) | load |")
    print("|---|---|---|---|---|")
    for name, fit in [("README example", readme_fit()), ("MatrixNMF 1025x400 K=20", large_fit())]:
        timed(fit, 1)  # warm-up: first-call costs are not the thread count's
        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            t = [timed(fit, s) for s in ("auto", 1, cores)]
            print(f"| {name} | {t[0]:.2f} | {t[1]:.2f} | {t[2]:.2f} | {load:.1f} |", flush=True)


if __name__ == "__main__":
    main()
