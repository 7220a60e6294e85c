import librosa
import numpy as np
import pytest

from sklearn_innmf import points as points_module
from sklearn_innmf.datasets import harmonic_source
from sklearn_innmf.representations import (
    STFTSynthesizer,
    cqt_points,
    grid_to_points,
    hybrid_points,
    points_to_grid,
    reassigned_points,
    sinusoidal_points,
    stft_points,
)

SR = 16000


@pytest.fixture(scope="module")
def speech():
    """Half a second of a speech-like harmonic signal with a pitch glide."""
    y, sr = harmonic_source(sr=SR, duration=0.5, random_state=0)
    return y, sr


def tone(freq, *, sr=SR, duration=1.0, amplitude=1.0):
    return amplitude * np.sin(2 * np.pi * freq * np.arange(int(duration * sr)) / sr)


# --------------------------------------------------------------------- STFT


def test_stft_points_round_trip_through_grid(speech):
    y, sr = speech
    X = stft_points(y, sr=sr, n_fft=512, hop_length=128, power=0.5)
    V, times, freqs = points_to_grid(X)
    D = librosa.stft(y, n_fft=512, hop_length=128)
    np.testing.assert_array_equal(V, np.abs(D) ** 0.5)
    frame_times = librosa.frames_to_time(np.arange(D.shape[1]), sr=sr, hop_length=128)
    np.testing.assert_array_equal(times, frame_times)
    np.testing.assert_array_equal(freqs, librosa.fft_frequencies(sr=sr, n_fft=512))
    np.testing.assert_array_equal(grid_to_points(V, times, freqs), X)


def test_stft_points_power_dtype_and_defaults(speech):
    y, sr = speech
    X1 = stft_points(y, sr=sr, n_fft=256)
    X2 = stft_points(y, sr=sr, n_fft=256, power=2.0)
    np.testing.assert_array_equal(X1[:, :2], X2[:, :2])
    np.testing.assert_allclose(X2[:, 2], X1[:, 2] ** 2, rtol=1e-12)
    # hop_length defaults to win_length // 4, as in librosa.
    n_frames = 1 + y.size // 64
    assert X1.shape == (n_frames * 129, 3)
    assert X1.dtype == np.float64
    X32 = stft_points(y.astype(np.float32), sr=sr, n_fft=256)
    assert X32.dtype == np.float32
    np.testing.assert_allclose(X32[:, 2], X1[:, 2], rtol=1e-3, atol=1e-4)


def test_stft_points_uncentred_frames_are_timed_at_their_centre(speech):
    y, sr = speech
    X = stft_points(y, sr=sr, n_fft=512, hop_length=100, center=False)
    times = np.unique(X[:, 0])
    n_frames = 1 + (y.size - 512) // 100
    np.testing.assert_allclose(times, (np.arange(n_frames) * 100 + 256) / sr)


@pytest.mark.parametrize(
    "func, kwargs",
    [
        (stft_points, {"n_fft": 512}),
        (cqt_points, {}),
        (cqt_points, {"backend": "nnaudio"}),
        (reassigned_points, {"n_fft": 512}),
        (sinusoidal_points, {"n_fft": 512}),
    ],
)
def test_points_are_valid_and_inside_the_signal(speech, func, kwargs):
    y, sr = speech
    X = func(y, sr=sr, **kwargs)
    assert X.ndim == 2 and X.shape[1] == 3 and len(X) > 0
    points_module.check_points(X, n_coordinates=2, allow_all_zero=False)
    assert X[:, 0].max() <= y.size / sr
    assert X[:, 1].max() <= sr / 2


# ---------------------------------------------------------------- inverse


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_fft, hop_length", [(512, 128), (1024, 160)])
def test_unit_mask_gives_the_signal_back(speech, dtype, n_fft, hop_length):
    y, sr = speech
    y = y.astype(dtype)
    synth = STFTSynthesizer(y, sr=sr, n_fft=n_fft, hop_length=hop_length)
    y_hat = synth.istft_from_mask(np.ones(synth.n_points))
    assert y_hat.shape == y.shape and y_hat.dtype == dtype
    inner = slice(n_fft, -n_fft)
    error = np.linalg.norm(y_hat[inner] - y[inner]) / np.linalg.norm(y[inner])
    assert error < 1e-4


