"""Render the long material of benchmarks/long.py (not in git: /work/material/long/).

* ``speechA_<n>min.wav`` / ``speechB_<n>min.wav``: n minutes of espeak-ng speech in
  the two voices of /work/shared/data/speech (en-us+m3 pitch 35, en-us+f4 pitch 80),
  random sentences from a fixed vocabulary (seeded), 16 kHz mono.
* ``mix_<n>min.wav``: their sum at 0 dB (the separation benchmark's mixture).
* ``corpus/utt_000.wav ..``: 120 short utterances (voice A), the corpus of the
  streamed-dictionary benchmark.

Usage: python benchmarks/render_long.py [OUT_DIR]
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import soundfile as sf

SR = 16000
VOICES = {"A": ("en-us+m3", 35), "B": ("en-us+f4", 80)}
WORDS = (
    "the a small large old new red green blue bright dark quiet loud cold warm "
    "house river garden window morning evening teacher child city road boat "
    "stone bread music letter paper table friend market winter summer forest "
    "walks runs sings writes reads opens closes carries finds builds paints "
    "slowly quickly gently often never always again today under over near "
    "behind across beside through before after during with without and but"
).split()


def sentences(rng, n):
    out = []
    for _ in range(n):
        k = rng.integers(5, 12)
        words = list(rng.choice(WORDS, size=k))
        out.append(" ".join(words).capitalize() + ".")
    return out


def speak(text, voice, pitch):
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = os.path.join(tmp, "raw.wav"), os.path.join(tmp, "out.wav")
        subprocess.run(
            ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "165", "-w", raw, text],
            check=True,
        )
        subprocess.run(["sox", raw, "-r", str(SR), "-c", "1", "-b", "16", out], check=True)
        y, sr = sf.read(out, dtype="float32")
    assert sr == SR
    return y


def speech(minutes, voice_key, seed):
    """``minutes`` of speech, rendered 40 sentences per espeak call."""
    rng = np.random.default_rng(seed)
    voice, pitch = VOICES[voice_key]
    pieces, n = [], 0
    while n < minutes * 60 * SR:
        y = speak(" ".join(sentences(rng, 40)), voice, pitch)
        pieces.append(y)
        n += y.size
    y = np.concatenate(pieces)[: minutes * 60 * SR]
    return 0.5 * y / max(np.max(np.abs(y)), 1e-9)


def main(out):
    os.makedirs(out, exist_ok=True)
    for minutes in (10, 60):
        ys = {}
        for i, key in enumerate("AB"):
            path = os.path.join(out, f"speech{key}_{minutes}min.wav")
            if not os.path.exists(path):
                sf.write(path, speech(minutes, key, seed=100 * minutes + i), SR, subtype="PCM_16")
            ys[key] = sf.read(path, dtype="float32")[0]
        mix = os.path.join(out, f"mix_{minutes}min.wav")
        if not os.path.exists(mix):
            sf.write(mix, 0.5 * (ys["A"] + ys["B"]), SR, subtype="PCM_16")
        print(f"{minutes} min rendered", flush=True)
    corpus = os.path.join(out, "corpus")
    os.makedirs(corpus, exist_ok=True)
    rng = np.random.default_rng(7)
    for i in range(120):
        path = os.path.join(corpus, f"utt_{i:03d}.wav")
        if not os.path.exists(path):
            y = speak(" ".join(sentences(rng, 2)), *VOICES["A"])
            sf.write(path, 0.5 * y / max(np.max(np.abs(y)), 1e-9), SR, subtype="PCM_16")
    print("corpus rendered", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/material/long")
