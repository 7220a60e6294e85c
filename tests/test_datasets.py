import socket

import librosa
import numpy as np
import pytest
import soundfile
from scipy.signal import hilbert

from sklearn_innmf.datasets import (
    fm_tone,
    harmonic_source,
    load_audio,
    piano_notes,
    save_audio,
    two_source_mixture,
)


def peak_frequency(y, sr, *, fmin=0.0, fmax=None, pad=16):
    """Frequency of the strongest Hann-windowed, zero-padded FFT bin in a band."""
    n = pad * y.size
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size), n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    band = (freqs >= fmin) & (freqs <= (fmax or sr / 2))
    return freqs[band][np.argmax(spectrum[band])]


# ------------------------------------------------------------------ piano


def test_piano_notes_layout_and_pitches():
    y, sr, spans = piano_notes(("A3", "E4"), sr=16000, note_duration=0.5, random_state=0,
                               return_spans=True)
    assert sr == 16000 and y.shape == (3 * 8000,)
    assert spans == [("A3", 0.0, 0.5), ("E4", 0.5, 1.0), ("A3+E4", 1.0, 1.5)]
    assert np.max(np.abs(y)) == pytest.approx(0.9)
    a3, e4 = librosa.note_to_hz(["A3", "E4"])
    first, second, chord = (y[int(a * sr):int(b * sr)] for _, a, b in spans)
    assert peak_frequency(first, sr) == pytest.approx(a3, abs=1.0)
    assert peak_frequency(second, sr) == pytest.approx(e4, abs=1.0)
    # Both fundamentals sound in the chord, and only A3 in the first note.
    def level(seg, f):
        return np.abs(np.fft.rfft(seg * np.hanning(seg.size)))[int(round(f * seg.size / sr))]
    assert level(chord, e4) > 10 * level(first, e4)
    assert level(chord, a3) > 0.1 * level(first, a3)


def test_piano_partials_are_inharmonic():
    B = 1e-3
    y, sr = piano_notes(("A3",), together=False, inharmonicity=B, note_duration=1.0,
                        decay=1.0, random_state=0)
    f0 = librosa.note_to_hz("A3")
    n = 5
    expected = n * f0 * np.sqrt(1 + B * n**2)  # 12 Hz above 5 f0
    found = peak_frequency(y, sr, fmin=n * f0 - 30, fmax=n * f0 + 30)
    assert found == pytest.approx(expected, abs=1.0)
    assert abs(found - n * f0) > 10


def test_piano_notes_are_deterministic():
    y1, _ = piano_notes(random_state=3)
    y2, _ = piano_notes(random_state=3)
    y3, _ = piano_notes(random_state=4)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(y1, y3)
    y4, _ = piano_notes(random_state=np.random.RandomState(3))
    np.testing.assert_array_equal(y1, y4)


def test_piano_notes_without_chord_and_in_hz():
    y, sr, spans = piano_notes((220.0,), together=False, note_duration=0.25,
                               random_state=0, return_spans=True)
    assert y.shape == (4000,)
    assert spans == [("220Hz", 0.0, 0.25)]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"notes": ()}, "notes=()"),
        ({"notes": ("A9",), "sr": 8000}, "outside"),
        ({"note_duration": 0}, "note_duration=0"),
        ({"sr": 0}, "sr=0"),
        ({"n_partials": 0}, "n_partials=0"),
        ({"inharmonicity": -1.0}, "inharmonicity=-1.0"),
    ],
)
def test_piano_notes_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        piano_notes(**kwargs)


# --------------------------------------------------------------------- FM


