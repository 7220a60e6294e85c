"""Supervised separation of a 0 dB mixture of two synthesised harmonic sources,
as the demo's last step runs it.
"""

import numpy as np
from sklearn.utils import Bunch

from ..datasets.synthetic import harmonic_source, two_source_mixture


def synthetic_separation(
    estimator,
    *,
    sr=16000,
    train_duration=3.0,
    test_duration=2.0,
    n_fft=1024,
    power=0.5,
    max_iter=100,
    random_state=0,
    verbose=0,
):
    """Supervised separation of a 0 dB mixture of two synthesised voices.

    Two speech-like "speakers" (:func:`~sklearn_innmf.datasets.harmonic_source`):
    a low voice (pitch 110 - 150 Hz, formants 700, 1200, 2600 Hz) and a high
    one (200 - 260 Hz, formants 400, 2000, 2800 Hz). Each is trained on one
    recording; the test recordings are other draws (other phases, vibrato
    and glide direction), mixed at 0 dB
    (:func:`~sklearn_innmf.datasets.two_source_mixture`). A
    :class:`~sklearn_innmf.SupervisedSeparator` of ``estimator`` learns one
    model per speaker on STFT points and separates the mixture with Wiener
    masks (:func:`~sklearn_innmf.separation.separate_mixture`). SDR, SIR and
    SAR come from :func:`~sklearn_innmf.metrics.bss_eval`.

    Parameters
    ----------
    estimator : estimator object
        The factorisation of each source, e.g.
        ``ImplicitNMF(10, time_factor="table")``.
    sr : int, default=16000
        Sampling rate in Hz.
    train_duration, test_duration : float, default=3.0, 2.0
        Seconds of each training recording and of the mixture.
    n_fft : int, default=1024
        STFT size (hop ``n_fft // 4``) of training and mixture.
    power : float, default=0.5
        Magnitude exponent.
    max_iter : int, default=100
        Multiplicative updates of each mixture frame's activations.
    random_state : int, default=0
        Seed of the signals and of the separator.
    verbose : int, default=0
        Passed to the separator (1: progress bars).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        ``sr``, ``mixture`` (n_samples,), ``sources`` and ``estimates``
        (2, n_samples), ``separator`` (fitted), ``names`` (the speakers),
        ``sdr``, ``sir``, ``sar`` (dB per source) and ``sdr_mixture`` (SDR of
        the unprocessed mixture against each source, the reference point).

    Examples
    --------
    >>> from sklearn_innmf import MatrixNMF
    >>> from sklearn_innmf.experiments import synthetic_separation
    >>> result = synthetic_separation(  # doctest: +SKIP
    ...     MatrixNMF(8, max_iter=50), sr=8000, train_duration=1.0,
    ...     test_duration=1.0, n_fft=512)
    >>> bool(all(result.sdr > result.sdr_mixture))  # doctest: +SKIP
    True
    """
    from ..metrics import bss_eval
    from ..separation.waveforms import fit_separator, separate_mixture

    seed = int(random_state)
    voices = {
        "low voice": dict(formants=(700.0, 1200.0, 2600.0)),
        "high voice": dict(formants=(400.0, 2000.0, 2800.0)),
    }
    pitch = {"low voice": (110.0, 150.0), "high voice": (200.0, 260.0)}
    train, test = [], []
    for s, name in enumerate(voices):
        low, high = pitch[name]
        a, _ = harmonic_source(sr=sr, duration=train_duration, f0=(low, high),
                               random_state=seed + 10 * s, **voices[name])
        b, _ = harmonic_source(sr=sr, duration=test_duration, f0=(high, low),
                               syllable_rate=2.5, random_state=seed + 10 * s + 1,
                               **voices[name])
        train.append(a)
        test.append(b)
    mixture, s1, s2 = two_source_mixture(test[0], test[1], snr_db=0.0)
    sources = np.stack([s1, s2])
    separator = fit_separator(train, sr, estimator=estimator, n_fft=n_fft, power=power,
                              max_iter=max_iter, random_state=seed, verbose=verbose)
    estimates = separate_mixture(separator, mixture, sr, n_fft=n_fft, power=power)
    scores = bss_eval(sources, estimates, compute_permutation=False)
    baseline = bss_eval(sources, np.stack([mixture, mixture]), compute_permutation=False)
    return Bunch(sr=sr, mixture=mixture, sources=sources, estimates=estimates,
                 separator=separator, names=list(voices), sdr=np.asarray(scores.sdr),
                 sir=np.asarray(scores.sir), sar=np.asarray(scores.sar),
                 sdr_mixture=np.asarray(baseline.sdr))