def test_synthesizer_points_equal_stft_points(speech):
    y, sr = speech
    synth = STFTSynthesizer(y, sr=sr, n_fft=512, hop_length=128)
    np.testing.assert_array_equal(
        synth.points(power=0.5), stft_points(y, sr=sr, n_fft=512, hop_length=128, power=0.5)
    )
    assert synth.n_points == len(synth.points())
    assert "n_points" in repr(synth)


def test_magnitudes_with_mixture_phase_give_the_signal_back(speech):
    y, sr = speech
    synth = STFTSynthesizer(y, sr=sr, n_fft=512, hop_length=128)
    y_hat = synth.istft_from_magnitude(synth.points(power=0.5)[:, 2], power=0.5)
    inner = slice(512, -512)
    error = np.linalg.norm(y_hat[inner] - y[inner]) / np.linalg.norm(y[inner])
    assert error < 1e-4


def test_complementary_masks_split_the_signal(speech):
    y, sr = speech
    synth = STFTSynthesizer(y, sr=sr, n_fft=512, hop_length=128)
    low = (synth.points()[:, 1] < 1000.0).astype(float)
    sources = synth.istft_from_mask(np.column_stack([low, 1.0 - low]))
    assert sources.shape == (2, y.size)
    np.testing.assert_allclose(sources.sum(0)[512:-512], y[512:-512], atol=1e-6)
    # The mask is read in the order of .points(): the low source keeps the
    # energy below 1 kHz and loses the energy above it.
    S_low = np.abs(librosa.stft(sources[0], n_fft=512, hop_length=128)) ** 2
    freqs = librosa.fft_frequencies(sr=sr, n_fft=512)
    above = S_low[freqs > 1200].sum() / S_low.sum()
    assert above < 1e-3
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=128)) ** 2
    assert S[freqs > 1200].sum() / S.sum() > 0.05


def test_synthesizer_rejects_bad_values(speech):
    y, sr = speech
    synth = STFTSynthesizer(y, sr=sr, n_fft=512)
    with pytest.raises(ValueError, match=f"n_points={synth.n_points}"):
        synth.istft_from_mask(np.ones(synth.n_points - 1))
    with pytest.raises(ValueError, match="negative"):
        synth.istft_from_mask(-np.ones(synth.n_points))
    with pytest.raises(ValueError, match="NaN"):
        synth.istft_from_magnitude(np.full(synth.n_points, np.nan))
    with pytest.raises(ValueError, match="n_fft=4096 is too large"):
        STFTSynthesizer(y[:1000], sr=sr, n_fft=4096)


# --------------------------------------------------------------------- CQT


def test_nnaudio_cqt_agrees_with_librosa():
    y, sr = harmonic_source(sr=SR, duration=1.0, random_state=1)
    X_lib = cqt_points(y, sr=sr)
    X_nn = cqt_points(y, sr=sr, backend="nnaudio", device="cpu")
    np.testing.assert_allclose(X_nn[:, :2], X_lib[:, :2])
    assert np.corrcoef(X_lib[:, 2], X_nn[:, 2])[0, 1] >= 0.99
    # Same scale, not just the same shape.
    assert X_nn[:, 2].sum() / X_lib[:, 2].sum() == pytest.approx(1.0, abs=0.05)


