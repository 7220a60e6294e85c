"""Speed (and peak memory) of MatrixNMF and ImplicitNMF, side by side in one run.

    OMP_NUM_THREADS=1 python benchmarks/speed.py [--quick] [--out DIR]

Prints Markdown tables (``benchmarks/speed.md`` holds one run's output) and
saves ``scaling.png`` to ``--out`` (default ``benchmarks/figures/``):

1. MatrixNMF against scikit-learn's ``NMF(solver="mu",
   beta_loss="kullback-leibler")`` on a 1025 x 400 spectrogram, K=20, a fixed
   number of iterations (``tol=0``), float32 and float64 input, at 1 and 2
   threads (torch threads and BLAS/OpenMP pools limited per block). The
   speed-up is against sklearn at the same dtype and thread count.
2. ImplicitNMF's time per training step: networks evaluated once per unique
   coordinate (grid product, or gathered per point) against every point
   through the networks, at 1 and 2 threads.
3. Separate networks against one shared trunk on irregular points.
4. Scaling with the number of points (10^4 to 10^6; ``--quick`` stops at
   10^5), on a full STFT-like grid and on irregular points (every t and f
   unique): time per step and the extra peak RSS of a fit. Each case runs in
   a fresh subprocess (the measuring helpers are ``benchmarks/memory.py``'s).
   Time per step is ``(t(fit, n steps) - t(fit, 1 step)) / (n - 1)``, so the
   one-off work of a fit (unique coordinates, grid layout, init) is left out;
   peak memory is the fit's resident high-water mark minus the resident size
   before it (``/proc/self/clear_refs``, Linux), so it counts NumPy and torch.
5. The fraction of the machine's matrix-multiply throughput that MatrixNMF's
   iteration achieves: torch.mm at the iteration's own shapes and dtype
   (1 thread), FLOPs counted from ``solvers.multiplicative_update``.
6. Implicit factors on irregular points through a lattice
   (``ImplicitFactor(lattice=...)``): the interpolation's error against the
   network, KL after equal numbers of steps with exact and lattice
   evaluation, and time per step at 10^5 and 10^6 points, K=20, the default
   network, 1 thread. ``--lattice`` runs this section alone.

Reading the figure: two log-log panels against the number of points, time
per step (left) and extra peak RSS of a fit (right), one line per estimator
and layout. A slope of 1 is linear growth; on a grid, MatrixNMF's and
ImplicitNMF's costs grow with the grid's cells, on irregular points with the
points times K (MatrixNMF's gathers) or the unique coordinates times the
network size (ImplicitNMF).

Timings are medians of repeats, measured side by side; compare the ratios,
not the absolute figures (other work may share the cores: the load average
is printed with the tables).
"""

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklearn_innmf import ImplicitNMF, MatrixNMF, grid_to_points
from sklearn_innmf.factors import AUTO_LATTICE, AUTO_LATTICE_ABOVE, ImplicitFactor
from sklearn_innmf.problem import PointData, SeparableModel, prepare_points
from sklearn_innmf.problem import Block, Problem
from sklearn_innmf.solvers import multiplicative_update, solve_gradient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import memory  # noqa: E402  (the peak-RSS helpers and the point layouts)

warnings.simplefilter("ignore", ConvergenceWarning)

THREADS = (1, 2)
FIGURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "figures")


@contextlib.contextmanager
def n_threads(n):
    """torch's intra-op threads and every BLAS/OpenMP pool limited to n."""
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(old)


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


def load():
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min)"


# -- 1. MatrixNMF vs sklearn ------------------------------------------------


def bench_matrix(n_freqs, n_times, K, n_iter, repeats):
    """Rows (threads, input dtype, estimator, seconds, speed-up vs sklearn)."""
    V, times, freqs = spectrogram(n_freqs, n_times)
    rows = []
    for threads in THREADS:
        with n_threads(threads):
            for dtype in (np.float32, np.float64):
                Vd = V.astype(dtype)
                X = grid_to_points(Vd, times, freqs)
                skl = NMF(K, solver="mu", beta_loss="kullback-leibler", init="random",
                          random_state=0, max_iter=n_iter, tol=0)
                t_skl = median_time(lambda: skl.fit_transform(Vd.T), repeats)
                rows.append((threads, dtype.__name__, "sklearn NMF (mu, KL)", t_skl, 1.0))
                for ours in ("float32", "float64"):
                    est = MatrixNMF(K, init="random", random_state=0, max_iter=n_iter, tol=0,
                                    device="cpu", dtype=ours)
                    t = median_time(lambda: est.fit(X), repeats)
                    label = "MatrixNMF (default, float32)" if ours == "float32" else \
                        "MatrixNMF (dtype='float64')"
                    rows.append((threads, dtype.__name__, label, t, t_skl / t))
    return rows


