"""Long recordings: streamed STFT points, fitting from a corpus, and the
block-by-block separation (equal to the whole-file one)."""

import numpy as np
import pytest
import soundfile as sf
from _helpers import two_speakers

from sklearn_innmf import ComponentGroupSeparator, MatrixNMF, MiniBatchMatrixNMF
from sklearn_innmf.separation.long import (
    fit_blind_excerpt, grouping_masks, separate_stream, supervised_masks,
)
from sklearn_innmf.representations.streaming import fit_corpus, stream_stft_points
from sklearn_innmf.representations import stft_points
from sklearn_innmf.separation import fit_separator, separate_mixture

SR = 8000

# the fits here are short on purpose (the tests are about blocks and streams)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def speakers():
    sources, mixture, truth = two_speakers(SR)[:3]
    return sources, mixture.astype(np.float32), truth


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_stream_is_stft_points(tmp_path, batch_size):
    y = np.random.default_rng(0).standard_normal(3000).astype(np.float32)
    X = stft_points(y, sr=SR, n_fft=256, hop_length=64, power=0.5)
    parts = list(stream_stft_points(y, sr=SR, n_fft=256, hop_length=64, power=0.5,
                                    batch_size=batch_size))
    assert max(p.shape[0] for p in parts) <= batch_size * 129
    np.testing.assert_array_equal(np.concatenate(parts), X)
    # from a file, read block by block: the same numbers (16-bit PCM here)
    path = tmp_path / "y.wav"
    sf.write(path, y / 8, SR, subtype="FLOAT")
    Xf = np.concatenate(list(stream_stft_points(path, n_fft=256, hop_length=64, power=0.5,
                                                batch_size=batch_size)))
    np.testing.assert_allclose(Xf, stft_points(y / 8, sr=SR, n_fft=256, hop_length=64,
                                               power=0.5), rtol=1e-5, atol=1e-6)


def test_stream_bad_input(tmp_path):
    with pytest.raises(ValueError, match="need sr="):
        next(stream_stft_points(np.zeros(1000)))
    with pytest.raises(ValueError, match="1-D float array"):
        next(stream_stft_points(np.zeros((2, 1000)), sr=SR))
    with pytest.raises(ValueError, match="NaN or infinity"):
        next(stream_stft_points(np.full(1000, np.nan), sr=SR))
    with pytest.raises(ValueError, match="fewer than n_fft"):
        next(stream_stft_points(np.zeros(100), sr=SR, n_fft=256))
    path = tmp_path / "y.wav"
    sf.write(path, np.zeros(1000), SR)
    with pytest.raises(ValueError, match="sampling rate 8000 Hz, but sr=16000"):
        next(stream_stft_points(path, sr=16000))