# librosa's own multi-rate CQT warns about its internal STFTs of short octaves.
@pytest.mark.filterwarnings("ignore:n_fft=.* is too large for input")
def test_cqt_points_coordinates():
    y = tone(440.0, duration=0.5)
    X = cqt_points(y, sr=SR, hop_length=256, fmin=55.0, n_bins=60, power=2.0)
    V, times, freqs = points_to_grid(X)
    assert V.shape == (60, 1 + y.size // 256)
    frame_times = librosa.frames_to_time(np.arange(V.shape[1]), sr=SR, hop_length=256)
    np.testing.assert_allclose(times, frame_times)
    np.testing.assert_allclose(freqs, librosa.cqt_frequencies(n_bins=60, fmin=55.0))
    assert freqs[np.argmax(V.sum(1))] == pytest.approx(440.0)
    C = np.abs(librosa.cqt(y, sr=SR, hop_length=256, fmin=55.0, n_bins=60))
    np.testing.assert_allclose(V, C**2, rtol=1e-10)


@pytest.mark.filterwarnings("ignore:n_fft=.* is too large for input")
def test_cqt_nyquist_check_matches_librosa():
    y = tone(440.0, duration=0.2)
    # At 16 kHz librosa.cqt from C1 accepts 95 bins and refuses 96.
    librosa.cqt(y, sr=SR, n_bins=95)
    with pytest.raises(librosa.util.exceptions.ParameterError):
        librosa.cqt(y, sr=SR, n_bins=96)
    for backend in ("librosa", "nnaudio"):
        assert len(cqt_points(y, sr=SR, n_bins=95, backend=backend)) > 0
        with pytest.raises(ValueError, match="n_bins=96"):
            cqt_points(y, sr=SR, n_bins=96, backend=backend)


def test_cqt_default_fmin_is_c1():
    y = tone(440.0, duration=0.5)
    X = cqt_points(y, sr=SR, n_bins=12)
    assert X[:, 1].min() == pytest.approx(librosa.note_to_hz("C1"))


# ---------------------------------------------------------------- irregular


def test_reassigned_points_are_irregular(speech):
    y, sr = speech
    X = reassigned_points(y, sr=sr, n_fft=512, hop_length=128, top_db=60.0)
    assert np.all(np.isfinite(X)) and X.min() >= 0
    n_grid = (1 + y.size // 128) * 257
    assert 1000 < len(X) < n_grid
    assert len(np.unique(X[:, 0])) > 0.9 * len(X)
    assert len(np.unique(X[:, 1])) > 0.9 * len(X)
    assert X[:, 2].min() >= X[:, 2].max() * 10 ** (-60.0 / 20) * (1 - 1e-12)


# librosa 0.11 warns about its own np.less(..., where=...) call.
@pytest.mark.filterwarnings("ignore:'where' used without 'out'")
def test_reassigned_points_drop_rather_than_clip(speech):
    y, sr = speech
    X = reassigned_points(y, sr=sr, n_fft=512, hop_length=128, top_db=None)
    freqs, times, mags = librosa.reassigned_spectrogram(
        y, sr=sr, n_fft=512, hop_length=128, clip=False, ref_power=np.finfo(float).tiny
    )
    finite = np.isfinite(times) & np.isfinite(freqs) & (mags > 0)
    inside = finite & (times >= 0) & (times <= y.size / sr) & (freqs >= 0) & (freqs <= sr / 2)
    assert np.sum(finite & ~inside) > 0  # the test signal does push some points out
    assert len(X) == np.sum(inside)
    # Nothing piled up on the borders, as clipping would do.
    assert np.sum(X[:, 0] == 0) == np.sum(inside & (times == 0))
    assert np.sum(X[:, 1] == sr / 2) == np.sum(inside & (freqs == sr / 2))


def test_reassigned_points_power_and_threshold(speech):
    y, sr = speech
    X1 = reassigned_points(y, sr=sr, n_fft=512, top_db=30.0)
    X2 = reassigned_points(y, sr=sr, n_fft=512, top_db=30.0, power=2.0)
    np.testing.assert_array_equal(X1[:, :2], X2[:, :2])
    np.testing.assert_allclose(X2[:, 2], X1[:, 2] ** 2)
    assert len(reassigned_points(y, sr=sr, n_fft=512, top_db=60.0)) > len(X1)


def test_sinusoidal_peak_of_a_pure_tone():
    y = tone(440.7)
    X = sinusoidal_points(y, sr=SR, max_peaks=1)
    times = np.unique(X[:, 0])
    assert len(times) == len(X)  # one peak per frame
    inner = X[(X[:, 0] > 0.1) & (X[:, 0] < 0.9)]
    assert len(inner) > 20
    assert np.max(np.abs(inner[:, 1] - 440.7)) < 0.5
    # Off the bin grid (bins are 7.8125 Hz apart, 440.7 Hz is not on one).
    assert np.all(np.abs(inner[:, 1] / (SR / 2048) % 1 - 0.5) < 0.49)
    # The interpolated magnitude is the windowed sinusoid's: A * sum(w) / 2.
    np.testing.assert_allclose(inner[:, 2], 2048 / 4, rtol=0.05)


def test_sinusoidal_max_peaks_keeps_the_loudest():
    y = tone(300.0) + 0.5 * tone(1234.5)
    X2 = sinusoidal_points(y, sr=SR, n_fft=1024, max_peaks=2, top_db=40.0)
    inner = X2[(X2[:, 0] > 0.1) & (X2[:, 0] < 0.9)]
    frames, counts = np.unique(inner[:, 0], return_counts=True)
    assert np.all(counts == 2)
    np.testing.assert_allclose(inner[0::2, 1], 300.0, atol=0.5)
    np.testing.assert_allclose(inner[1::2, 1], 1234.5, atol=0.5)
    X1 = sinusoidal_points(y, sr=SR, n_fft=1024, max_peaks=1, top_db=40.0)
    inner = X1[(X1[:, 0] > 0.1) & (X1[:, 0] < 0.9)]
    np.testing.assert_allclose(inner[:, 1], 300.0, atol=0.5)
    # top_db alone: the side lobes of a Hann window are > 31 dB down.
    X = sinusoidal_points(y, sr=SR, n_fft=1024, top_db=20.0)
    inner = X[(X[:, 0] > 0.1) & (X[:, 0] < 0.9)]
    assert set(np.round(inner[:, 1], -1)) == {300.0, 1230.0}


def test_sinusoidal_threshold_is_relative_to_the_loudest_cell(speech):
    y, sr = speech
    X = sinusoidal_points(y, sr=sr, n_fft=512, top_db=40.0)
    S = np.abs(librosa.stft(y, n_fft=512))
    # Interpolated peaks are at least as loud as their bin.
    assert X[:, 2].min() >= S.max() * 10 ** (-40.0 / 20)
    assert len(sinusoidal_points(y, sr=sr, n_fft=512, top_db=None)) > len(X)


# ------------------------------------------------------------------ hybrid


def test_hybrid_points_respect_spans(speech):
    y, sr = speech
    segments = [
        (0.0, 0.15, "stft", {"n_fft": 256, "hop_length": 64}),
        (0.15, 0.3, sinusoidal_points, {"n_fft": 1024}),
        (0.35, np.inf, "cqt", {"hop_length": 256}),
    ]
    X = hybrid_points(y, sr=sr, segments=segments)
    parts = [
        stft_points(y, sr=sr, n_fft=256, hop_length=64),
        sinusoidal_points(y, sr=sr, n_fft=1024),
        cqt_points(y, sr=sr, hop_length=256),
    ]
    spans = [(0.0, 0.15), (0.15, 0.3), (0.35, np.inf)]
    expected = np.concatenate(
        [P[(P[:, 0] >= a) & (P[:, 0] < b)] for P, (a, b) in zip(parts, spans)]
    )
    np.testing.assert_array_equal(X, expected)
    assert not np.any((X[:, 0] >= 0.3) & (X[:, 0] < 0.35))  # the gap stays empty
    for P, (a, b) in zip(parts, spans):
        assert np.sum((P[:, 0] >= a) & (P[:, 0] < b)) > 0


def test_hybrid_points_keep_the_order_of_segments(speech):
    y, sr = speech
    X = hybrid_points(
        y, sr=sr, segments=[(0.2, 0.5, "stft", None), (0.0, 0.2, "stft", {"n_fft": 256})]
    )
    first = stft_points(y, sr=sr)
    n_first = np.sum((first[:, 0] >= 0.2) & (first[:, 0] < 0.5))
    assert len(X) > n_first > 0
    assert np.all(X[:n_first, 0] >= 0.2) and np.all(X[n_first:, 0] < 0.2)


@pytest.mark.parametrize(
    "segments, match",
    [
        ([(0.0, 0.3, "stft", {}), (0.2, 0.5, "cqt", {})], "overlap"),
        ([(0.3, 0.2, "stft", {})], r"t_start=0.3, t_end=0.2"),
        ([(-0.1, 0.2, "stft", {})], r"0 <= t_start < t_end"),
        ([(0.0, 0.2, "mel", {})], "representation='mel'"),
        ([(0.0, 0.2, "stft")], r"segments\[0\]"),
        ([], "empty"),
    ],
)
def test_hybrid_points_rejects_bad_segments(speech, segments, match):
    y, sr = speech
    with pytest.raises(ValueError, match=match):
        hybrid_points(y, sr=sr, segments=segments)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "func", [stft_points, reassigned_points, sinusoidal_points, STFTSynthesizer]
)
def test_n_fft_longer_than_the_signal(func):
    with pytest.raises(ValueError, match="n_fft=4096 is too large for a signal of length=1000"):
        func(np.zeros(1000), sr=SR, n_fft=4096)


@pytest.mark.parametrize(
    "func", [stft_points, cqt_points, reassigned_points, sinusoidal_points, STFTSynthesizer]
)
@pytest.mark.parametrize(
    "y, sr, match",
    [
        (np.zeros((2, 4000)), SR, "1-D"),
        (np.r_[np.zeros(3000), np.nan], SR, "non-finite"),
        (np.r_[np.zeros(3000), np.inf], SR, "non-finite"),
        (np.zeros(4000) + 0j, SR, "real"),
        (np.zeros(0), SR, "empty"),
        (np.zeros(4000), 0, "sr=0 must be a positive"),
        (np.zeros(4000), -16000, "sr=-16000 must be a positive"),
    ],
)
def test_bad_audio_is_rejected(func, y, sr, match):
    with pytest.raises(ValueError, match=match):
        func(y, sr=sr)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"win_length": 1024, "n_fft": 512}, "win_length=1024 must be <= n_fft=512"),
        ({"hop_length": 0}, "hop_length=0"),
        ({"hop_length": 2.5}, "hop_length=2.5"),
        ({"power": 0}, "power=0"),
        ({"window": "nonsense"}, "nonsense"),
    ],
)
def test_bad_stft_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        stft_points(tone(440.0, duration=0.2), sr=SR, **{"n_fft": 512, **kwargs})


