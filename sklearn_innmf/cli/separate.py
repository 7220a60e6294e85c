"""``python -m sklearn_innmf separate``: source separation of WAV files.

With ``--source`` (supervised): trains one model per source on its
recordings, separates a mixture with Wiener masks and writes one WAV per
source. Without (blind): factorises the mixture itself and groups its
components into ``--n-sources`` sources, automatically or as ``--groups``
says (:class:`~sklearn_innmf.separation.ComponentGroupSeparator`). With
``--reference`` files it prints SDR, SIR and SAR. Bad files or arguments give
one line on stderr and exit status 2, before any training.

    python -m sklearn_innmf separate --source A1.wav A2.wav --source B1.wav \
        --mixture mix.wav --model implicit --n-fft 1024 --out separated/ \
        --reference ref_A.wav ref_B.wav
    python -m sklearn_innmf separate --mixture mix.wav --n-sources 2 --out separated/
    python -m sklearn_innmf separate --mixture mix.wav --groups 0,1,2:3,4 \
        --n-components 5 --out separated/
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

_PROG = "sklearn_innmf separate"


class UsageError(Exception):
    """A bad file or argument: reported in one line, exit status 2."""


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _groups(text):
    """``"0,1,2:3,4"`` -> ``[[0, 1, 2], [3, 4]]``."""
    groups = []
    for part in text.split(":"):
        try:
            groups.append([int(k) for k in part.split(",")])
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a list of groups of component indices, e.g. 0,1,2:3,4 "
                "(commas within a source, colons between sources)"
            ) from None
    if len(groups) < 2:
        raise argparse.ArgumentTypeError(
            f"{text!r} has one group; give one group per source, separated by ':'"
        )
    return groups


def _one_line_error(message):
    """argparse's error, in one line (no usage block)."""
    sys.stderr.write(f"{_PROG}: error: {message} (see --help)\n")
    raise SystemExit(2)


