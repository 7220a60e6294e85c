"""Beta-divergences on tensors.

Pure functions of torch tensors; they know nothing of factors or estimators.
The conventions are scikit-learn's (``sklearn.decomposition._nmf``):
beta=2 is half the squared Euclidean distance, beta=1 the generalised
Kullback-Leibler divergence, beta=0 the Itakura-Saito divergence, and the
model is clipped below at float32's eps where a division or log needs it.
"""

import numbers

import numpy as np
import torch

__all__ = ["EPSILON", "beta_loss_to_float", "beta_divergence"]

#: The floor applied to the model before a division or a logarithm, as in sklearn.
EPSILON = float(np.finfo(np.float32).eps)

_BETA_NAMES = {"frobenius": 2.0, "kullback-leibler": 1.0, "itakura-saito": 0.0}


def beta_loss_to_float(beta_loss):
    """Convert a ``beta_loss`` name or number to its float value."""
    if isinstance(beta_loss, str):
        if beta_loss not in _BETA_NAMES:
            raise ValueError(
                f"beta_loss={beta_loss!r} is not one of {sorted(_BETA_NAMES)} or a float."
            )
        return _BETA_NAMES[beta_loss]
    if isinstance(beta_loss, numbers.Real):
        return float(beta_loss)
    raise ValueError(f"beta_loss={beta_loss!r} is not a string or a float.")


def beta_divergence(x, y, beta, *, weight=None, reduction="mean"):
    """Elementwise beta-divergence d(x | y), reduced.

    Parameters
    ----------
    x : Tensor
        Data, >= 0.
    y : Tensor
        Model, same shape as ``x``, >= 0.
    beta : float
        0 (Itakura-Saito), 1 (Kullback-Leibler), 2 (half squared error) or any float.
    weight : Tensor, default=None
        Per-element weight (for example a 0/1 mask of observed grid cells).
    reduction : {"mean", "sum", "none"}, default="mean"
        With a weight, "mean" divides by the weight's sum.

    Returns
    -------
    Tensor
        The divergence, a scalar unless ``reduction="none"``.
    """
    if beta == 2.0:
        d = 0.5 * (x - y) ** 2
    elif beta == 1.0:
        # x log(x / y) is exactly 0 where x is 0, and so is its gradient in y
        # (torch.xlogy's gradient would be 0/0 there)
        d = x * torch.log(x.clamp_min(EPSILON) / y.clamp_min(EPSILON)) - x + y
    elif beta == 0.0:
        y_safe = y.clamp_min(EPSILON)
        x_safe = x.clamp_min(EPSILON)
        ratio = x_safe / y_safe
        d = ratio - torch.log(ratio) - 1.0
    else:
        # below beta = 2 the gradient y**(beta - 2) is unbounded at 0 (where a
        # softplus output underflows): floor the model, as sklearn's MU does
        y_safe = y.clamp_min(EPSILON) if beta < 2 else y
        x_pos = torch.where(x > 0, x, 0.0)
        d = (
            x_pos**beta
            + (beta - 1.0) * y_safe**beta
            - beta * x_pos * y_safe ** (beta - 1.0)
        ) / (beta * (beta - 1.0))
    if weight is not None:
        d = d * weight
    if reduction == "none":
        return d
    if reduction == "sum":
        return d.sum()
    n = weight.sum() if weight is not None else d.numel()
    return d.sum() / n
