"""Speed: MatrixNMF vs scikit-learn's NMF, ImplicitNMF's unique-coordinate
evaluation vs per-point evaluation. Side by side in one run, 1 thread.

    python benchmarks/speed.py [--quick] [--threads N]

Prints markdown tables. Timings are medians of repeated runs; compare the
ratios, not the absolute figures (other work may share the cores).
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklearn_innmf import ImplicitNMF, MatrixNMF, grid_to_points
from sklearn_innmf.model import PointData, prepare_points
from sklearn_innmf.solvers import fit_gradient

warnings.simplefilter("ignore", ConvergenceWarning)


def spectrogram(n_freqs, n_times, seed=0):
    """A non-negative, roughly low-rank (freq x time) magnitude matrix."""
    rng = np.random.RandomState(seed)
    V = rng.rand(n_freqs, 30) ** 4 @ rng.rand(30, n_times) ** 4 + 0.01 * rng.rand(n_freqs, n_times)
    return V, np.arange(n_times) * 0.016, np.linspace(0, 8000, n_freqs)


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench_matrix(n_freqs, n_times, K, n_iter, repeats):
    V, times, freqs = spectrogram(n_freqs, n_times)
    rows = []
    for dtype in (np.float32, np.float64):
        Vd = V.astype(dtype)
        X = grid_to_points(Vd, times, freqs)
        skl = NMF(K, solver="mu", beta_loss="kullback-leibler", init="random",
                  random_state=0, max_iter=n_iter, tol=0)
        t_skl = median_time(lambda: skl.fit_transform(Vd.T), repeats)
        rows.append((dtype.__name__, "sklearn NMF (mu, KL)", t_skl))
        for ours_dtype in ("float32", "float64"):
            est = MatrixNMF(K, init="random", random_state=0, max_iter=n_iter, tol=0,
                            device="cpu", dtype=ours_dtype)
            t = median_time(lambda: est.fit(X), repeats)
            rows.append((dtype.__name__, f"MatrixNMF (compute {ours_dtype})", t, t_skl / t))
    return rows


def bench_implicit_step(n_freqs, n_times, K, n_steps, repeats):
    V, times, freqs = spectrogram(n_freqs, n_times)
    X = grid_to_points(V, times, freqs)
    est = ImplicitNMF(K, max_iter=1, device="cpu", random_state=0)
    coords, m = X[:, :2], X[:, 2]
    unique = prepare_points(coords, m, scale=m.mean(), device="cpu", dtype=torch.float32)
    scattered = prepare_points(coords, m, scale=m.mean(), device="cpu", dtype=torch.float32,
                               allow_dense=False)
    # per point: every point's coordinates go through the networks
    L = len(X)
    per_point = PointData(
        uniques=[torch.as_tensor(coords[:, a], dtype=torch.float64) for a in range(2)],
        index=[torch.arange(L), torch.arange(L)],
        m=unique.m if unique.grid is None else torch.as_tensor(m / m.mean(), dtype=torch.float32),
        scale=float(m.mean()),
    )
    generator, rng = est._generators()
    rows = []
    # the per-point baseline is ~1000x slower: one step, timed once
    for label, data, steps, reps in [
        ("unique coordinates, grid product", unique, n_steps, repeats),
        ("unique coordinates, gather per point", scattered, n_steps, repeats),
        ("every point through the networks", per_point, 1, 1),
    ]:
        model = est._init_model(unique, generator, rng)

        def run():
            fit_gradient(model, data, beta=1.0, max_iter=steps, tol=0, learning_rate=3e-3,
                         train_axes=[0, 1])

        t = median_time(run, reps) / steps
        rows.append((label, t))
    base = rows[-1][1]
    return [(label, t, base / t) for label, t in rows]


def irregular_points(n_points, seed=0):
    """Random (t, f) points with magnitudes interpolated from a spectrogram."""
    from scipy.interpolate import RegularGridInterpolator

    V, times, freqs = spectrogram(257, 200, seed)
    rng = np.random.RandomState(seed)
    t = rng.uniform(times[0], times[-1], n_points)
    f = rng.uniform(freqs[0], freqs[-1], n_points)
    m = RegularGridInterpolator((freqs, times), V)(np.column_stack([f, t]))
    return np.column_stack([t, f, m])


def bench_architecture(n_points, K, n_steps):
    """Separate networks (the paper's) vs one shared trunk on irregular points."""
    X = irregular_points(n_points)
    rows = []
    for architecture in ("separate", "shared"):
        est = ImplicitNMF(K, architecture=architecture, max_iter=n_steps, tol=0,
                          random_state=0, device="cpu")
        t0 = time.perf_counter()
        est.fit(X)
        seconds = time.perf_counter() - t0
        rows.append((architecture, 1000 * seconds / n_steps, -est.score(X)))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer iterations and repeats")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    repeats = 3 if args.quick else 5
    with threadpool_limits(args.threads):
        n_iter = 50 if args.quick else 200
        print(f"\n## MatrixNMF vs sklearn NMF (KL, mu), 1025 x 400, K=20, {n_iter} iterations, "
              f"{args.threads} thread(s)\n")
        print("| input dtype | estimator | time (s) | speed-up vs sklearn |")
        print("|---|---|---|---|")
        for row in bench_matrix(1025, 400, 20, n_iter, repeats):
            ratio = f"{row[3]:.2f}x" if len(row) > 3 else "1.00x"
            print(f"| {row[0]} | {row[1]} | {row[2]:.3f} | {ratio} |")
        steps = 5 if args.quick else 20
        print(f"\n## ImplicitNMF time per training step, 1025 x 200 grid, K=20, hidden 64, "
              f"4 layers, {args.threads} thread(s)\n")
        print("| evaluation | ms / step | speed-up vs per point |")
        print("|---|---|---|")
        for label, t, ratio in bench_implicit_step(1025, 200, 20, steps, repeats):
            print(f"| {label} | {1000 * t:.1f} | {ratio:.1f}x |")
        n_points = 5_000 if args.quick else 20_000
        n_steps = 30 if args.quick else 200
        print(f"\n## ImplicitNMF architectures on {n_points} irregular points (every t and f "
              f"unique), K=20, {n_steps} steps, {args.threads} thread(s)\n")
        print("| architecture | ms / step | mean KL after training |")
        print("|---|---|---|")
        for architecture, ms, kl in bench_architecture(n_points, 20, n_steps):
            print(f"| {architecture} | {ms:.1f} | {kl:.4g} |")


if __name__ == "__main__":
    main()