def table_matrix(quick):
    n_iter, repeats = (50, 3) if quick else (200, 5)
    print(f"\n### MatrixNMF vs scikit-learn NMF, 1025 x 400, K=20, {n_iter} iterations\n")
    print("Whole `fit` (init included), `tol=0`, median of "
          f"{repeats}; speed-up against sklearn at the same input dtype and threads. "
          "2-thread rows mean little when the load average exceeds the cores (threads "
          "wait for preempted peers).\n")
    print("| threads | input dtype | estimator | time (s) | speed-up vs sklearn |")
    print("|---|---|---|---|---|")
    for threads, dtype, label, t, ratio in bench_matrix(1025, 400, 20, n_iter, repeats):
        print(f"| {threads} | {dtype} | {label} | {t:.3f} | {ratio:.2f}x |", flush=True)


# -- 2. ImplicitNMF: unique coordinates vs per point -------------------------


def gradient_fit(model, data, learning_rate, steps):
    """``steps`` Rprop steps of every network of the model, KL, no stopping."""
    blocks = [Block(a, "gradient") for a in range(len(model.factors))]
    return solve_gradient(Problem(model, data, 1.0, blocks), max_iter=steps, tol=0,
                          learning_rate=learning_rate)


def bench_implicit_step(n_freqs, n_times, K, n_steps, repeats):
    """Rows (threads, evaluation, seconds per step, speed-up vs per point)."""
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
        m=torch.as_tensor(m / m.mean(), dtype=torch.float32),
        scale=float(m.mean()),
    )
    generator, rng = est._generators()
    rows = []
    for threads in THREADS:
        with n_threads(threads):
            block = []
            # the per-point baseline is ~100x slower: one step, timed once
            for label, data, steps, reps in [
                ("unique coordinates, grid product", unique, n_steps, repeats),
                ("unique coordinates, gathered per point", scattered, n_steps, repeats),
                ("every point through the networks", per_point, 1, 1),
            ]:
                model = est._init_model(unique, generator, rng)

                def run():
                    # max_iter steps take max_iter + 1 forward passes
                    gradient_fit(model, data, 3e-3, steps)

                block.append((label, median_time(run, reps) / steps))
            base = block[-1][1]
            rows += [(threads, label, t, base / t) for label, t in block]
    return rows


def table_implicit(quick):
    n_freqs, n_times = (257, 100) if quick else (513, 200)
    steps, repeats = (3, 3) if quick else (10, 3)
    print(f"\n### ImplicitNMF time per training step, {n_freqs} x {n_times} grid, K=20\n")
    d = ImplicitNMF()
    print(f"Default networks ({d.encoding_size} Fourier frequencies, {d.n_layers} sine layers "
          f"of {d.hidden_size}), Rprop, both axes trained; {steps} steps, median of "
          f"{repeats} (the per-point baseline: one step, once). The speed-up grows with "
          "the number of points per unique coordinate.\n")
    print("| threads | evaluation | ms / step | speed-up vs per point |")
    print("|---|---|---|---|")
    for threads, label, t, ratio in bench_implicit_step(n_freqs, n_times, 20, steps, repeats):
        print(f"| {threads} | {label} | {1000 * t:.1f} | {ratio:.1f}x |", flush=True)


# -- 3. ImplicitNMF architectures --------------------------------------------


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
    with n_threads(1):
        for architecture in ("separate", "shared"):
            est = ImplicitNMF(K, architecture=architecture, max_iter=n_steps, tol=0,
                              random_state=0, device="cpu")
            t0 = time.perf_counter()
            est.fit(X)
            seconds = time.perf_counter() - t0
            rows.append((architecture, 1000 * seconds / n_steps, -est.score(X)))
    return rows