def test_fm_tone_follows_its_instantaneous_frequency():
    sr, f0, depth, rate = 16000, 440.0, 50.0, 4.0
    y, sr_out = fm_tone(sr=sr, duration=1.0, f0=f0, depth=depth, rate=rate)
    assert sr_out == sr and y.shape == (sr,)
    t = np.arange(y.size) / sr
    inst = np.diff(np.unwrap(np.angle(hilbert(y)))) * sr / (2 * np.pi)
    expected = f0 + depth * np.sin(2 * np.pi * rate * (t[:-1] + 0.5 / sr))
    inner = slice(500, -500)
    np.testing.assert_allclose(inst[inner], expected[inner], atol=1.0)


def test_fm_tone_errors():
    with pytest.raises(ValueError, match="depth=500"):
        fm_tone(f0=440.0, depth=500.0)
    with pytest.raises(ValueError, match="Nyquist"):
        fm_tone(sr=1000, f0=480.0, depth=30.0)
    with pytest.raises(ValueError, match="duration=-1"):
        fm_tone(duration=-1)


# ----------------------------------------------------------- speech-like


def test_harmonic_source_glides_between_its_pitches():
    y, sr = harmonic_source(sr=16000, duration=1.0, f0=(120.0, 200.0), vibrato_depth=0.0,
                            syllable_rate=None, random_state=0)
    assert y.shape == (16000,) and np.max(np.abs(y)) == pytest.approx(0.9)
    pitch = librosa.yin(y, fmin=60, fmax=500, sr=sr, frame_length=1024, hop_length=256)
    times = librosa.frames_to_time(np.arange(pitch.size), sr=sr, hop_length=256)
    expected = 120.0 * (200.0 / 120.0) ** times
    inner = (times > 0.1) & (times < 0.9)
    np.testing.assert_allclose(pitch[inner], expected[inner], rtol=0.03)


def test_harmonic_source_has_no_energy_near_nyquist():
    y, sr = harmonic_source(sr=8000, f0=300.0, n_harmonics=40, random_state=0)
    S = np.abs(librosa.stft(y, n_fft=1024)) ** 2
    freqs = librosa.fft_frequencies(sr=sr, n_fft=1024)
    assert S[freqs > 0.97 * sr / 2].sum() < 1e-6 * S.sum()


def test_harmonic_source_formants_shape_the_spectrum():
    kwargs = dict(f0=100.0, vibrato_depth=0.0, syllable_rate=None, random_state=0)
    y1, sr = harmonic_source(formants=(500.0,), formant_bandwidths=(100.0,), **kwargs)
    y2, sr = harmonic_source(formants=(2000.0,), formant_bandwidths=(100.0,), **kwargs)
    assert peak_frequency(y1, sr) == pytest.approx(500.0, abs=2.0)
    assert peak_frequency(y2, sr) == pytest.approx(2000.0, abs=2.0)


def test_harmonic_source_is_deterministic():
    y1, _ = harmonic_source(random_state=7)
    y2, _ = harmonic_source(random_state=7)
    y3, _ = harmonic_source(random_state=8)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(y1, y3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"f0": (100.0, 200.0, 300.0)}, "f0="),
        ({"f0": -100.0}, "f0="),
        ({"formants": (500.0, 1000.0), "formant_bandwidths": (100.0,)}, "one bandwidth"),
        ({"vibrato_depth": 1.5}, "vibrato_depth=1.5"),
        ({"n_harmonics": 0}, "n_harmonics=0"),
    ],
)
def test_harmonic_source_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        harmonic_source(**kwargs)


# ------------------------------------------------------------------ mixing


@pytest.mark.parametrize("snr_db", [-5.0, 0.0, 12.0])
def test_two_source_mixture_sets_the_snr(snr_db):
    s1, _ = harmonic_source(f0=(120.0, 150.0), random_state=0)
    s2, _ = harmonic_source(f0=(220.0, 180.0), formants=(400.0, 2000.0, 2800.0),
                            random_state=1)
    mix, a, b = two_source_mixture(s1, s2, snr_db=snr_db)
    np.testing.assert_array_equal(a, s1)
    np.testing.assert_allclose(mix, a + b)
    assert 10 * np.log10(np.sum(a**2) / np.sum(b**2)) == pytest.approx(snr_db, abs=1e-9)
    np.testing.assert_allclose(b / np.linalg.norm(b), s2 / np.linalg.norm(s2))


