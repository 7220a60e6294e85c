"""Separation of long recordings in bounded memory.

The mixture is read block by block (:func:`~sklearn_innmf.representations.streaming.stft_blocks`),
each block of frames is separated into Wiener masks, the masked complex
STFT frames are inverted and overlap-added, and every finished sample is
written to the output files at once: memory is one block of frames and its
samples, whatever the length of the file. The output equals
``librosa.istft`` of the masked STFT of the whole file (centred frames, Hann
window) up to float32 rounding.

Where the masks come from:

* :func:`supervised_masks`: a fitted
  :class:`~sklearn_innmf.separation.SupervisedSeparator`. With its default
  frame-by-frame activations a frame's masks depend on that frame alone, so
  separating block by block gives the same masks as the whole file at once.
* :func:`grouping_masks`: a fitted
  :class:`~sklearn_innmf.separation.ComponentGroupSeparator` (blind): its
  templates and groups were learned once (on an excerpt of the mixture,
  :func:`fit_blind_excerpt`); each block's activations are learned for that
  block with the templates frozen (``fit_activations``), so the source
  labels are the same in every block.
"""

import numpy as np

from ..representations.streaming import _source_info, block_points, n_stft_frames, stft_blocks

__all__ = ["separate_stream", "supervised_masks", "grouping_masks", "fit_blind_excerpt"]


def supervised_masks(separator):
    """The masks of a fitted SupervisedSeparator, as a function of points."""
    return separator.masks


def grouping_masks(separator):
    """Masks of a fitted ComponentGroupSeparator for points of *any* stretch
    of the signal: the block's activations are learned with the separator's
    templates frozen, then the components are summed per group."""
    est = separator.estimator_
    onehot = np.zeros((separator.n_components_, len(separator.groups_)))
    onehot[np.arange(separator.n_components_), separator.components_to_sources_] = 1.0
    S = onehot.shape[1]

    def masks(X):
        d = X.shape[1] - 1
        if not np.any(X[:, -1] > 0):  # a silent block
            return np.full((X.shape[0], S), 1.0 / S)
        V = np.asarray(est.fit_activations(X).transform(X))[:, d:].astype(np.float64)
        parts = V @ onehot
        total = parts.sum(axis=1, keepdims=True)
        return np.divide(parts, total, out=np.full_like(parts, 1.0 / S), where=total > 0)

    return masks


def fit_blind_excerpt(
    separator, source, *, sr=None, n_fft=1024, hop_length=None, power=1.0, excerpt_frames=8192,
    n_pieces=16,
):
    """Fit a ComponentGroupSeparator on an excerpt of a long mixture.

    ``n_pieces`` stretches of frames spread evenly over the file, of
    ``excerpt_frames`` frames in all, laid end to end (each piece keeps its
    own frame times, so no frame is repeated): a sample of the whole
    recording that fits in memory.
    """
    n_samples, sr, _ = _source_info(source, sr)
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    n_frames = n_stft_frames(n_samples, hop)
    if n_frames <= excerpt_frames:
        wanted = [(0, n_frames)]
    else:
        size = max(excerpt_frames // n_pieces, 1)
        starts = np.linspace(0, n_frames - size, n_pieces).astype(int)
        wanted = [(int(s), int(s) + size) for s in starts]
    import librosa

    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft).astype(np.float32)
    parts = []
    for s, e in wanted:
        # one block per piece: read only its samples
        for a, b, D, _ in _blocks_from(source, sr, n_fft, hop, s, e):
            parts.append(block_points(np.abs(D) ** power, a, b, hop, sr, freqs))
    return separator.fit(np.concatenate(parts))


def _blocks_from(source, sr, n_fft, hop, start, stop):
    """The STFT block of frames start:stop (one read of its samples)."""
    import librosa

    n_samples, sr, read = _source_info(source, sr)
    pad = n_fft // 2
    lo, hi = start * hop - pad, (stop - 1) * hop + n_fft - pad
    seg = np.zeros(hi - lo, dtype=np.float32)
    s0, s1 = max(lo, 0), min(hi, n_samples)
    if s1 > s0:
        seg[s0 - lo : s1 - lo] = read(s0, s1)
    D = librosa.stft(seg, n_fft=n_fft, hop_length=hop, center=False)
    yield start, stop, D[:, : stop - start], sr