def table_architecture(quick):
    n_points, n_steps = (2_000, 10) if quick else (5_000, 50)
    print(f"\n### ImplicitNMF architectures, {n_points} irregular points, K=20, "
          f"{n_steps} steps, 1 thread\n")
    print("Every t and f unique (the worst case for per-unique-coordinate evaluation); "
          "whole fit divided by the steps.\n")
    print("| architecture | ms / step | mean KL after training |")
    print("|---|---|---|")
    for architecture, ms, kl in bench_architecture(n_points, 20, n_steps):
        print(f"| {architecture} | {ms:.1f} | {kl:.4g} |", flush=True)


# -- 4. Scaling with the number of points (subprocesses) ---------------------

SCALING_K = 8
# (label, estimator, steps); ImplicitNMF with memory.py's small shared network:
# the default (K separate 4 x 64 networks) needs ~50 s a step at 10^5
# irregular points, and tens of GB at 10^6
# steps per layout: enough that they outweigh the fit's one-off work
SCALING_ESTIMATORS = [
    ("MatrixNMF", "matrix", {"grid": 100, "scattered": 10}),
    ("ImplicitNMF (small, shared)", "implicit", {"grid": 20, "scattered": 5}),
]


def scaling_estimator(kind, max_iter):
    common = dict(max_iter=max_iter, tol=0, random_state=0, device="cpu")
    if kind == "matrix":
        return MatrixNMF(SCALING_K, init="random", **common)
    return ImplicitNMF(SCALING_K, architecture="shared", **memory.SMALL_NET, **common)


def scaling_case(kind, layout, n_points, steps):
    """In the child: time per step and extra peak RSS of one fit."""
    import gc

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X = memory.make_points(n_points, layout)
    # the first fit imports much of torch (not the fit's memory or time)
    scaling_estimator(kind, 2).fit(memory.make_points(20_000, layout, seed=2))
    # the measured fit first: memory freed by an earlier fit on X and kept by
    # the allocator would count in the resident size before it, not in its peak
    est = scaling_estimator(kind, steps)
    gc.collect()
    before = memory.rss_mb()
    exact = memory.reset_peak()
    t0 = time.perf_counter()
    est.fit(X)
    t_all = time.perf_counter() - t0
    peak = memory.peak_rss_mb()
    t_one = median_time(lambda: scaling_estimator(kind, 1).fit(X), 3)
    return dict(points=len(X), step=(t_all - t_one) / (steps - 1), fit=t_all,
                input_mb=X.nbytes / 2**20, delta_mb=peak - before, exact=exact)


def bench_scaling(sizes):
    """Rows (estimator, layout, points, s / step, fit s, input MB, extra peak MB)."""
    rows = []
    for label, kind, layout_steps in SCALING_ESTIMATORS:
        for layout, steps in layout_steps.items():
            for n in sizes:
                cmd = [sys.executable, os.path.abspath(__file__), "--scaling-case",
                       kind, layout, str(n), str(steps)]
                env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if proc.returncode != 0:
                    error = (proc.stderr.strip().splitlines() or ["?"])[-1]
                    rows.append((label, layout, n, None, error))
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append((label, layout, r["points"], steps, r))
    return rows


