"""The order of the examples in the gallery: a tour first, tools last."""

import os

from sphinx_gallery.sorting import FileNameSortKey

ORDER = [
    "plot_compare_nmf.py",
    "plot_hybrid_representation.py",
    "plot_cross_resolution.py",
    "plot_separation.py",
    "plot_grid_search.py",
]


class ExampleOrder(FileNameSortKey):
    """Examples named in ``ORDER`` in that order, any others after them by name."""

    def __call__(self, filename):
        name = os.path.basename(str(filename))
        rank = ORDER.index(name) if name in ORDER else len(ORDER)
        return f"{rank:03d}-{name}"
