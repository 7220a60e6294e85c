"""``python -m sklearn_innmf``: the command line (:mod:`sklearn_innmf.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
