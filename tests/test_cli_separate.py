"""The ``separate`` command line, run as a user would: WAV files in and out.

Most tests call :func:`sklearn_innmf.cli.separate.main` in-process (fast);
one runs it in a subprocess to check the exit status and streams of the real
program. The signals are short synthetic voices at 8 kHz; training budgets
are small, which is enough for the separation to be clearly better than
the mixture (the separation quality itself is tested in test_separation.py).
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from sklearn_innmf.cli.separate import main
from sklearn_innmf.datasets import harmonic_source, save_audio, two_source_mixture

SR = 8000
VOICE_B = dict(formants=(400.0, 2000.0, 2800.0))
FAST = ["--model", "matrix", "--n-fft", "256", "--n-components", "6", "--max-iter", "60"]


@pytest.fixture(scope="module")
def wavs(tmp_path_factory):
    d = tmp_path_factory.mktemp("wavs")

    def write(name, y, sr=SR):
        path = str(d / name)
        save_audio(path, y, sr)
        return path

    files = {
        "A1": write("A1.wav", harmonic_source(sr=SR, duration=0.6, f0=(110.0, 150.0),
                                              random_state=10)[0]),
        "A2": write("A2.wav", harmonic_source(sr=SR, duration=0.5, f0=(150.0, 115.0),
                                              random_state=12)[0]),
        "B1": write("B1.wav", harmonic_source(sr=SR, duration=1.0, f0=(240.0, 190.0),
                                              random_state=11, **VOICE_B)[0]),
    }
    a = harmonic_source(sr=SR, duration=0.8, f0=(125.0, 140.0), random_state=0)[0]
    b = harmonic_source(sr=SR, duration=0.8, f0=(200.0, 230.0), random_state=1, **VOICE_B)[0]
    mix, a, b = two_source_mixture(a, b)
    gain = 0.9 / np.max(np.abs(mix))
    files["mix"] = write("mix.wav", gain * mix)
    files["refA"] = write("refA.wav", gain * a)
    files["refB"] = write("refB.wav", gain * b)
    files["silent"] = write("silent.wav", np.zeros(SR // 2))
    files["sr16k"] = write("sr16k.wav", harmonic_source(sr=16000, duration=0.6,
                                                        random_state=3)[0], 16000)
    files["short"] = write("short.wav", a[:100])
    files["empty"] = write("empty.wav", np.zeros(0))
    nan = a.copy()
    nan[100] = np.nan
    files["nan"] = str(d / "nan.wav")
    soundfile.write(files["nan"], nan, SR, subtype="FLOAT")
    files["stereo"] = write("stereo.wav", np.stack([gain * mix, gain * mix]))
    files["notaudio"] = str(d / "notes.wav")
    with open(files["notaudio"], "w") as fh:
        fh.write("not audio")
    return files


def _no_training(*args, **kwargs):
    raise AssertionError("bad input must be refused before any training")


def base_args(w, out):
    return ["--source", w["A1"], w["A2"], "--source", w["B1"], "--mixture", w["mix"],
            "--out", str(out)]


def test_writes_one_wav_per_source_and_prints_metrics(wavs, tmp_path, capsys):
    import soundfile

    out = tmp_path / "out"
    argv = base_args(wavs, out) + FAST + ["--reference", wavs["refA"], wavs["refB"]]
    assert main(argv) == 0
    captured = capsys.readouterr()
    for i in (1, 2):
        y, sr = soundfile.read(out / f"source_{i}.wav")
        assert sr == SR and y.shape == (int(0.8 * SR),)
        assert str(out / f"source_{i}.wav") in captured.out
    rows = {line.split()[0]: line.split()[1:4] for line in captured.out.splitlines()
            if line.startswith(("source_", "mean"))}
    sdr = [float(rows[f"source_{i}.wav"][0]) for i in (1, 2)]
    assert min(sdr) > 5.0, captured.out  # the mixture itself is at about 0 dB
    assert "SDR" in captured.out and "SIR" in captured.out and "SAR" in captured.out
    # progress goes to stderr, in stages
    assert "[1/5" in captured.err and "[5/5" in captured.err


def test_quiet_success_has_no_stderr(wavs, tmp_path, capsys):
    assert main(base_args(wavs, tmp_path / "o") + FAST + ["--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert sorted(os.listdir(tmp_path / "o")) == ["source_1.wav", "source_2.wav"]


def test_leading_separate_word_is_accepted(wavs, tmp_path, capsys):
    assert main(["separate", *base_args(wavs, tmp_path / "o"), *FAST, "--quiet"]) == 0


def test_implicit_model_trained_at_another_size(wavs, tmp_path, capsys):
    argv = base_args(wavs, tmp_path / "o") + [
        "--model", "implicit", "--n-fft", "256", "--train-n-fft", "384",
        "--n-components", "4", "--max-iter", "10", "--quiet",
    ]
    assert main(argv) == 0
    assert len(os.listdir(tmp_path / "o")) == 2


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda w, a: a + ["--mixture", w["mix"] + ".missing"], "mix.wav.missing: no such file"),
        (lambda w, a: a + ["--source", w["silent"]], "silent.wav is silent"),
        (lambda w, a: a + ["--source", w["sr16k"]], "sample rates differ: .*16000 Hz.*--sr 8000"),
        (lambda w, a: a + ["--source", w["notaudio"]], "notes.wav: cannot read it as audio"),
        (lambda w, a: a + ["--source", w["short"]], "fewer than the FFT size"),
        (lambda w, a: a + ["--reference", w["refA"]], "--reference got 1 file"),
        (lambda w, a: a + ["--reference", w["refA"], w["short"]], "references must be the mixture"),
        (lambda w, a: a + ["--n-fft", "0"], "argument --n-fft: '0' must be >= 1"),
        (lambda w, a: a + ["--model", "deep"], "invalid choice: 'deep'"),
        (lambda w, a: a + ["--out", w["A1"]], "exists and is not a directory"),
        (lambda w, a: a + ["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (lambda w, a: [x for x in a if x != "--mixture" and x != w["mix"]],
         "required: --mixture"),
        (lambda w, a: a + ["--source", w["empty"]], "empty.wav is empty \\(0 samples\\)"),
        (lambda w, a: a + ["--source", w["nan"]], "nan.wav has NaN or infinite samples"),
        (lambda w, a: a + ["--source", w["A1"]],
         "A1.wav is given as --source 1 file and as --source 3 file; give each file once"),
        (lambda w, a: a + ["--reference", w["refA"], w["mix"]],
         "mix.wav is given as --mixture and as --reference file"),
        (lambda w, a: a + ["--out", w["A1"] + "/sub"], "--out .*A1.wav/sub: cannot create"),
        (lambda w, a: a + ["--threads", "0"], "argument --threads: '0' must be >= 1"),
        (lambda w, a: a + ["--groups", "0:1"], "--groups is for blind separation"),
    ],
    ids=["missing", "silent", "sample-rate", "not-audio", "too-short", "reference-count",
         "reference-length", "n-fft", "model", "out-is-file", "unknown-option",
         "no-mixture", "empty", "nan", "same-file-twice", "mixture-as-reference",
         "out-uncreatable", "threads", "groups-with-source"],
)
def test_bad_input_one_line_and_status_2(wavs, tmp_path, capsys, monkeypatch, change,
                                         message):
    import re

    argv = change(wavs, base_args(wavs, tmp_path / "o") + FAST)
    monkeypatch.setattr("sklearn_innmf.separation.waveforms.fit_separator", _no_training)
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("sklearn_innmf separate: error: ")
    assert re.search(message, lines[0]), lines[0]
    assert not (tmp_path / "o").exists()  # nothing written


def test_subprocess_missing_file(wavs, tmp_path):
    """As a user runs it: exit status 2, one line on stderr, nothing on stdout."""
    argv = ["--source", wavs["A1"], "--source", str(tmp_path / "nope.wav"),
            "--mixture", wavs["mix"], "--out", str(tmp_path / "o")]
    code = "from sklearn_innmf.cli.separate import main; raise SystemExit(main())"
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        f"sklearn_innmf separate: error: --source 2 file {tmp_path / 'nope.wav'}: no such file"
    ]



# ---------------------------------------------------------------------------
# Blind separation: no --source, the mixture's components are grouped

BLIND = ["--model", "matrix", "--n-fft", "256", "--n-components", "6", "--max-iter", "60"]


def blind_args(w, out):
    return ["--mixture", w["mix"], "--out", str(out)]


def test_blind_writes_one_wav_per_group_and_matches_references(wavs, tmp_path, capsys):
    out = tmp_path / "out"
    argv = blind_args(wavs, out) + BLIND + ["--reference", wavs["refA"], wavs["refB"]]
    assert main(argv) == 0
    captured = capsys.readouterr()
    outputs = [soundfile.read(out / f"source_{i}.wav")[0] for i in (1, 2)]
    mix = soundfile.read(wavs["mix"])[0]
    np.testing.assert_allclose(outputs[0] + outputs[1], mix, atol=1e-4)
    listed = [line for line in captured.out.splitlines() if "\t(components " in line]
    assert len(listed) == 2
    components = sorted(int(k) for line in listed
                        for k in line.split("(components ")[1].rstrip(")").split(","))
    assert components == list(range(6))
    # one metrics row per reference, each naming the output matched to it
    rows = [line.split() for line in captured.out.splitlines()
            if line.endswith(("refA.wav", "refB.wav"))]
    assert len(rows) == 2 and {r[0] for r in rows} == {"source_1.wav", "source_2.wav"}
    assert "[1/4" in captured.err and "[4/4" in captured.err
    assert "grouping its components into 2 sources automatically" in captured.err


def test_blind_manual_groups_fix_the_order(wavs, tmp_path, capsys):
    out = tmp_path / "out"
    argv = blind_args(wavs, out) + BLIND + ["--groups", "4,0,1:2,3,5", "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert f"{out / 'source_1.wav'}\t(components 0,1,4)" in captured.out
    assert f"{out / 'source_2.wav'}\t(components 2,3,5)" in captured.out


def test_stereo_mixture_is_downmixed_with_a_note(wavs, tmp_path, capsys):
    argv = ["--mixture", wavs["stereo"], "--out", str(tmp_path / "o")] + BLIND
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert f"note: --mixture {wavs['stereo']} has 2 channels; mixed down to mono" in err
    y, _ = soundfile.read(tmp_path / "o" / "source_1.wav")
    assert y.ndim == 1


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--groups", "0,1:1,2,3,4,5"],
         r"--groups 0,1:1,2,3,4,5 with --n-components 6: .*component 1 in groups"),
        (["--groups", "0,1:2"], r"leaves component\(s\) \[3, 4, 5\] out"),
        (["--groups", "0,1,2:3,4,5,6"], r"names component\(s\) \[6\]"),
        (["--groups", "a:b"], "argument --groups: 'a:b' is not a list of groups"),
        (["--groups", "0,1,2,3,4,5"], "argument --groups: .* has one group"),
        (["--groups", "0,1,2:3,4,5", "--n-sources", "3"], "--n-sources 3 but --groups has 2"),
        (["--n-sources", "7"], "--n-sources 7 is more than --n-components 6"),
        (["--train-n-fft", "512"], "--train-n-fft needs --source"),
        (["--reference", "REF_A"], "--reference got 1 file.* 2 sources"),
    ],
)
def test_blind_bad_arguments_one_line_before_training(wavs, tmp_path, capsys, monkeypatch,
                                                     extra, message):
    import re

    monkeypatch.setattr("sklearn_innmf.separation.grouping.separate_by_grouping", _no_training)
    extra = [wavs["refA"] if x == "REF_A" else x for x in extra]
    assert main(blind_args(wavs, tmp_path / "o") + BLIND + extra) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), lines
    assert not (tmp_path / "o").exists()


def test_blind_nan_mixture_refused_before_training(wavs, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sklearn_innmf.separation.grouping.separate_by_grouping", _no_training)
    argv = ["--mixture", wavs["nan"], "--out", str(tmp_path / "o")] + BLIND
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"sklearn_innmf separate: error: --mixture {wavs['nan']} has NaN or infinite samples"
    ]


def test_threads_option_sets_torch_threads(wavs, tmp_path, capsys):
    import torch

    before = torch.get_num_threads()
    try:
        argv = blind_args(wavs, tmp_path / "o") + BLIND + ["--threads", "2", "--quiet"]
        assert main(argv) == 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_version(capsys):
    from sklearn_innmf import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sklearn-innmf {__version__}"
    proc = subprocess.run([sys.executable, "-m", "sklearn_innmf", "--version"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"sklearn-innmf {__version__}"


def test_autoencoder_model(wavs, tmp_path, capsys):
    """--model nae: one non-negative autoencoder per source, their decoders
    explaining the mixture (eq. 8 of Smaragdis & Venkataramani 2017)."""
    out = tmp_path / "nae"
    argv = base_args(wavs, out) + ["--model", "nae", "--n-fft", "256", "--n-components", "6",
                                   "--max-iter", "200", "--quiet",
                                   "--reference", wavs["refA"], wavs["refB"]]
    assert main(argv) == 0
    rows = {line.split()[0]: line.split()[1:4] for line in capsys.readouterr().out.splitlines()
            if line.startswith("source_")}
    assert min(float(rows[f"source_{i}.wav"][0]) for i in (1, 2)) > 5.0, rows


@pytest.mark.parametrize("argv, message", [
    (["--model", "nae"], "--model nae needs --source"),
    (["--model", "matrix", "--hidden-sizes", "8"], "--hidden-sizes is for --model nae"),
])
def test_autoencoder_bad_arguments(wavs, tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.setattr("sklearn_innmf.separation.grouping.separate_by_grouping", _no_training)
    assert main(["--mixture", wavs["mix"], "--out", str(tmp_path / "o")] + argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and message in lines[0], lines
