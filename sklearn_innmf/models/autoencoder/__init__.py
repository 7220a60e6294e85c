"""NonNegativeAutoencoder: NMF recast as a neural network (Smaragdis & Venkataramani 2017).

:mod:`~sklearn_innmf.models.autoencoder.network` holds the network, the pure
functions that train it and solve for latents, and the frame modules handed to
the separators; :mod:`~sklearn_innmf.models.autoencoder.estimator` the
scikit-learn estimator, and :mod:`~sklearn_innmf.models.autoencoder.frames`
how it maps points to frames and bins.
"""

from .estimator import NonNegativeAutoencoder
from .network import (
    AutoencoderNetwork,
    FrameDecoder,
    FrameEncoder,
    solve_frame_latents,
    train_autoencoder,
)

__all__ = [
    "NonNegativeAutoencoder",
    "AutoencoderNetwork",
    "FrameDecoder",
    "FrameEncoder",
    "train_autoencoder",
    "solve_frame_latents",
]
