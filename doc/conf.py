"""Sphinx configuration of the sklearn-innmf documentation.

Build (from the repository root)::

    sphinx-build -W -b html doc doc/_build/html

Every gallery example (``examples/plot_*.py``) is executed in its full
setting; the test suite runs the same scripts in a reduced one.
"""

import os
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "sphinxext"))

import sklearn_innmf  # noqa: E402
from md2rst import markdown_to_rst  # noqa: E402

# Figures render off-screen, and the examples' plt.show() is a no-op.
os.environ.setdefault("MPLBACKEND", "Agg")

# The gallery's problems are small (a few hundred unique coordinates): a
# second torch thread saves little, and on a busy machine threads
# oversubscribe the cores and slow the examples down many times over (the
# grid search took 36 s with one thread, 15 min with two next to other jobs).
# Set OMP_NUM_THREADS to choose otherwise.
if "OMP_NUM_THREADS" not in os.environ:
    import torch

    torch.set_num_threads(1)

# -- Project -------------------------------------------------------------------

project = "sklearn-innmf"
author = "sklearn-innmf developers"
copyright = "sklearn-innmf developers"
release = sklearn_innmf.__version__
version = re.sub(r"(\d+\.\d+).*", r"\1", release)

# -- General -------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"
default_role = "literal"  # `x` in the guide is code, as in Markdown
pygments_style = "sphinx"

# the :doi: role of the docstrings (scikit-learn's convention)
extlinks = {"doi": ("https://doi.org/%s", "doi:%s")}

# -- autodoc, autosummary, numpydoc --------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True}
autodoc_typehints = "none"
autoclass_content = "class"
# numpydoc renders Parameters/Attributes; the autosummary class template lists
# the methods, so numpydoc must not add a second table of them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def _skip_member(app, what, name, obj, skip, options):
    """Document the members this package defines, not those it inherits from
    scikit-learn (get_params, set_output, the metadata-routing setters...) or
    torch (nn.Module's): their docstrings point into those projects' docs."""
    module = getattr(obj, "__module__", None)
    if what == "class" and isinstance(module, str) and module.split(".")[0] != "sklearn_innmf":
        return True
    return skip


# -- sphinx-gallery ------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # execute every plot_*.py
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "doc_module": ("sklearn_innmf",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"sklearn_innmf": None},
    "remove_config_comments": True,
    "capture_repr": (),  # show what examples print, not the repr of a cell's last call
    "download_all_examples": False,
    "show_memory": False,
    "matplotlib_animations": False,
}

# -- HTML ----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sklearn-innmf {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_sidebars = {"install": [], "benchmarks": [], "changelog": []}
html_context = {"default_mode": "light"}

# -- Markdown files included in the docs ----------------------------------------

GENERATED = HERE / "gen_modules"


def _write_if_changed(path, text):
    """Write only on change, so that Sphinx does not rebuild pages needlessly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _doc_path(path):
    """A file under doc/ as Sphinx's source-absolute path (``/_static/x.png``)."""
    path = pathlib.Path(os.path.normpath(path))
    try:
        return "/" + path.relative_to(HERE).as_posix()
    except ValueError:
        raise ValueError(f"{path}: an image the docs show must live under {HERE}") from None


def _convert_markdown(app):
    """CHANGELOG.md and benchmarks/*.md as reST include files (``.inc``: not
    documents of their own)."""
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    _write_if_changed(
        GENERATED / "changelog.inc",
        markdown_to_rst(changelog, image_path=lambda path: _doc_path(ROOT / path)),
    )
    tables = sorted((ROOT / "benchmarks").glob("*.md"))
    if tables:
        parts = [
            ".. This file is generated by doc/conf.py from benchmarks/*.md.\n",
            *(
                markdown_to_rst(
                    p.read_text(encoding="utf-8"),
                    first_level=2,
                    image_path=lambda path, p=p: _doc_path(p.parent / path),
                )
                for p in tables
            ),
        ]
        sources = ", ".join(f":file:`benchmarks/{p.name}`" for p in tables)
        parts.insert(1, f"The tables below are read from {sources} at build time.\n")
    else:
        parts = [
            "No benchmark results are stored yet: save the Markdown the scripts "
            "above print as :file:`benchmarks/NAME.md` and rebuild the "
            "documentation; every such file is shown here.\n"
        ]
    _write_if_changed(GENERATED / "benchmark_results.inc", "\n".join(parts))


def setup(app):
    app.connect("builder-inited", _convert_markdown)
    app.connect("autodoc-skip-member", _skip_member)
