"""Checks of :class:`~sklearn_innmf.separation.ComponentGroupSeparator`'s ``features``
and ``groups``: the parameters' meaning together and against the data, with
messages that name the parameter and the fix.
"""

from numbers import Integral

import numpy as np

from ..models.base import PointTransformer
from .features import (
    _TEMPLATE_FEATURES,
    FEATURES,
)


class GroupingChecks(PointTransformer):
    """Base of :class:`~sklearn_innmf.separation.ComponentGroupSeparator`: checks of
    ``features`` and ``groups`` against the data (not for direct use)."""

    # -- checks ------------------------------------------------------------

    def _check_features(self, d):
        names = list(self.features)
        unknown = [n for n in names if n not in FEATURES]
        if not names or unknown:
            raise ValueError(
                f"features={self.features!r} must be a non-empty list of names from "
                f"{list(FEATURES)}" + (f"; unknown: {unknown}." if unknown else ".")
            )
        if len(set(names)) != len(names):
            raise ValueError(f"features={self.features!r} names a feature twice.")
        if d < 2:
            names = [n for n in names if n not in _TEMPLATE_FEATURES]
            if not names:
                raise ValueError(
                    f"features={self.features!r} are all template features, but X has "
                    "one coordinate column (d=1), so the model has no templates; add "
                    "'sparsity' or 'onset'."
                )
        return names

    def _check_groups_structure(self):
        """The groups as lists of ints, before the number of components is known."""
        groups = self.groups
        if len(groups) != self.n_sources:
            raise ValueError(
                f"groups has {len(groups)} group(s) but n_sources={self.n_sources}; "
                f"set n_sources={len(groups)} or give one group per source."
            )
        out = []
        for s, group in enumerate(groups):
            if isinstance(group, (str, bytes)) or not hasattr(group, "__iter__"):
                raise ValueError(
                    f"groups[{s}]={group!r} is not a list of component indices; "
                    "give e.g. groups=[[0, 1, 2], [3, 4]]."
                )
            group = list(group)
            if not group:
                raise ValueError(
                    f"groups[{s}] is empty: every source needs at least one component."
                )
            for k in group:
                if isinstance(k, (bool, np.bool_)) or not isinstance(k, Integral) or k < 0:
                    raise ValueError(
                        f"groups[{s}] holds {k!r}, which is not a component index "
                        "(an integer >= 0)."
                    )
            out.append([int(k) for k in group])
        seen = {}
        for s, group in enumerate(out):
            for k in group:
                if k in seen:
                    where = (
                        f"twice in groups[{s}]" if seen[k] == s
                        else f"in groups[{seen[k]}] and groups[{s}]"
                    )
                    raise ValueError(
                        f"groups puts component {k} {where}; each component belongs "
                        "to exactly one source."
                    )
                seen[k] = s
        return out

    @staticmethod
    def _check_groups_cover(groups, n_components):
        flat = sorted(k for g in groups for k in g)
        too_big = [k for k in flat if k >= n_components]
        if too_big:
            raise ValueError(
                f"groups names component(s) {too_big}, but the estimator has "
                f"n_components={n_components} (indices 0..{n_components - 1})."
            )
        missing = sorted(set(range(n_components)) - set(flat))
        if missing:
            raise ValueError(
                f"groups leaves component(s) {missing} out; every component "
                f"0..{n_components - 1} must be in exactly one group."
            )