def table_scaling(quick, out):
    sizes = [10**4, 10**5] if quick else [10**4, 10**5, 10**6]
    print(f"\n### Scaling with the number of points, K={SCALING_K}, 1 thread\n")
    print("Grid: an STFT-like full grid of 1025 bins (points / 1025 frames); scattered: "
          "every t and f unique. ImplicitNMF with a small shared network (6 Fourier "
          "features, 2 sine layers of 32). Each case in a fresh process; time per step "
          "without the fit's one-off work ((fit of n steps - fit of 1 step) / (n - 1), "
          "the 1-step fit a median of 3); extra peak RSS of the whole fit "
          "(float32 input).\n")
    print("| estimator | layout | points | steps | ms / step | fit (s) | input MB "
          "| extra peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    rows = bench_scaling(sizes)
    for label, layout, n, steps, r in rows:
        if steps is None:
            print(f"| {label} | {layout} | {n:.0e} | failed: {r} |||||")
            continue
        mark = "" if r["exact"] else " (maxrss)"
        print(f"| {label} | {layout} | {n:.2e} | {steps} | {1000 * r['step']:.1f} "
              f"| {r['fit']:.2f} | {r['input_mb']:.1f} | {max(r['delta_mb'], 0):.0f}{mark} |",
              flush=True)
    plot_scaling(rows, out)


def plot_scaling(rows, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    series = {}
    for label, layout, n, steps, r in rows:
        if steps is not None:
            series.setdefault((label, layout), []).append((n, r["step"], max(r["delta_mb"], 1)))
    for (label, layout), points in series.items():
        n, step, mb = map(np.array, zip(*points))
        style = dict(marker="o", linestyle="-" if layout == "grid" else "--",
                     label=f"{label}, {layout}")
        ax_t.loglog(n, 1000 * step, **style)
        ax_m.loglog(n, mb, **style)
    ax_t.set(xlabel="points", ylabel="ms per step", title="time per step (1 thread)")
    ax_m.set(xlabel="points", ylabel="MB", title="extra peak RSS of a fit (< 1 MB shown at 1)")
    for ax in (ax_t, ax_m):
        ax.grid(True, which="both", alpha=0.3)
    ax_t.legend(fontsize=8)
    path = os.path.join(out, "scaling.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"\nFigure: `{os.path.relpath(path)}` (log-log: time per step and extra peak "
          "RSS against the number of points).")


# -- 5. Achieved fraction of matrix-multiply throughput ---------------------


def bench_flops(T, F, K, dtype, repeats):
    """One KL-MU iteration on a full T x F grid against torch.mm at its shapes.

    ``multiplicative_update`` on a full grid, for each of the two axes, does
    two matmuls, ``WH = H @ W.T`` (T x K by K x F) and the numerator
    (T x F by F x K, or its transpose by T x K for W): 2 T F K FLOPs each,
    8 T F K per iteration. Elementwise on the T x F grid: ``clamp_min_`` and
    the division ``V / WH``, 2 T F per axis, 4 T F per iteration. Small
    (x K) work (column sums, the zero test, the ratio, the in-place product,
    H's threshold) is under 1% and not counted; nor is the loss, which fit
    takes every 10th iteration (a log per cell).
    """
    V, times, freqs = spectrogram(F, T)
    X = grid_to_points(V.astype(np.float32), times, freqs)
    est = MatrixNMF(K, init="random", random_state=0, dtype=dtype, device="cpu")
    data = est._prepare(est._validate_points(X, reset=True), torch.device("cpu"))
    generator, rng = est._generators()
    model = est._init_model(data, generator, rng)
    values = [f.values.data.clone() for f in model.factors]
    H, W, grid = values[0], values[1], data.grid  # (T, K), (F, K), (T, F)
    assert grid.shape == (T, F) and data.mask is None
    n_inner = 50

    def per_call(fn, n=n_inner):
        fn()
        return median_time(lambda: [fn() for _ in range(n)], repeats) / n

    out_tf = torch.empty(T, F, dtype=grid.dtype)
    out_tk, out_fk = torch.empty(T, K, dtype=grid.dtype), torch.empty(F, K, dtype=grid.dtype)
    num = grid / (H @ W.T)
    mm = [
        ("WH = H @ W.T", lambda: torch.mm(H, W.T, out=out_tf)),
        ("num @ W", lambda: torch.mm(num, W, out=out_tk)),
        ("num.T @ H", lambda: torch.mm(num.T, H, out=out_fk)),
    ]
    t_mm = {name: per_call(fn) for name, fn in mm}
    # the iteration does WH twice (once per axis) and each numerator once
    t_mm_iter = 2 * t_mm["WH = H @ W.T"] + t_mm["num @ W"] + t_mm["num.T @ H"]
    y = H @ W.T

    def elementwise():
        y.clamp_min_(1e-7)
        torch.div(grid, y, out=y)

    t_ew_iter = 2 * per_call(elementwise)

    def iteration():
        multiplicative_update(values, 0, data, 1.0, with_loss=False)
        multiplicative_update(values, 1, data, 1.0, with_loss=False)

    t_iter = per_call(iteration)
    # the whole fit (init, loss every 10 iterations) per iteration
    n_iter = 200
    fit = MatrixNMF(K, init="random", random_state=0, dtype=dtype, device="cpu",
                    max_iter=n_iter, tol=0)
    t_fit = median_time(lambda: fit.fit(X), repeats) / n_iter
    # a compute-bound reference: torch.mm 1024^3
    A = torch.rand(1024, 1024, dtype=grid.dtype)
    C = torch.empty_like(A)
    t_square = per_call(lambda: torch.mm(A, A, out=C), 3)
    # a memory-bandwidth reference: an out-of-cache copy (read + write), 256 MB
    big = torch.empty(2**26, dtype=torch.float32)
    dst = torch.empty_like(big)
    t_copy = median_time(lambda: dst.copy_(big), repeats)
    flops_mm, flops_ew = 8 * T * F * K, 4 * T * F
    itemsize = grid.element_size()
    # clamp_min_ reads and writes T x F, the division reads two and writes one
    bytes_ew = 2 * 5 * T * F * itemsize
    return dict(
        mm=t_mm, t_mm_iter=t_mm_iter, t_ew_iter=t_ew_iter, t_iter=t_iter, t_fit=t_fit,
        flops_mm=flops_mm, flops_ew=flops_ew, bytes_ew=bytes_ew,
        gflops_square=2 * 1024**3 / t_square / 1e9,
        copy_gbs=2 * big.numel() * 4 / t_copy / 1e9,
    )


def table_flops(quick):
    T, F, K = 400, 1025, 20
    repeats = 3 if quick else 5
    print(f"\n### MatrixNMF iteration against torch.mm throughput, {F} x {T}, K={K}, "
          "1 thread\n")
    print("FLOPs counted from `multiplicative_update` on a full grid: per iteration four "
          "matmuls of 2·T·F·K (`H @ W.T` per axis, the numerator per axis) and 4·T·F "
          "elementwise (`clamp_min_` and `V / WH` per axis); the K-sized work and the "
          "loss (every 10th iteration in `fit`) are not counted. 'torch.mm at the same "
          "shapes' times the iteration's four products alone; the fraction is the "
          "iteration's GFLOP/s over theirs.\n")
    print("| dtype | part | MFLOP / iteration | ms / iteration | GFLOP/s | fraction of torch.mm "
          "at the same shapes |")
    print("|---|---|---|---|---|---|")
    refs = []
    with n_threads(1):
        for dtype in ("float32", "float64"):
            r = bench_flops(T, F, K, dtype, repeats)
            flops = r["flops_mm"] + r["flops_ew"]
            g_mm = r["flops_mm"] / r["t_mm_iter"] / 1e9
            for part, fl, t in [
                ("four matmuls alone (torch.mm)", r["flops_mm"], r["t_mm_iter"]),
                ("elementwise alone (clamp, divide)", r["flops_ew"], r["t_ew_iter"]),
                ("the rest (K-sized ops, allocations), by difference", 0,
                 r["t_iter"] - r["t_mm_iter"] - r["t_ew_iter"]),
                ("one iteration (both updates, no loss)", flops, r["t_iter"]),
                ("`fit`, per iteration (init, loss every 10th)", flops, r["t_fit"]),
            ]:
                g = fl / t / 1e9
                frac = f"{g / g_mm:.0%}" if fl == flops or part.startswith("four") else ""
                print(f"| {dtype} | {part} | {fl / 1e6:.1f} | {1000 * t:.3f} "
                      f"| {f'{g:.1f}' if fl else ''} | {frac} |", flush=True)
            refs.append((dtype, r))
    print("\nThe products one by one, and two references: a compute-bound 1024³ torch.mm "
          "and an out-of-cache 256 MB copy (memory bandwidth). The elementwise part moves "
          "5·T·F values per axis (`clamp_min_` reads and writes, the division reads two "
          "and writes one).\n")
    print("| dtype | operation | shape | ms | GFLOP/s or GB/s |")
    print("|---|---|---|---|---|")
    shapes = {"WH = H @ W.T": f"({T}x{K}) @ ({K}x{F})", "num @ W": f"({T}x{F}) @ ({F}x{K})",
              "num.T @ H": f"({F}x{T}) @ ({T}x{K}), transposed view"}
    for dtype, r in refs:
        for name, t in r["mm"].items():
            print(f"| {dtype} | `{name}` | {shapes[name]} | {1000 * t:.3f} "
                  f"| {2 * T * F * K / t / 1e9:.1f} GFLOP/s |")
        ms_square = 2e3 * 1024**3 / r["gflops_square"] / 1e9
        print(f"| {dtype} | torch.mm | 1024 x 1024 x 1024 | {ms_square:.2f} "
              f"| {r['gflops_square']:.1f} GFLOP/s |")
        print(f"| {dtype} | elementwise, per iteration | 2 x 5 x ({T}x{F}) values "
              f"| {1000 * r['t_ew_iter']:.3f} | {r['bytes_ew'] / r['t_ew_iter'] / 1e9:.1f} GB/s |")
    print(f"| float32 | copy, out of cache | 2 x 256 MB | | {refs[0][1]['copy_gbs']:.1f} GB/s |")
    for dtype, r in refs:
        share = r["t_ew_iter"] / r["t_iter"]
        print(f"\n{dtype}: of the iteration's {1000 * r['t_iter']:.2f} ms, the four products "
              f"take {1000 * r['t_mm_iter']:.2f} ms ({r['t_mm_iter'] / r['t_iter']:.0%}) and "
              f"the two elementwise passes {1000 * r['t_ew_iter']:.2f} ms ({share:.0%}).")


# -- 6. Irregular points: the lattice ----------------------------------------


def speech_points(n_points, seed=0):
    """Reassigned-spectrogram points of a speech-like harmonic source (every t
    and f unique), n_points of them drawn at random."""
    from sklearn_innmf.datasets import harmonic_source
    from sklearn_innmf.representations import reassigned_points

    y, sr = harmonic_source(duration=max(2.0, n_points / 25_000), random_state=seed)
    X = reassigned_points(y, sr=sr, n_fft=1024, hop_length=128, power=0.5)
    rng = np.random.RandomState(seed)
    return X[np.sort(rng.choice(len(X), n_points, replace=False))]


LATTICE_DATA = {"smooth": irregular_points, "speech": speech_points}


def lattice_setup(X, architecture, lattice, K=20, seed=0):
    """The default ImplicitNMF networks (as its ``_init_model`` builds them)
    with the given lattice, the training data and the default learning rate."""
    coords, m = X[:, :2], X[:, 2]
    data = prepare_points(coords, m, scale=m.mean(), device="cpu", dtype=torch.float32)
    est = ImplicitNMF(K, architecture=architecture)
    generator = torch.Generator().manual_seed(seed)
    c = (1.0 / K) ** (1.0 / len(data.uniques))
    factors = [
        ImplicitFactor(K, float(u.min()), float(u.max()), encoding_size=est.encoding_size,
                       hidden_size=est.hidden_size, n_layers=est.n_layers,
                       architecture=architecture, init_value=c, generator=generator,
                       lattice=lattice)
        for u in data.uniques
    ]
    return SeparableModel(factors, scale=data.scale), data, est._learning_rate


def train(model, data, lr, steps):
    return gradient_fit(model, data, lr, steps)


def mean_kl(model, X, nodes="as trained"):
    """Mean KL of the model at X's points, in float64, in X's units; with
    ``nodes`` other than "as trained", every factor evaluated that way."""
    import copy

    model = copy.deepcopy(model).double()
    if nodes != "as trained":
        for f in model.factors:
            f.nodes = nodes
    data = prepare_points(X[:, :2], X[:, 2], scale=float(model.scale), device="cpu",
                          dtype=torch.float64)
    with torch.no_grad():
        return float(data.loss(model.values(data.uniques), 1.0)) * float(model.scale)


def interpolation_error(factor, nodes, n_values=100_000, seed=1):
    """Max over components and n_values random coordinates in the factor's
    range of |lattice - network| / network, and of |lattice - network| over the
    component's peak, in float64."""
    import copy

    f = copy.deepcopy(factor).double()
    g = torch.Generator().manual_seed(seed)
    x = f.low + f.span * torch.rand(n_values, dtype=torch.float64, generator=g)
    with torch.no_grad():
        exact = f.network(x)
        f.nodes = nodes
        err = (f(x) - exact).abs()
    return float((err / exact).max()), float((err.max(0).values / exact.max(0).values).max())


def step_time(model, data, lr, steps):
    """Seconds per training step, CPU time of this (one-thread) process and
    wall time: (fit of ``steps`` - fit of 0) / steps (a fit of 0 steps is the
    one forward pass that ends every fit)."""
    import copy

    def timed(m, n):
        c0, w0 = time.process_time(), time.perf_counter()
        train(m, data, lr, n)
        return time.process_time() - c0, time.perf_counter() - w0

    cpu0, wall0 = timed(copy.deepcopy(model), 0)
    cpu, wall = timed(model, steps)
    return (cpu - cpu0) / steps, (wall - wall0) / steps


def table_lattice(quick, parts="all"):
    K = 20
    n_small, kl_steps = (10_000, 20) if quick else (10_000, 100)
    print(f"\n### Irregular points through a lattice, K={K}, default network, 1 thread\n")
    print(f'`ImplicitFactor(lattice="auto")` (the default, so ImplicitNMF\'s): a network '
          f"asked for more than {AUTO_LATTICE_ABOVE} distinct coordinates at its first call "
          f"(training) is evaluated on {AUTO_LATTICE} evenly spaced nodes over its training "
          "range and interpolated linearly, then and from then on; grids (STFT, CQT axes) "
          "stay exact. `lattice=None` is exact. Data: *smooth*, uniform random (t, f) with "
          "magnitudes interpolated from a synthetic spectrogram (the other sections' "
          "irregular points); *speech*, reassigned-spectrogram points of "
          "`datasets.harmonic_source` (harmonics, sharp in frequency), a random subset. "
          "Rprop at ImplicitNMF's default learning rate, both axes trained, "
          f"`torch.set_num_threads(1)`; {load()} at the start of this section.\n")
    with n_threads(1):
        print("**Time per training step** ((fit of n steps - fit of 0 steps) / n; for the "
              "lattice, the median of 3 such measurements), smooth data. The CPU time of the "
              "process is what a step costs on a core of its own (one thread: it cannot "
              "exceed the wall time); the wall time also counts the time other processes "
              "held the core. Both grow when other processes share the memory bandwidth.\n")
        print("| points | architecture | evaluation | steps | CPU ms / step | steps / s (CPU) "
              "| speed-up | wall ms / step |")
        print("|---|---|---|---|---|---|---|---|")
        timing = [(10**5, "separate", 2 if quick else 5), (10**5, "shared", 20)]
        if not quick:
            timing.append((10**6, "shared", 5))
        for n, arch, steps in timing:
            X = irregular_points(n)
            base = None
            for lattice in (None, "auto"):
                if lattice is None and (quick or n >= 10**6):
                    continue  # exact: about a minute per step
                n_steps = (1 if arch == "separate" else 3) if lattice is None else steps
                repeats = 1 if lattice is None else 3
                times = [step_time(*lattice_setup(X, arch, lattice, K), n_steps)
                         for _ in range(repeats)]
                cpu, wall = np.median(times, axis=0)
                base = cpu if lattice is None else base
                label = "exact" if lattice is None else f"lattice={lattice!r}"
                speed_up = f"{base / cpu:.0f}x" if base else ""
                print(f"| {n:.0e} | {arch} | {label} | {n_steps} | {1000 * cpu:.0f} "
                      f"| {1 / cpu:.2f} | {speed_up} | {1000 * wall:.0f} |", flush=True)

        if parts == "timing":
            return
        # equal-step fits, exact and through the lattice, from the same initial
        # networks, several seeds: a fit's KL after a fixed number of Rprop
        # steps varies from seed to seed by more than the 1% asked of the lattice
        rows, fitted = [], {}
        seeds = (0,) if quick else (0, 1, 2)
        cases = [(name, arch, n_small, seeds) for name in LATTICE_DATA
                 for arch in ("separate", "shared")]
        if not quick:
            cases.append(("speech", "shared", 100_000, (0, 1)))
        for name, arch, n, case_seeds in cases:
            both = LATTICE_DATA[name](2 * n)
            held_out = np.zeros(len(both), dtype=bool)
            held_out[np.random.RandomState(5).permutation(len(both))[:n]] = True
            X, X_held = both[~held_out], both[held_out]
            kl = {}
            for lattice in (None, "auto"):
                train_kl, held_kl, exact_eval, cpu = [], [], [], 0.0
                for seed in case_seeds:
                    model, data, lr = lattice_setup(X, arch, lattice, K, seed=seed)
                    c0 = time.process_time()
                    train(model, data, lr, kl_steps)
                    cpu += time.process_time() - c0
                    train_kl.append(mean_kl(model, X))
                    held_kl.append(mean_kl(model, X_held))
                    if lattice is not None:
                        exact_eval.append(mean_kl(model, X, nodes=None))
                    fitted.setdefault((name, arch, n, lattice), model)
                kl[lattice] = np.array(train_kl), np.array(held_kl)
                rows.append((name, arch, n, len(case_seeds), lattice, model.factors[1].nodes,
                             cpu / len(case_seeds), kl[lattice], kl[None],
                             np.mean(exact_eval) if exact_eval else None))
        print(f"\n**KL after {kl_steps} steps**, exact against lattice training from the same "
              "initial networks, for each of a few seeds (`torch.Generator` of the initial "
              "weights): mean KL on the training points, evaluated as trained (what `score` "
              "gives; min-max over the seeds in brackets), its ratio to exact training "
              "(the ratio of the means over the seeds, then each seed's own), the same on as "
              "many held-out points of the same signal, and the lattice-trained models' "
              "training KL with their networks evaluated exactly. Fit time: CPU per fit.\n")
        print("| data | architecture | points | seeds | evaluation | nodes | fit CPU (s) "
              "| mean KL (min-max) | KL / exact's (per seed) | held-out KL / exact's "
              "| KL, evaluated exactly |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for name, arch, n, n_seeds, lattice, nodes, seconds, (tr, ho), (tr0, ho0), ex in rows:
            label = "exact" if lattice is None else f"lattice={lattice!r}"
            per_seed = ", ".join(f"{r:.3f}" for r in tr / tr0)
            print(f"| {name} | {arch} | {n:.0e} | {n_seeds} | {label} | {nodes or '-'} "
                  f"| {seconds:.1f} | {tr.mean():.5g} ({tr.min():.4g}-{tr.max():.4g}) "
                  f"| {tr.mean() / tr0.mean():.4f} ({per_seed}) | {ho.mean() / ho0.mean():.4f} "
                  f"| {'' if ex is None else f'{ex:.5g}'} |", flush=True)

        n_values = 20_000
        print("\n**Interpolation error** of a lattice against the network it samples: max "
              f"over {n_values} random coordinates in the range and the K components of "
              "|lattice - network| / network (and, in brackets, over the component's peak), "
              "frequency (f) and time (t) networks, as initialised and after the exact fit "
              f"above ({n_small:.0e} points).\n")
        sizes = (512, 1024, 2048, 4096)
        print("| network | " + " | ".join(f"{n} nodes" for n in sizes) + " |")
        print("|---|" + "---|" * len(sizes))
        for name in LATTICE_DATA:
            for arch in ("separate", "shared"):
                trained = fitted[name, arch, n_small, None]
                untrained, _, _ = lattice_setup(LATTICE_DATA[name](2_000), arch, None, K)
                models = [(f"fitted on {name}", trained)]
                if name == "smooth":
                    models.insert(0, ("as initialised", untrained))
                for label, model in models:
                    for axis, axis_name in ((1, "f"), (0, "t")):
                        errs = [interpolation_error(model.factors[axis], n, n_values)
                                for n in sizes]
                        cells = " | ".join(f"{r:.1e} ({p:.1e})" for r, p in errs)
                        print(f"| {arch}, {label}, {axis_name} | {cells} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer iterations, repeats and points (a few minutes)")
    parser.add_argument("--out", default=FIGURES, help="folder for figures")
    parser.add_argument("--lattice", nargs="?", const="all", choices=["all", "timing"],
                        help="only section 6, implicit factors through a lattice (or only "
                             "its timing table)")
    parser.add_argument("--scaling-case", nargs=4, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.scaling_case:
        kind, layout, n, steps = args.scaling_case
        print(json.dumps(scaling_case(kind, layout, int(n), int(steps))))
        return
    if args.lattice:
        t0 = time.perf_counter()
        flags = f"--lattice{'' if args.lattice == 'all' else ' ' + args.lattice}" + (
            " --quick" if args.quick else "")
        print(f"`python benchmarks/speed.py {flags}`, torch {torch.__version__}, "
              f"{os.cpu_count()} cores.")
        table_lattice(args.quick, args.lattice)
        print(f"\nRun time {time.perf_counter() - t0:.0f} s, {load()} at the end.")
        return
    t0 = time.perf_counter()
    print("## Speed\n")
    print(f"`python benchmarks/speed.py{' --quick' if args.quick else ''}`, torch "
          f"{torch.__version__}, {os.cpu_count()} cores, {load()} at the start.")
    table_matrix(args.quick)
    table_implicit(args.quick)
    table_architecture(args.quick)
    table_flops(args.quick)
    table_scaling(args.quick, args.out)
    table_lattice(args.quick)
    print(f"\nRun time {time.perf_counter() - t0:.0f} s, {load()} at the end.")


if __name__ == "__main__":
    main()
