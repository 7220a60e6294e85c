"""Checks of the signal functions' arguments, with messages that name them."""

import numpy as np


def _check_positive(name, value):
    if not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a positive number.")
    return float(value)


def _check_count(name, value, what=""):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}={value!r} must be a positive integer{what}.")
    return int(value)


def _check_sr(sr):
    return _check_count("sr", sr, " (samples per second)")


def _n_samples(duration, sr, name="duration"):
    n = int(round(duration * sr))
    if n < 1:
        raise ValueError(
            f"{name}={duration!r} is shorter than one sample at sr={sr}."
        )
    return n