def test_fit_corpus_learns_a_dictionary(speakers, tmp_path):
    sources, mixture, _ = speakers
    files = []
    for i, y in enumerate(sources[0] + sources[0]):  # 4 files of speaker A
        files.append(tmp_path / f"a{i}.wav")
        sf.write(files[-1], y, SR, subtype="FLOAT")
    kw = dict(n_fft=256, hop_length=64, power=0.5, batch_size=16)
    est = fit_corpus(MiniBatchMatrixNMF(4, random_state=0), files, n_epochs=2, **kw)
    n_frames = sum(1 + sf.info(f).frames // 64 for f in files)
    assert est.n_steps_ == 2 * sum(-(-(1 + sf.info(f).frames // 64) // 16) for f in files)
    assert n_frames > est.n_steps_
    # its templates explain held-out speech of A better than of B
    A = stft_points(sources[0][0], sr=SR, n_fft=256, hop_length=64, power=0.5)
    B = stft_points(sources[1][0], sr=SR, n_fft=256, hop_length=64, power=0.5)
    score = {k: est.fit_activations(X).score(X) / np.mean(X[:, 2]) for k, X in {"A": A, "B": B}.items()}
    assert score["A"] > score["B"]
    # a deterministic function of the corpus and random_state
    again = fit_corpus(MiniBatchMatrixNMF(4, random_state=0), files, n_epochs=2, **kw)
    np.testing.assert_array_equal(est.templates(A[:129, 1]), again.templates(A[:129, 1]))


def test_fit_corpus_bad_input():
    with pytest.raises(ValueError, match="has no partial_fit"):
        fit_corpus(MatrixNMF(), [np.zeros(1000)], sr=SR)
    with pytest.raises(ValueError, match="every block was silent"):
        fit_corpus(MiniBatchMatrixNMF(2), [np.zeros(1000)], sr=SR, n_fft=256)
    with pytest.raises(ValueError, match="n_epochs"):
        fit_corpus(MiniBatchMatrixNMF(2), [np.zeros(1000)], sr=SR, n_epochs=0)


@pytest.mark.parametrize("chunk_frames", [1, 7, 10_000])
def test_supervised_blocks_equal_whole_file(speakers, tmp_path, chunk_frames):
    # frame-by-frame activations: a frame's masks do not depend on the
    # others, so separating block by block is the whole-file separation
    sources, mixture, _ = speakers
    sep = fit_separator(sources, SR, estimator=MatrixNMF(4, max_iter=50, random_state=0),
                        n_fft=256, power=0.5, random_state=0, max_iter=30)
    ref = separate_mixture(sep, mixture, SR, n_fft=256, power=0.5)
    outs = [tmp_path / "s1.wav", tmp_path / "s2.wav"]
    n = separate_stream(supervised_masks(sep), mixture, outs, sr=SR, n_fft=256, power=0.5,
                        chunk_frames=chunk_frames)
    got = np.stack([sf.read(o)[0] for o in outs])
    assert n == mixture.size and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_blind_blocks_keep_labels(speakers, tmp_path):
    sources, mixture, _ = speakers
    blind = ComponentGroupSeparator(MatrixNMF(6, max_iter=200, random_state=0), random_state=0)
    fit_blind_excerpt(blind, mixture, sr=SR, n_fft=256, power=0.5, excerpt_frames=60, n_pieces=3)
    # the excerpt: 3 stretches of 20 frames spread over the file
    t = np.unique(blind.estimator_.model_.factors[0].knots.numpy())
    assert t.size == 60 and t.max() > 0.8 * mixture.size / SR
    outs = [tmp_path / "s1.wav", tmp_path / "s2.wav"]
    separate_stream(grouping_masks(blind), mixture, outs, sr=SR, n_fft=256, power=0.5,
                    chunk_frames=25)
    got = np.stack([sf.read(o)[0] for o in outs])
    # the sources add up to the mixture, and neither is (nearly) all of it
    np.testing.assert_allclose(got.sum(axis=0), mixture, atol=1e-5)
    energy = (got**2).sum(axis=1) / (mixture**2).sum()
    assert np.all(energy > 0.02)
    # the same component groups give the same outputs however the blocks fall
    outs2 = [tmp_path / "t1.wav", tmp_path / "t2.wav"]
    separate_stream(grouping_masks(blind), mixture, outs2, sr=SR, n_fft=256, power=0.5,
                    chunk_frames=25)
    np.testing.assert_array_equal(got, np.stack([sf.read(o)[0] for o in outs2]))


def test_separate_stream_checks_masks(speakers, tmp_path):
    _, mixture, _ = speakers
    with pytest.raises(ValueError, match="one column per output file"):
        separate_stream(lambda X: np.ones((X.shape[0], 3)), mixture,
                        [tmp_path / "a.wav", tmp_path / "b.wav"], sr=SR, n_fft=256)


def _wavs(speakers, tmp_path):
    sources, mixture, _ = speakers
    paths = {}
    for name, y in (("a", sources[0][0]), ("b", sources[1][0]), ("mix", mixture)):
        paths[name] = str(tmp_path / f"{name}.wav")
        sf.write(paths[name], y, SR, subtype="FLOAT")
    return paths


def test_cli_blocks_equal_whole_file(speakers, tmp_path, capsys):
    from sklearn_innmf.cli.separate import main

    w = _wavs(speakers, tmp_path)
    base = ["separate", "--source", w["a"], "--source", w["b"], "--mixture", w["mix"],
            "--n-fft", "256", "--n-components", "4", "--max-iter", "50", "--quiet"]
    assert main(base + ["--out", str(tmp_path / "whole")]) == 0
    assert main(base + ["--out", str(tmp_path / "blocks"), "--chunk-frames", "7"]) == 0
    for i in (1, 2):
        whole = sf.read(tmp_path / "whole" / f"source_{i}.wav")[0]
        blocks = sf.read(tmp_path / "blocks" / f"source_{i}.wav")[0]
        np.testing.assert_allclose(blocks, whole, atol=1e-4)  # 16-bit vs float files
    assert "source_2.wav" in capsys.readouterr().out


def test_cli_blocks_blind_and_refusals(speakers, tmp_path, capsys):
    from sklearn_innmf.cli.separate import main

    w = _wavs(speakers, tmp_path)
    out = tmp_path / "blind"
    assert main(["separate", "--mixture", w["mix"], "--out", str(out), "--n-fft", "256",
                 "--n-components", "4", "--max-iter", "300", "--chunk-frames", "16",
                 "--quiet"]) == 0
    y = sum(sf.read(out / f"source_{i}.wav")[0] for i in (1, 2))
    np.testing.assert_allclose(y, speakers[1], atol=1e-5)
    capsys.readouterr()
    assert main(["separate", "--mixture", w["mix"], "--out", str(out), "--chunk-frames", "16",
                 "--reference", w["a"], w["b"]]) == 2
    assert "not available for a mixture separated block by block" in capsys.readouterr().err