def add_parser(subparsers):
    """Register the ``separate`` subcommand.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    parser : argparse.ArgumentParser
        The subcommand's parser; its ``func`` default is :func:`run`.
    """
    parser = subparsers.add_parser(
        "separate",
        help="separate a mixture, with models trained on each source's recordings "
        "(--source) or by grouping the components of the mixture's own NMF",
        description=(
            "Source separation. Supervised: each --source gives the training "
            "recordings of one source; a model is fitted per source, the mixture "
            "is explained with all sources' templates and split with Wiener masks. "
            "Blind (no --source): one model of the mixture itself, its components "
            "grouped into --n-sources sources (automatically, or by --groups), each "
            "group's Wiener-masked share written out. "
            "Writes DIR/source_1.wav, DIR/source_2.wav, ... (in the order of "
            "--source, or of the groups)."
        ),
        epilog=(
            "examples: python -m sklearn_innmf separate --source A1.wav A2.wav "
            "--source B1.wav --mixture mix.wav --out separated --reference A.wav B.wav; "
            "python -m sklearn_innmf separate --mixture mix.wav --n-sources 2 "
            "--out separated"
        ),
    )
    parser.add_argument(
        "--source", action="append", nargs="+", metavar="WAV",
        help="training recordings of one source; repeat --source for each source. "
        "Without --source the mixture's components are grouped (blind separation)",
    )
    parser.add_argument(
        "--n-sources", type=_positive_int, default=None, metavar="S",
        help="blind separation: the number of sources (default: 2, or the number "
        "of --groups)",
    )
    parser.add_argument(
        "--groups", type=_groups, default=None, metavar="SPEC",
        help="blind separation: which components make each source, e.g. 0,1,2:3,4 "
        "(components 0-2 are source 1, 3-4 source 2; every component 0..K-1 once). "
        "Default: grouped automatically by clustering the components' features",
    )
    parser.add_argument("--mixture", required=True, metavar="WAV", help="the mixture to separate")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--reference", nargs="+", metavar="WAV",
        help="true sources (one per --source, in the same order; blind: one per "
        "source, matched to the outputs by best SDR unless --groups fixes the order): "
        "print SDR/SIR/SAR",
    )
    parser.add_argument(
        "--model", choices=["matrix", "implicit", "nae"], default="matrix",
        help="matrix: classic NMF (MatrixNMF); implicit: iN-NMF (ImplicitNMF, "
        "templates as networks: on two speakers with 4 training sentences each "
        "+0.3 dB SDR at 9x the time of matrix); nae: non-negative autoencoder "
        "(NonNegativeAutoencoder, Smaragdis & Venkataramani 2017; --hidden-sizes "
        "for the multilayer one) (default: %(default)s)",
    )
    parser.add_argument(
        "--n-fft", type=_positive_int, default=1024, metavar="N",
        help="FFT size of the mixture's STFT (default: %(default)s)",
    )
    parser.add_argument(
        "--hop-length", type=_positive_int, default=None, metavar="N",
        help="STFT hop in samples (default: n_fft // 4)",
    )
    parser.add_argument(
        "--train-n-fft", type=_positive_int, default=None, metavar="N",
        help="FFT size of the training STFT (default: --n-fft); an implicit model "
        "trained at one size separates at another",
    )
    parser.add_argument(
        "--power", type=_positive_float, default=0.5, metavar="P",
        help="model |STFT| ** power (default: %(default)s, as the iN-NMF paper)",
    )
    parser.add_argument(
        "--n-components", type=_positive_int, default=20, metavar="K",
        help="components per source; blind separation: of the mixture's model "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--hidden-sizes", type=_positive_int, nargs="+", default=None, metavar="N",
        help="nae model: widths of the encoder's hidden layers, the decoder mirrors "
        "them (default: none, the shallow autoencoder)",
    )
    parser.add_argument(
        "--encoding-size", type=_positive_int, default=6, metavar="E",
        help="implicit model: Fourier-feature octaves of the templates (default: "
        "%(default)s; larger fits finer detail but transfers worse to another n_fft)",
    )
    parser.add_argument(
        "--max-iter", type=_positive_int, default=None, metavar="N",
        help="most training iterations per source, stopping early on convergence "
        "(default: 1000 for matrix, 3000 for implicit, 5000 for nae)",
    )
    parser.add_argument(
        "--sr", type=_positive_int, default=None, metavar="HZ",
        help="resample every file to this rate (default: all files must share one)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--threads", type=_positive_int, default=1, metavar="N",
        help="torch threads (default: %(default)s; a second thread saves little on "
        "problems this size, and on a busy machine can make them many times slower)",
    )
    parser.add_argument(
        "--chunk-frames", type=_positive_int, default=None, metavar="N",
        help="separate the mixture block by block, N frames at a time, in bounded "
        "memory (done by itself, 2048 frames, for mixtures longer than 5 minutes)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(func=run)
    parser.error = _one_line_error
    return parser


def main(argv=None):
    """Run ``separate`` as its own program (``python -m sklearn_innmf`` does the same).

    Parameters
    ----------
    argv : list of str, default=None
        The arguments, with or without a leading ``"separate"``; None reads
        ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 on bad files or arguments.
    """
    from .. import __version__

    parser = argparse.ArgumentParser(prog="python -m sklearn_innmf")
    parser.error = _one_line_error
    parser.add_argument("--version", action="version", version=f"sklearn-innmf {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers)
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] not in (["separate"], ["--version"]):
        argv = ["separate", *argv]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return args.func(args)


# ---------------------------------------------------------------------------


class _Progress:
    def __init__(self, quiet, n_stages):
        self.quiet = quiet
        self.n_stages = n_stages
        self.stage = 0
        self.start = time.perf_counter()

    def __call__(self, message):
        if self.quiet:
            return
        self.stage += 1
        elapsed = time.perf_counter() - self.start
        print(f"[{self.stage}/{self.n_stages} {elapsed:6.1f}s] {message}", file=sys.stderr,
              flush=True)


def _load(path, sr, role, notes):
    """One file as mono float64 at ``sr``; notes (e.g. a downmix) are appended."""
    from ..datasets.audio import load_audio

    if not os.path.isfile(path):
        what = "no such file" if not os.path.exists(path) else "not a file"
        raise UsageError(f"{role} {path}: {what}")
    try:
        y, file_sr = load_audio(path, sr=sr, mono=False)
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(f"{role} {path}: cannot read it as audio ({exc})") from exc
    if y.shape[-1] == 0:
        raise UsageError(f"{role} {path} is empty (0 samples)")
    if not np.all(np.isfinite(y)):
        raise UsageError(f"{role} {path} has NaN or infinite samples")
    if y.shape[0] > 1:
        notes.append(f"note: {role} {path} has {y.shape[0]} channels; mixed down to "
                     "mono (their mean)")
    y = y.mean(axis=0)
    if not np.any(y != 0):
        raise UsageError(f"{role} {path} is silent (all samples are 0)")
    return y.astype(np.float64), file_sr


def _refuse_duplicates(files):
    """The same file under two roles (or twice in one) is refused."""
    seen = []
    for path, role in files:
        for other, other_role in seen:
            try:
                same = os.path.samefile(path, other)
            except OSError:
                same = os.path.abspath(path) == os.path.abspath(other)
            if same:
                where = f"as {other_role} and as {role}"
                if other_role == role:
                    where = f"twice as {role}"
                raise UsageError(
                    f"{path} is given {where}; give each file once (a training "
                    "recording, the mixture and a reference must be different files)"
                )
        seen.append((path, role))


def _check_bss_backend():
    import importlib

    for name in ("fast_bss_eval", "mir_eval"):
        try:
            importlib.import_module(name)
            return
        except ImportError:
            pass
    raise UsageError(
        "--reference needs the optional package fast_bss_eval (or mir_eval) for "
        "SDR/SIR/SAR: pip install fast_bss_eval"
    )


def _read_inputs(args):
    """All audio, at one sampling rate."""
    source_groups = args.source or []
    files = [(p, f"--source {i + 1} file") for i, group in enumerate(source_groups) for p in group]
    files.append((args.mixture, "--mixture"))
    files += [(p, "--reference file") for p in args.reference or []]
    notes = []
    audio = {}
    for path, role in files:
        audio[path] = _load(path, args.sr, role, notes)
    _refuse_duplicates(files)
    rates = {path: sr for path, (_, sr) in audio.items()}
    mix_sr = rates[args.mixture]
    for path, sr in rates.items():
        if sr != mix_sr:
            raise UsageError(
                f"sample rates differ: {path} is {sr} Hz but the mixture "
                f"{args.mixture} is {mix_sr} Hz; resample or pass --sr {mix_sr}"
            )
    sources = [[audio[p][0] for p in group] for group in source_groups]
    mixture = audio[args.mixture][0]
    references = [audio[p][0] for p in args.reference or []]
    for path, ref in zip(args.reference or [], references):
        if ref.size != mixture.size:
            raise UsageError(
                f"--reference file {path} has {ref.size} samples but the mixture "
                f"has {mixture.size}; references must be the mixture's sources"
            )
    return sources, mixture, references, mix_sr, notes


_MAX_ITER = {"matrix": 1000, "implicit": 3000, "nae": 5000}


def _estimator(args):
    from ..models.implicit import ImplicitNMF
    from ..models.matrix import MatrixNMF

    params = dict(n_components=args.n_components, random_state=args.seed,
                  verbose=0 if args.quiet else 1)
    # Enough for the fits to stop on tol: on the shared speech (4 sentences,
    # ~10 s per speaker) matrix stops within 1000, implicit within 3000, nae
    # after 2280; the estimators' own defaults (200, 1000, 500) stopped short.
    params["max_iter"] = args.max_iter or _MAX_ITER[args.model]
    if args.model == "matrix":
        return MatrixNMF(**params)
    if args.model == "nae":
        from ..models.autoencoder.estimator import NonNegativeAutoencoder

        return NonNegativeAutoencoder(hidden_layer_sizes=tuple(args.hidden_sizes or ()), **params)
    return ImplicitNMF(time_factor="table", encoding_size=args.encoding_size, **params)


def _check_lengths(args, sources, mixture, sr):
    n_fft = args.train_n_fft or args.n_fft
    for i, (group, paths) in enumerate(zip(sources, args.source or [])):
        for y, path in zip(group, paths):
            if y.size < n_fft:
                raise UsageError(
                    f"--source {i + 1} file {path} has {y.size} samples, fewer than the "
                    f"FFT size {n_fft}; use a smaller --n-fft/--train-n-fft"
                )
    if mixture.size < args.n_fft:
        raise UsageError(
            f"--mixture {args.mixture} has {mixture.size} samples, fewer than "
            f"--n-fft {args.n_fft}"
        )


def run(args):
    """Carry out ``separate`` for parsed arguments.

    Parameters
    ----------
    args : argparse.Namespace
        From the parser of :func:`add_parser`.

    Returns
    -------
    status : int
        0 on success, 2 on bad files or arguments (one line on stderr).
    """
    try:
        return _run(args)
    except UsageError as exc:
        print(f"{_PROG}: error: {exc}", file=sys.stderr)
        return 2


def _check_arguments(args):
    """Argument checks that need no file; returns the number of sources."""
    if args.hidden_sizes is not None and args.model != "nae":
        raise UsageError("--hidden-sizes is for --model nae")
    if args.source is None:
        if args.train_n_fft is not None:
            raise UsageError("--train-n-fft needs --source (training recordings); blind "
                             "separation fits the mixture at --n-fft")
        if args.model == "nae":
            raise UsageError("--model nae needs --source (training recordings): blind "
                             "separation groups templates, which an autoencoder has not; "
                             "use --model matrix or implicit")
        n_sources = args.n_sources
        if args.groups is not None:
            if n_sources is not None and n_sources != len(args.groups):
                raise UsageError(
                    f"--n-sources {n_sources} but --groups has {len(args.groups)} groups"
                )
            n_sources = len(args.groups)
            _check_groups(args)
        n_sources = 2 if n_sources is None else n_sources
        if n_sources > args.n_components:
            raise UsageError(
                f"--n-sources {n_sources} is more than --n-components {args.n_components}: "
                "every source needs a component"
            )
    else:
        for option in ("n_sources", "groups"):
            if getattr(args, option) is not None:
                raise UsageError(
                    f"--{option.replace('_', '-')} is for blind separation (no --source); "
                    "with --source each --source is one source"
                )
        n_sources = len(args.source)
    if args.reference is not None:
        if len(args.reference) != n_sources:
            what = "--source groups" if args.source else "sources"
            raise UsageError(
                f"--reference got {len(args.reference)} file(s) but there are "
                f"{n_sources} {what}; give one reference per source, in order"
            )
        _check_bss_backend()
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out} exists and is not a directory")
    return n_sources


