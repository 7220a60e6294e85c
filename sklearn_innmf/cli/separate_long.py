"""``separate`` for long mixtures: block by block, in bounded memory.

Used by the command line when the mixture is longer than ``LONG_SECONDS``
(or ``--chunk-frames`` is given): the mixture is never loaded whole. The
training recordings (supervised) are loaded as usual; blind separation
learns its templates and groups once, on an excerpt spread over the whole
mixture, then separates every block with them.
"""

import os
import sys

__all__ = ["LONG_SECONDS", "mixture_seconds", "run_long", "separate_long"]

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


def run_long(args, n_sources, blind):
    """``separate`` with the mixture block by block: the training files are
    read, the mixture is streamed. Bad arguments raise the command's
    ``UsageError`` (one line on stderr, status 2)."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from .separate import (
        UsageError, _estimator, _load, _make_out, _Progress, _refuse_duplicates,
        _report_unconverged,
    )

    if args.reference is not None:
        raise UsageError(
            "--reference is not available for a mixture separated block by block "
            "(longer than 5 minutes, or --chunk-frames): SDR needs every sample in memory"
        )
    if args.sr is not None:
        raise UsageError("--sr (resampling) is not available for a mixture separated block "
                         "by block; resample the files beforehand (e.g. sox)")
    files = [(p, f"--source {i + 1} file") for i, g in enumerate(args.source or []) for p in g]
    notes, sources, rates = [], [], {}
    for i, group in enumerate(args.source or []):
        sources.append([])
        for path in group:
            y, rate = _load(path, None, f"--source {i + 1} file", notes)
            sources[-1].append(y)
            rates[path] = rate
    if not os.path.isfile(args.mixture):
        raise UsageError(f"--mixture {args.mixture}: no such file")
    _refuse_duplicates(files + [(args.mixture, "--mixture")])
    import soundfile as sf

    sr = sf.info(args.mixture).samplerate
    for path, rate in rates.items():
        if rate != sr:
            raise UsageError(f"sample rates differ: {path} is {rate} Hz but the mixture "
                             f"{args.mixture} is {sr} Hz; resample beforehand")
    _make_out(args.out)
    if not args.quiet:
        for note in notes:
            print(note, file=sys.stderr)
    progress = _Progress(args.quiet, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            separate_long(args, _estimator(args), sources, sr, n_sources, progress, blind=blind)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    _report_unconverged(caught, max(len(sources), 1), args.quiet)
    return 0