def test_bad_cqt_parameters():
    y = tone(440.0, duration=0.2)
    with pytest.raises(ValueError, match="n_bins=84 .* Nyquist"):
        cqt_points(y, sr=8000)
    with pytest.raises(ValueError, match="backend='torch'"):
        cqt_points(y, sr=SR, backend="torch")
    with pytest.raises(ValueError, match="fmin=-1"):
        cqt_points(y, sr=SR, fmin=-1.0)
    with pytest.raises(ValueError, match="device='gpu'"):
        cqt_points(y, sr=SR, backend="nnaudio", device="gpu")


def test_bad_thresholds():
    y = tone(440.0, duration=0.2)
    with pytest.raises(ValueError, match="top_db=-10"):
        reassigned_points(y, sr=SR, n_fft=512, top_db=-10)
    with pytest.raises(ValueError, match="max_peaks=0"):
        sinusoidal_points(y, sr=SR, n_fft=512, max_peaks=0)


def test_silence_gives_no_irregular_points():
    y = np.zeros(4000)
    assert reassigned_points(y, sr=SR, n_fft=512).shape == (0, 3)
    assert sinusoidal_points(y, sr=SR, n_fft=512).shape == (0, 3)


def test_grid_helpers_are_reexported():
    assert grid_to_points is points_module.grid_to_points
    assert points_to_grid is points_module.points_to_grid


