"""Peak memory of fit, transform and score at 10^5, 10^6 and 10^7 points.

    python benchmarks/memory.py [--quick] [--threads N]

Each case runs in a fresh subprocess, so one case's allocations cannot hide
another's. The child builds its input (float32 points, as audio features
usually are) and, for transform and score, a model fitted on 10^4 of the
points; it runs the operation once on 2 x 10^4 points (the first fit imports
much of torch), then resets the kernel's high-water mark of its resident
memory (``/proc/self/clear_refs``, Linux) and runs the operation. Reported:

* peak RSS: the process' resident high-water mark during the operation; it
  counts everything, NumPy and torch's CPU allocations alike;
* delta: peak RSS minus the resident size just before the operation, i.e.
  what the operation itself needed; for transform, "working" is the delta
  minus the returned array (which has to exist);
* NumPy peak: tracemalloc's peak (NumPy reports its buffers to tracemalloc,
  torch does not), so delta - NumPy peak is roughly torch's share.

Layouts: "grid" is an STFT of 1025 bins (points / 1025 frames), "scattered"
has every t and f unique (the worst case for both estimators). ``--quick``
stops at 10^6 points. Prints a markdown table.
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np

SIZES = [10**5, 10**6, 10**7]
N_FREQS = 1025
K = 8
SMALL_NET = dict(encoding_size=6, hidden_size=32, n_layers=2)

# name: (operation, estimator, layout, largest size)
CASES = {
    "fit-matrix-grid": ("fit", "MatrixNMF", "grid", 10**7),
    "fit-implicit-table-grid": ("fit", "ImplicitNMF table time", "grid", 10**7),
    "fit-matrix-scattered": ("fit", "MatrixNMF", "scattered", 10**7),
    "fit-implicit-shared-scattered": ("fit", "ImplicitNMF shared", "scattered", 10**6),
    "transform-matrix-scattered": ("transform", "MatrixNMF", "scattered", 10**7),
    "transform-implicit-scattered": ("transform", "ImplicitNMF", "scattered", 10**7),
    "score-implicit-scattered": ("score", "ImplicitNMF", "scattered", 10**7),
}


def make_points(n_points, layout, seed=0):
    """float32 (t, f, m) points, built in place to keep temporaries small."""
    rng = np.random.RandomState(seed)
    X = np.empty((n_points, 3), dtype=np.float32)
    if layout == "grid":
        n_times = n_points // N_FREQS
        n_points = n_times * N_FREQS
        X = X[:n_points]
        X[:, 0] = np.repeat(np.arange(n_times, dtype=np.float32) * 0.01, N_FREQS)
        X[:, 1] = np.tile(np.linspace(0, 8000, N_FREQS, dtype=np.float32), n_times)
        W = rng.rand(N_FREQS, 4).astype(np.float32) ** 4
        H = rng.rand(4, n_times).astype(np.float32)
        X[:, 2].reshape(n_times, N_FREQS)[:] = (W @ H).T
    else:
        X[:, 0] = rng.uniform(0, 100, n_points)
        X[:, 1] = rng.uniform(0, 8000, n_points)
        X[:, 2] = np.exp(-(((X[:, 1] - 1000) / 500) ** 2)) * (1 + np.sin(X[:, 0]))
        X[:, 2] += 0.01
    return X


def estimator(name, max_iter):
    from sklearn_innmf import ImplicitNMF, MatrixNMF

    common = dict(max_iter=max_iter, tol=0, random_state=0, device="cpu")
    if name == "MatrixNMF":
        return MatrixNMF(K, init="random", **common)
    if name == "ImplicitNMF table time":
        return ImplicitNMF(K, time_factor="table", **SMALL_NET, **common)
    if name == "ImplicitNMF shared":
        return ImplicitNMF(K, architecture="shared", **SMALL_NET, **common)
    return ImplicitNMF(K, **SMALL_NET, **common)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024


def reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run_case(case, n_points, threads):
    """In the child: build the input, run one operation, measure."""
    import torch

    torch.set_num_threads(threads)
    operation, name, layout, _ = CASES[case]
    X = make_points(n_points, layout)
    if operation == "fit":
        est = estimator(name, max_iter=3)
        op = lambda X: est.fit(X)  # noqa: E731
    else:
        subset = X[np.random.RandomState(1).choice(len(X), 10_000, replace=False)]
        est = estimator(name, max_iter=2).fit(subset)
        op = getattr(est, operation)
    # warm up on a few points: the first fit imports much of torch (its
    # optimisers load torch._dynamo), which is neither the operation's
    # memory nor its time
    op(make_points(20_000, layout, seed=2))
    gc.collect()
    before = rss_mb()
    exact = reset_peak()
    tracemalloc.start()
    t0 = time.perf_counter()
    out = op(X)
    seconds = time.perf_counter() - t0
    numpy_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    peak = peak_rss_mb()
    output = out.nbytes / 2**20 if isinstance(out, np.ndarray) else 0.0
    return dict(
        case=case, operation=operation, estimator=name, layout=layout, points=len(X),
        input_mb=X.nbytes / 2**20, output_mb=output, before_mb=before, peak_mb=peak,
        delta_mb=peak - before, numpy_peak_mb=numpy_peak, seconds=seconds, exact=exact,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="stop at 10^6 points")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # child mode
    parser.add_argument("--points", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.points, args.threads)))
        return
    largest = 10**6 if args.quick else 10**7
    print(f"## Peak memory, {args.threads} torch thread(s), K={K}, float32 points\n")
    print("| operation | estimator | layout | points | input MB | output MB | peak RSS MB "
          "| delta MB | delta - output MB | NumPy peak MB | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for case, (operation, name, layout, case_max) in CASES.items():
        for n in SIZES:
            if n > min(largest, case_max):
                continue
            cmd = [sys.executable, __file__, "--case", case, "--points", str(n),
                   "--threads", str(args.threads)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"| {operation} | {name} | {layout} | {n:.0e} | failed: "
                      f"{proc.stderr.strip().splitlines()[-1]} |||||||")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            mark = "" if r["exact"] else " (maxrss)"
            print(f"| {operation} | {name} | {layout} | {r['points']:.2e} | {r['input_mb']:.0f} "
                  f"| {r['output_mb']:.0f} | {r['peak_mb']:.0f}{mark} | {r['delta_mb']:.0f} "
                  f"| {r['delta_mb'] - r['output_mb']:.0f} | {r['numpy_peak_mb']:.0f} "
                  f"| {r['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