def _check_groups(args):
    from ..separation.grouping import ComponentGroupSeparator

    spec = ":".join(",".join(map(str, g)) for g in args.groups)
    checker = ComponentGroupSeparator(groups=args.groups, n_sources=len(args.groups))
    try:
        groups = checker._check_groups_structure()
        checker._check_groups_cover(groups, args.n_components)
    except ValueError as exc:
        raise UsageError(
            f"--groups {spec} with --n-components {args.n_components}: {exc}"
        ) from exc


def _make_out(path):
    """Create the output directory (before any training), or fail in one line."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot create the directory ({exc.strerror or exc})")
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"--out {path}: the directory is not writable")


def _run(args):
    import torch

    torch.set_num_threads(args.threads)
    n_sources = _check_arguments(args)
    blind = args.source is None
    from .separate_long import LONG_SECONDS, mixture_seconds, run_long

    seconds = mixture_seconds(args.mixture)
    if args.chunk_frames is not None or (seconds is not None and seconds > LONG_SECONDS):
        return run_long(args, n_sources, blind)
    n_stages = (3 if blind else 4) + (args.reference is not None)
    progress = _Progress(args.quiet, n_stages)
    # every file is checked before the first progress line, so that a bad
    # file gives exactly one line on stderr
    sources, mixture, references, sr, notes = _read_inputs(args)
    _check_lengths(args, sources, mixture, sr)
    _make_out(args.out)
    if not args.quiet:
        for note in notes:
            print(note, file=sys.stderr)
    n_files = sum(len(g) for g in args.source or []) + 1 + len(references)
    progress(f"read {n_files} audio file(s) at {sr} Hz")
    if blind:
        estimates, labels = _separate_blind(args, mixture, sr, n_sources, progress)
    else:
        estimates, labels = _separate_supervised(args, sources, mixture, sr, progress)

    paths = [os.path.join(args.out, f"source_{i + 1}.wav") for i in range(n_sources)]
    progress(f"writing {n_sources} file(s) to {args.out}")
    from ..datasets.audio import save_audio

    for path, y in zip(paths, estimates):
        save_audio(path, y, sr)
    for path, label in zip(paths, labels):
        print(f"{path}\t({label})")

    if references:
        from ..metrics import bss_eval

        progress("computing SDR/SIR/SAR")
        # automatic groups come in no particular order: match them to the references
        permute = blind and args.groups is None
        result = bss_eval(np.stack(references), estimates, compute_permutation=permute)
        print(f"{'source':<12}{'SDR':>8}{'SIR':>8}{'SAR':>8}   reference")
        for j, ref in enumerate(args.reference):
            k = int(result.permutation[j]) if permute else j
            print(
                f"{os.path.basename(paths[k]):<12}{result.sdr[j]:8.2f}{result.sir[j]:8.2f}"
                f"{result.sar[j]:8.2f}   {ref}"
            )
        print(
            f"{'mean':<12}{np.mean(result.sdr):8.2f}{np.mean(result.sir):8.2f}"
            f"{np.mean(result.sar):8.2f}"
        )
    return 0


def _report_unconverged(caught, n_models, quiet):
    n_unconverged = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    if n_unconverged and not quiet:
        print(
            f"note: {n_unconverged} of {n_models} model(s) stopped at the iteration limit "
            "before converging; a larger --max-iter may separate better",
            file=sys.stderr,
        )
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _separate_supervised(args, sources, mixture, sr, progress):
    from ..separation.waveforms import fit_separator, separate_mixture

    n_sources = len(sources)
    train_n_fft = args.train_n_fft or args.n_fft
    train_hop = args.hop_length if args.train_n_fft is None else None
    estimator = _estimator(args)
    seconds = [sum(y.size for y in g) / sr for g in sources]
    progress(
        f"training {n_sources} {type(estimator).__name__} model(s), K={args.n_components} "
        f"each, n_fft={train_n_fft}, on "
        + ", ".join(f"{s:.1f} s" for s in seconds)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        separator = fit_separator(
            sources, sr, estimator=estimator, n_fft=train_n_fft, hop_length=train_hop,
            power=args.power, random_state=args.seed, verbose=0 if args.quiet else 1,
        )
    _report_unconverged(caught, n_sources, args.quiet)
    progress(f"separating {args.mixture} ({mixture.size / sr:.1f} s, n_fft={args.n_fft})")
    estimates = separate_mixture(
        separator, mixture, sr, n_fft=args.n_fft, hop_length=args.hop_length,
        power=args.power,
    )
    labels = [f"trained on {', '.join(group)}" for group in args.source]
    return estimates, labels


def _separate_blind(args, mixture, sr, n_sources, progress):
    from ..separation.grouping import separate_by_grouping

    estimator = _estimator(args)
    how = "as --groups says" if args.groups is not None else "automatically"
    progress(
        f"fitting {type(estimator).__name__} (K={args.n_components}, n_fft={args.n_fft}) "
        f"to {args.mixture} ({mixture.size / sr:.1f} s) and grouping its components "
        f"into {n_sources} sources {how}"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        estimates, separator = separate_by_grouping(
            mixture, sr, estimator=estimator, n_sources=n_sources, groups=args.groups,
            n_fft=args.n_fft, hop_length=args.hop_length, power=args.power,
            random_state=args.seed,
        )
    _report_unconverged(caught, 1, args.quiet)
    labels = [f"components {','.join(map(str, g))}" for g in separator.groups_]
    return estimates, labels
