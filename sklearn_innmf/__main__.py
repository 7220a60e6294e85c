"""Command line: ``python -m sklearn_innmf demo`` and ``... separate``.

``demo`` synthesises two piano-like notes (one after the other, then
together), fits MatrixNMF and ImplicitNMF on their STFT points, prints a table
of KL divergence and fit time, and saves a figure of the learned templates
and activations. It needs no data and no network.
"""

import argparse
import os
import sys
import time
import warnings


def _demo(args):
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from . import ImplicitNMF, MatrixNMF
    from .datasets import piano_notes
    from .representations import stft_points

    y, sr = piano_notes(("A3", "E4"), sr=16000, random_state=0)
    X = stft_points(y, sr=sr, n_fft=1024, hop_length=256, power=0.5)
    print(
        f"Signal: two piano-like notes (A3 = 220 Hz, then E4 = 330 Hz, then both), "
        f"{y.size / sr:.1f} s at {sr} Hz"
    )
    print(f"STFT points: {len(X)} (t, f, m) rows, n_fft=1024, |X|^0.5\n")
    max_iter = 100 if args.quick else args.max_iter
    estimators = {
        "MatrixNMF (classic KL-MU)": MatrixNMF(
            args.n_components, max_iter=max_iter, random_state=0, verbose=1
        ),
        "ImplicitNMF (implicit W, table H)": ImplicitNMF(
            args.n_components, time_factor="table", max_iter=max_iter, random_state=0, verbose=1
        ),
        "ImplicitNMF (implicit W and H)": ImplicitNMF(
            args.n_components, max_iter=max_iter, random_state=0, verbose=1
        ),
    }
    rows = []
    for name, est in estimators.items():
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X)
        rows.append((name, -est.score(X), est.n_iter_, time.perf_counter() - t0))
    print(f"\n| estimator | mean KL | iterations | fit time (s) |\n|---|---|---|---|")
    for name, kl, n_iter, seconds in rows:
        print(f"| {name} | {kl:.4g} | {n_iter} | {seconds:.2f} |")

    os.makedirs(args.out, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    from .plotting import plot_factors, plot_points

    paths = []
    fig = plot_points(X)
    fig.suptitle("STFT points of the demo signal")
    paths.append(os.path.join(args.out, "points.png"))
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    for name, est in estimators.items():
        fig = plot_factors(est, freqs=np.linspace(0, 4000, 800), log_freq=False)
        fig.suptitle(f"{name}: templates (left) and activations (right)")
        slug = name.split(" (")[0].lower() + ("_" + name.split("(")[1].split(")")[0].replace(" ", "_").replace(",", "") if "Implicit" in name else "")
        paths.append(os.path.join(args.out, f"factors_{slug}.png"))
        fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    print("\nFigures written:")
    for p in paths:
        print(f"  {p}")
    return 0


def _add_demo(subparsers):
    p = subparsers.add_parser("demo", help="factorise a synthesised signal with both estimators")
    p.add_argument("--out", default="innmf_demo", help="folder for the figures (default: %(default)s)")
    p.add_argument("--n-components", type=int, default=4, help="rank K (default: %(default)s)")
    p.add_argument("--max-iter", type=int, default=300, help="iterations (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="100 iterations, for a smoke test")
    p.set_defaults(func=_demo)


def main(argv=None):
    """Entry point of ``python -m sklearn_innmf`` and ``sklearn-innmf``."""
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_innmf",
        description="Implicit-neural and classic NMF of time-frequency points.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_demo(subparsers)
    try:
        from . import cli_separate
    except ImportError:  # pragma: no cover - the separation module is optional
        cli_separate = None
    if cli_separate is not None:
        cli_separate.add_parser(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