@pytest.mark.parametrize("backend", ["librosa", "nnaudio"])
def test_cqt_amplitude_scale_reads_a_sinusoid_amplitude(backend):
    # librosa's scaling makes a sinusoid fall as 1/sqrt(f); scale="amplitude"
    # reads its amplitude in its own bin at every frequency.
    sr = 16000
    t = np.arange(sr) / sr
    peaks = {}
    for scale in ("librosa", "amplitude"):
        for f in (110.0, 440.0, 1760.0):
            X = cqt_points(0.7 * np.sin(2 * np.pi * f * t), sr=sr, hop_length=256, fmin=55.0,
                           n_bins=6 * 36, bins_per_octave=36, scale=scale, backend=backend)
            mid = X[(X[:, 0] > 0.3) & (X[:, 0] < 0.7)]
            top = mid[mid[:, 2].argmax()]
            assert top[1] == pytest.approx(f, rel=1e-6)
            peaks[scale, f] = top[2]
    for f in (110.0, 440.0, 1760.0):
        assert peaks["amplitude", f] == pytest.approx(0.7, rel=0.02)
    # the default keeps librosa's tilt: two octaves up reads half as much
    assert peaks["librosa", 440.0] / peaks["librosa", 110.0] == pytest.approx(0.5, rel=0.02)
    with pytest.raises(ValueError, match="scale"):
        cqt_points(np.zeros(4096), sr=sr, scale="db")
