"""The one reading of a ``device`` parameter (estimators and representations)."""

import torch

__all__ = ["resolve_device"]


def resolve_device(device):
    """``"auto"`` -> CUDA when present, else CPU; other strings as torch reads them."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' "
            "or 'cuda:N'."
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available on this machine; use "
            "device='cpu' or 'auto' (set_params(device='cpu') on a loaded model)."
        )
    return dev
