"""Shared test data (imported by the test modules as ``_helpers``).

pytest's default ("prepend") import mode puts tests/ (no ``__init__.py``) on
``sys.path``, so ``from _helpers import field`` works however pytest is
started. The arrays are built in the test process; nothing here is shipped to
dask or joblib workers.
"""

import numpy as np


def field(n=200, seed=0):
    """Irregular (t, f, m) points of a rank-2 time-frequency field."""
    rng = np.random.RandomState(seed)
    t, f = rng.rand(n), 4000 * rng.rand(n)
    W = np.stack([np.exp(-(((f - 1000) / 400) ** 2)), np.exp(-(((f - 3000) / 500) ** 2))], 1)
    H = np.stack([1 + np.sin(2 * np.pi * t), 1 + np.cos(3 * np.pi * t)], 1)
    return np.column_stack([t, f, (W * H).sum(1) + 0.05])


VOICE_B = dict(formants=(400.0, 2000.0, 2800.0), formant_bandwidths=(100.0, 150.0, 250.0))


def two_speakers(sr=8000):
    """Training recordings and a 0 dB test mixture of two harmonic 'speakers'
    with different pitch ranges and formants (other sentences: other pitch
    contours and phases than the test): ``[train_a, train_b], mixture,
    truth``."""
    from sklearn_innmf.datasets import harmonic_source, two_source_mixture

    train_a = [
        harmonic_source(sr=sr, duration=0.8, f0=(110.0, 150.0), random_state=10)[0],
        harmonic_source(sr=sr, duration=0.7, f0=(150.0, 115.0), random_state=12)[0],
    ]
    train_b = [
        harmonic_source(sr=sr, duration=1.5, f0=(240.0, 190.0), random_state=11, **VOICE_B)[0]
    ]
    a = harmonic_source(sr=sr, duration=1.0, f0=(125.0, 140.0), random_state=0)[0]
    b = harmonic_source(sr=sr, duration=1.0, f0=(200.0, 230.0), random_state=1, **VOICE_B)[0]
    mixture, a, b = two_source_mixture(a, b, snr_db=0.0)
    return [train_a, train_b], mixture, np.stack([a, b])