def test_two_source_mixture_errors():
    with pytest.raises(ValueError, match="len\\(s1\\)=10 and len\\(s2\\)=12"):
        two_source_mixture(np.ones(10), np.ones(12))
    with pytest.raises(ValueError, match="s2 is silent"):
        two_source_mixture(np.ones(10), np.zeros(10))
    with pytest.raises(ValueError, match="snr_db=nan"):
        two_source_mixture(np.ones(10), np.ones(10), snr_db=np.nan)
    with pytest.raises(ValueError, match="s1 must be a 1-D"):
        two_source_mixture(np.ones((2, 10)), np.ones(10))


# --------------------------------------------------------------------- files


def test_save_load_wav_round_trip_is_lossless(tmp_path):
    y, sr = harmonic_source(duration=0.3, random_state=0)
    path = tmp_path / "voice.wav"
    save_audio(path, y, sr)
    assert soundfile.info(str(path)).subtype == "FLOAT"
    y2, sr2 = load_audio(path)
    assert sr2 == sr and y2.dtype == np.float32
    np.testing.assert_array_equal(y2, y.astype(np.float32))


def test_save_load_flac_round_trip(tmp_path):
    y, sr = fm_tone(duration=0.3)
    path = tmp_path / "tone.flac"
    save_audio(str(path), y, sr)
    y2, sr2 = load_audio(str(path))
    assert sr2 == sr
    np.testing.assert_allclose(y2, y, atol=1.5 / 2**15)


def test_load_audio_channels_and_resampling(tmp_path):
    left, sr = fm_tone(duration=0.5, f0=300.0, depth=0.0)
    right, _ = fm_tone(duration=0.5, f0=600.0, depth=0.0, amplitude=0.25)
    path = tmp_path / "stereo.wav"
    save_audio(path, np.stack([left, right]), sr)
    stereo, _ = load_audio(path, mono=False)
    assert stereo.shape == (2, left.size)
    np.testing.assert_allclose(stereo[1], right, atol=1e-6)
    mono, _ = load_audio(path)
    np.testing.assert_allclose(mono, (left + right) / 2, atol=1e-6)
    low, sr_low = load_audio(path, sr=8000)
    assert sr_low == 8000 and low.shape == (left.size // 2,)
    assert peak_frequency(low, sr_low, fmax=450.0) == pytest.approx(300.0, abs=1.0)


def test_load_audio_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        load_audio(tmp_path / "missing.wav")
    bogus = tmp_path / "bogus.wav"
    bogus.write_text("not audio")
    with pytest.raises(ValueError, match="Cannot decode"):
        load_audio(bogus)
    y, sr = fm_tone(duration=0.1)
    path = tmp_path / "ok.wav"
    save_audio(path, y, sr)
    with pytest.raises(ValueError, match="sr=-1"):
        load_audio(path, sr=-1)


def test_save_audio_errors(tmp_path):
    with pytest.raises(ValueError, match="extension"):
        save_audio(tmp_path / "x.notaformat", np.zeros(10), 8000)
    with pytest.raises(ValueError, match="NaN"):
        save_audio(tmp_path / "x.wav", np.array([0.0, np.nan]), 8000)
    with pytest.raises(ValueError, match="shape"):
        save_audio(tmp_path / "x.wav", np.zeros((1, 2, 3)), 8000)


# ------------------------------------------------------------------ network


def test_the_network_is_off_during_tests():
    # conftest.py enforces that nothing here downloads data.
    with pytest.raises(RuntimeError, match="network"):
        socket.create_connection(("127.0.0.1", 9), timeout=0.1)
    with pytest.raises(RuntimeError, match="network"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.connect(("127.0.0.1", 9))