class _OverlapAdd:
    """Streaming inverse STFT (centred frames, Hann window) to sound files."""

    def __init__(self, writers, n_samples, n_fft, hop):
        import scipy.signal

        self.writers = writers
        self.n_samples, self.n_fft, self.hop = n_samples, n_fft, hop
        self.pad = n_fft // 2
        self.window = scipy.signal.get_window("hann", n_fft, fftbins=True).astype(np.float32)
        self.base = 0  # padded-signal position of buffer[0]
        self.acc = np.zeros((len(writers), 0), dtype=np.float32)
        self.wss = np.zeros(0, dtype=np.float32)
        self.written = 0  # original samples written

    def add(self, a, b, D_sources, last):
        """Frames a:b of every source (sources x bins x frames, complex)."""
        n_fft, hop = self.n_fft, self.hop
        end = (b - 1) * hop + n_fft
        grow = end - self.base - self.wss.size
        if grow > 0:
            self.acc = np.concatenate([self.acc, np.zeros((len(self.writers), grow), np.float32)], 1)
            self.wss = np.concatenate([self.wss, np.zeros(grow, np.float32)])
        frames = np.fft.irfft(D_sources, n=n_fft, axis=1).astype(np.float32)
        frames *= self.window[None, :, None]
        w2 = self.window**2
        for j in range(b - a):
            p = (a + j) * hop - self.base
            self.acc[:, p : p + n_fft] += frames[:, :, j]
            self.wss[p : p + n_fft] += w2
        done = end if last else b * hop  # later frames start at b * hop
        self._flush(done)

    def _flush(self, done):
        n = done - self.base
        y = self.acc[:, :n]
        wss = self.wss[:n]
        ok = wss > np.finfo(np.float32).tiny
        y = np.where(ok, y / np.where(ok, wss, 1.0), y)
        # padded positions [base, done) -> original samples [base - pad, done - pad)
        lo = max(self.pad - self.base, 0)
        hi = min(n, self.pad + self.n_samples - self.base)
        if hi > lo:
            for s, w in enumerate(self.writers):
                w.write(y[s, lo:hi])
            self.written += hi - lo
        self.acc = self.acc[:, n:].copy()
        self.wss = self.wss[n:].copy()
        self.base = done


def separate_stream(
    masks, source, out_paths, *, sr=None, n_fft=1024, hop_length=None, power=1.0,
    chunk_frames=2048, verbose=0, subtype="FLOAT",
):
    """Separate a long mixture block by block, writing each source to a file.

    Parameters
    ----------
    masks : callable
        Points (L, 3) of a block -> Wiener masks (L, n_sources) summing to 1
        (:func:`supervised_masks`, :func:`grouping_masks`).
    source : path or 1-D array
        The mixture.
    out_paths : list of paths
        One output file per source (written as they are computed).
    sr, n_fft, hop_length, power
        As :func:`~sklearn_innmf.representations.streaming.stream_stft_points`; ``power``
        as the separator was trained.
    chunk_frames : int, default=2048
        Frames per block.
    verbose : int, default=0
        1 shows a progress bar over the frames.
    subtype : str, default="FLOAT"
        soundfile subtype of the outputs.

    Returns
    -------
    n_samples : int
        Samples written to each file (the mixture's length).
    """
    import librosa
    import soundfile as sf

    n_samples, sr, _ = _source_info(source, sr)
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    n_frames = n_stft_frames(n_samples, hop)
    freqs = librosa.fft_frequencies(sr=sr, n_fft=n_fft).astype(np.float32)
    bar = None
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_frames, desc="separating", unit="frame")
    writers = []
    try:
        writers = [sf.SoundFile(p, "w", samplerate=sr, channels=1, subtype=subtype)
                   for p in out_paths]
        ola = _OverlapAdd(writers, n_samples, n_fft, hop)
        for a, b, D, _ in stft_blocks(
            source, sr=sr, n_fft=n_fft, hop_length=hop, batch_size=chunk_frames
        ):
            X = block_points(np.abs(D) ** power, a, b, hop, sr, freqs)
            M = np.asarray(masks(X), dtype=np.float32)
            if M.shape != (X.shape[0], len(out_paths)):
                raise ValueError(
                    f"masks gave shape {M.shape}, expected ({X.shape[0]}, {len(out_paths)}): "
                    "one column per output file."
                )
            # points are time-major: (frames, bins, sources) -> (sources, bins, frames)
            M = M.reshape(b - a, freqs.size, -1).transpose(2, 1, 0)
            ola.add(a, b, M * D[None], last=b == n_frames)
            if bar is not None:
                bar.update(b - a)
    finally:
        for w in writers:
            w.close()
        if bar is not None:
            bar.close()
    return ola.written
