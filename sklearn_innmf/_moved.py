"""Old module paths of the 0.1 layout, kept for one release with a DeprecationWarning.

The flat modules became subpackages (see the architecture page of the user
guide); ``import sklearn_innmf.matrix`` and ``from sklearn_innmf.grouping
import ...`` still work, warn, and give the new module. One import hook does it
for every moved path, so no stub module repeats another.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

#: old module path -> new module path
MOVED = {
    "sklearn_innmf._points": "sklearn_innmf.points",
    "sklearn_innmf.model": "sklearn_innmf.problem",
    "sklearn_innmf._base": "sklearn_innmf.models",
    "sklearn_innmf.matrix": "sklearn_innmf.models.matrix",
    "sklearn_innmf.implicit": "sklearn_innmf.models.implicit",
    "sklearn_innmf.autoencoder": "sklearn_innmf.models.autoencoder",
    "sklearn_innmf.grouping": "sklearn_innmf.separation",
    "sklearn_innmf.cli_separate": "sklearn_innmf.cli.separate",
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path, warns, and hands out the module at its new path."""

    def find_spec(self, name, path=None, target=None):
        if name not in MOVED:
            return None
        return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        warnings.warn(
            f"{spec.name} is deprecated and will be removed in 0.3: import from "
            f"{MOVED[spec.name]} instead (or from sklearn_innmf).",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module):
        """The new module is already executed."""


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())
