"""Command line: ``python -m sklearn_innmf demo`` and ``... separate`` (``--version``).

:mod:`~sklearn_innmf.cli.demo` is the tour on synthesised signals,
:mod:`~sklearn_innmf.cli.separate` separates audio files (supervised or blind).
Both are thin over the rest of the package: they parse arguments, load and
write files, and print.
"""

import argparse

from .demo import add_parser as _add_demo
from .separate import add_parser as _add_separate

__all__ = ["main"]


def main(argv=None):
    """Entry point of ``python -m sklearn_innmf`` and ``sklearn-innmf``."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="python -m sklearn_innmf",
        description="Implicit-neural and classic NMF of time-frequency points.",
    )
    parser.add_argument("--version", action="version", version=f"sklearn-innmf {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_demo(subparsers)
    _add_separate(subparsers)
    args = parser.parse_args(argv)
    return args.func(args)
