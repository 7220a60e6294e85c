"""``separate`` for long mixtures: block by block, in bounded memory.

Used by the command line when the mixture is longer than ``LONG_SECONDS``
(or ``--chunk-frames`` is given): the mixture is never loaded whole. The
training recordings (supervised) are loaded as usual; blind separation
learns its templates and groups once, on an excerpt spread over the whole
mixture, then separates every block with them.
"""

import os
import sys

__all__ = ["LONG_SECONDS", "mixture_seconds", "separate_long"]

#: mixtures longer than this (seconds) are separated block by block
LONG_SECONDS = 300.0
#: frames per block, and frames of the blind excerpt (about 100 s at
#: n_fft=1024, hop 256, 16 kHz)
CHUNK_FRAMES = 2048
EXCERPT_FRAMES = 6144


def mixture_seconds(path):
    """The duration of a sound file from its header (nothing is read), or
    None if soundfile cannot tell."""
    import soundfile as sf

    try:
        info = sf.info(path)
    except Exception:  # unreadable: the ordinary path reports it  # noqa: BLE001
        return None
    return info.frames / info.samplerate


def separate_long(args, estimator, sources, sr, n_sources, progress, *, blind):
    """Separate ``args.mixture`` block by block into ``args.out``.

    Returns the output paths and a label per source.
    """
    import soundfile as sf

    from ..separation.long import (
        fit_blind_excerpt, grouping_masks, separate_stream, supervised_masks,
    )

    info = sf.info(args.mixture)
    if info.samplerate != sr:
        raise ValueError(
            f"the mixture {args.mixture} is {info.samplerate} Hz but the training files "
            f"are {sr} Hz; long mixtures are streamed, not resampled: resample first "
            "(e.g. sox) so that all files share one rate"
        )
    chunk = getattr(args, "chunk_frames", None) or CHUNK_FRAMES
    seconds = info.frames / info.samplerate
    paths = [os.path.join(args.out, f"source_{i + 1}.wav") for i in range(n_sources)]
    verbose = 0 if args.quiet else 1
    if blind:
        from ..separation import ComponentGroupSeparator

        separator = ComponentGroupSeparator(
            estimator, n_sources=n_sources, groups=args.groups, random_state=args.seed
        )
        progress(
            f"fitting {type(estimator).__name__} (K={args.n_components}, n_fft={args.n_fft}) "
            f"to an excerpt of {args.mixture} ({seconds:.1f} s; {EXCERPT_FRAMES} frames in "
            "16 stretches) and grouping its components"
        )
        fit_blind_excerpt(
            separator, args.mixture, sr=sr, n_fft=args.n_fft, hop_length=args.hop_length,
            power=args.power, excerpt_frames=EXCERPT_FRAMES,
        )
        masks = grouping_masks(separator)
        labels = [f"components {','.join(map(str, g))}" for g in separator.groups_]
    else:
        from ..separation import fit_separator

        train_n_fft = args.train_n_fft or args.n_fft
        train_hop = args.hop_length if args.train_n_fft is None else None
        progress(
            f"training {n_sources} {type(estimator).__name__} model(s), "
            f"K={args.n_components} each, n_fft={train_n_fft}"
        )
        separator = fit_separator(
            sources, sr, estimator=estimator, n_fft=train_n_fft, hop_length=train_hop,
            power=args.power, random_state=args.seed, verbose=verbose,
        )
        # the block phase has its own progress bar (not one per block's solve)
        separator.set_params(verbose=0)
        masks = supervised_masks(separator)
        labels = [f"trained on {', '.join(group)}" for group in args.source]
    progress(
        f"separating {args.mixture} ({seconds:.1f} s, n_fft={args.n_fft}) in blocks of "
        f"{chunk} frames, writing {n_sources} file(s) to {args.out} as it goes"
    )
    separate_stream(
        masks, args.mixture, paths, sr=sr, n_fft=args.n_fft, hop_length=args.hop_length,
        power=args.power, chunk_frames=chunk, verbose=verbose,
    )
    for path, label in zip(paths, labels):
        print(f"{path}\t({label})")
    sys.stdout.flush()
    return paths, labels
