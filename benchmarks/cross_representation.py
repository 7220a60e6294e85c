"""Templates across representations: the paper's Fig. 4 as a table of KL ratios.

One signal (two piano-like notes, A3 then E4 then both, from
``sklearn_innmf.datasets.piano_notes``) as STFTs of 256, 1024 and 2048
samples (hop ``n_fft // 4``) and a CQT (36 bins per octave from 110 Hz,
``scale="amplitude"``), all ``|X| ** 0.5`` and cut to the CQT's band. One
model per representation; each explains every other representation with its
templates frozen (``fit_activations``). Cell (row i, column j) is
KL(model trained on i, activations fitted on j) / KL(model trained on j),
the column's self-fit: KLs are in the unit of the explained representation,
so they compare only within a column.

* ``ImplicitNMF``: K = 2, the small template network of the examples
  (``sklearn_innmf.experiments.small_implicit_nmf``), table activations.
* ``MatrixNMF, interpolated``: classic KL NMF, K = 2, whose templates are
  linearly interpolated at unseen frequencies: the baseline.

    python benchmarks/cross_representation.py [--quick] [--seeds N] [--threads N] [--out DIR]

Prints Markdown (save it as ``benchmarks/cross_representation.md``); with
``--out`` also writes a heatmap figure ``DIR/cross_representation.png``.
"""

import argparse
import os
import time

import numpy as np
import torch

from sklearn_innmf import MatrixNMF
from sklearn_innmf.experiments import (
    cross_representation_markdown,
    cross_representation_table,
    piano_representations,
    small_implicit_nmf,
)

REPRESENTATIONS = ("STFT-256", "STFT-1024", "STFT-2048", "CQT")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="100 training steps instead of 500 (a few seconds)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (default: %(default)s; the fits are small)")
    parser.add_argument("--seeds", type=int, default=5,
                        help="random states 0..N-1; each cell is the median over them "
                             "(default: %(default)s; 1 with --quick)")
    parser.add_argument("--out", default=None, help="folder for the heatmap figure")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    max_iter = 100 if args.quick else 500  # a fixed number of steps (tol=0) for every model
    if args.quick:
        args.seeds = 1

    reps = piano_representations(REPRESENTATIONS, power=0.5)
    methods = {
        "ImplicitNMF": lambda seed: small_implicit_nmf(
            2, max_iter=max_iter, tol=0.0, random_state=seed, device="cpu"),
        "MatrixNMF, interpolated": lambda seed: MatrixNMF(
            2, max_iter=max_iter, tol=0.0, random_state=seed, interpolation="linear"),
    }
    tables, seconds, spread = {}, {}, {}
    for method, make in methods.items():
        start = time.perf_counter()
        runs = [cross_representation_table(lambda: make(seed), reps)
                for seed in range(args.seeds)]
        seconds[method] = time.perf_counter() - start
        table = runs[0]
        if args.seeds > 1:  # the median over seeds, cell by cell
            table.kl = np.median([r.kl for r in runs], axis=0)
            table.ratio = np.median([r.ratio for r in runs], axis=0)
            ratios = np.array([r.ratio for r in runs])
            spread[method] = (ratios.min(axis=0), ratios.max(axis=0))
        tables[method] = table

    print("## Templates across representations (paper Fig. 4)\n")
    print(
        "Two piano-like notes (A3, then E4, then both; 1.8 s at 16 kHz) as STFTs "
        "of 256, 1024 and 2048 samples (hop n_fft / 4) and a CQT (36 bins per "
        "octave from 110 Hz, amplitude-scaled), all |X|^0.5 in the CQT's band "
        "(110 - 3400 Hz). Rows: the representation a 2-component model was "
        "trained on; columns: the representation it explains with its templates "
        "frozen and new activations (`fit_activations`). Each cell is the mean KL "
        "per point, then its ratio to the column's self-fit (the model trained "
        "on that representation); ratios above 3x are in bold. With several "
        "random states each number (KL and ratio) is the median over them. "
        f"{max_iter} training steps"
        + (f", random states 0-{args.seeds - 1}" if args.seeds > 1
           else ", random state 0")
        + f", {args.threads} torch thread(s).\n"
    )
    for method, table in tables.items():
        print(f"### {method}\n")
        print(cross_representation_markdown(table))
        n_fits = len(table.names) ** 2 * args.seeds
        print(f"\n{seconds[method]:.1f} s for the {n_fits} fits.\n")
    for method, (low, high) in spread.items():
        if np.allclose(low, high, rtol=1e-6):
            print(f"{method}: the same table for every random state (deterministic "
                  "initialisation).\n")
            continue
        print(f"### {method}: ratio range over random states 0-{args.seeds - 1}\n")
        names = tables[method].names
        print("| trained on / explained | " + " | ".join(names) + " |")
        print("|---" * (len(names) + 1) + "|")
        for i, source in enumerate(names):
            cells = [f"{low[i, j]:.2f} - {high[i, j]:.2f}" for j in range(len(names))]
            print(f"| {source} | " + " | ".join(cells) + " |")
        print()

    within = {
        method: [f"{a} -> {b}" for i, a in enumerate(t.names) for j, b in enumerate(t.names)
                 if i != j and t.ratio[i, j] <= 3.0]
        for method, t in tables.items()
    }
    print("### Within 3x of the self-fit\n")
    print("| method | transfers within 3x |\n|---|---|")
    for method, pairs in within.items():
        print(f"| {method} | {', '.join(pairs) if pairs else 'none'} |")
    print()

    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        from sklearn_innmf.experiments import plot_cross_representation

        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, "cross_representation.png")
        plot_cross_representation(tables).savefig(path, dpi=110, bbox_inches="tight")
        print(f"Figure: {path}")


if __name__ == "__main__":
    main()
