"""Penalised MatrixNMF against scikit-learn's NMF: the residuals, and which
names of sklearn's ``alpha_W`` / ``alpha_H`` they hold for.

Issue #22's setup: a 60-time x 40-frequency positive grid of rank ~4 (mean
3), K = 4, 100 KL multiplicative updates, ``tol=0``, float64, the same
custom initial factors. sklearn is fitted on the (times x freqs) matrix:
its samples are our frames, its ``W`` our activations, its ``components_``
our templates (the package's unpenalised parity orientation, in which both
update the activations first). For each penalty, the largest relative
difference of the activations, the templates and the reconstruction error
with sklearn given

* *the same names*: ``NMF(alpha_W=a, alpha_H=b)`` against ``MatrixNMF(alpha_W=a,
  alpha_H=b)``;
* *swapped names*: ``NMF(alpha_W=b, alpha_H=a)`` against the same.

    python benchmarks/penalty_parity.py > benchmarks/penalty_parity.md
"""

import subprocess

import numpy as np
from sklearn.decomposition import NMF

from sklearn_innmf import MatrixNMF, grid_to_points

T, F, K = 60, 40, 4
PENALTIES = [(0.1, 0.0, 1.0), (0.0, 0.1, 1.0), (0.1, 0.0, 0.0), (0.0, 0.1, 0.0),
             (0.05, 0.02, 0.5), (0.02, 0.2, 0.3), (0.5, 0.5, 1.0)]


def main():
    rng = np.random.RandomState(0)
    V = rng.rand(F, K) @ rng.rand(K, T) + 0.1 * rng.rand(F, T)
    V *= 3.0 / V.mean()
    times, freqs = np.arange(T) * 0.01, np.arange(F) * 50.0
    X = grid_to_points(V, times, freqs)
    A0, T0 = rng.rand(T, K) + 0.1, rng.rand(F, K) + 0.1

    def rel(a, b):
        return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))

    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, check=False).stdout.strip()
    print("# Penalised MatrixNMF against scikit-learn's NMF\n")
    print(__doc__.split("\n\n", 1)[1].rsplit("\n\n", 1)[0] + "\n")
    print(f"Measured at commit `{rev}`; `tol=0`: a fixed budget of 100 iterations, "
          "no ConvergenceWarning.\n")
    print("| alpha_W | alpha_H | l1_ratio | same names: activations / templates / error "
          "| swapped names: activations / templates / error |")
    print("|---:|---:|---:|---:|---:|")
    for a, b, r in PENALTIES:
        ours = MatrixNMF(K, init="custom", max_iter=100, tol=0, dtype="float64", alpha_W=a,
                         alpha_H=b, l1_ratio=r).fit(X, factors=[A0, T0])
        cells = []
        for sa, sb in ((a, b), (b, a)):
            skl = NMF(K, solver="mu", beta_loss="kullback-leibler", init="custom",
                      max_iter=100, tol=0, alpha_W=sa, alpha_H=sb, l1_ratio=r)
            W = skl.fit_transform(V.T.copy(), W=A0.copy(), H=T0.T.copy())
            err = abs(ours.reconstruction_err_ - skl.reconstruction_err_) / skl.reconstruction_err_
            cells.append(f"{rel(ours.activations(times), W):.1e} / "
                         f"{rel(ours.templates(freqs), skl.components_.T):.1e} / {err:.1e}")
        print(f"| {a} | {b} | {r} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
