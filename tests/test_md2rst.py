"""The Markdown-to-reST converter the documentation build uses for
CHANGELOG.md and benchmarks/*.md (doc/sphinxext/md2rst.py)."""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "doc" / "sphinxext"))
from md2rst import markdown_to_rst  # noqa: E402


def test_headings_tables_and_inline_markup():
    rst = markdown_to_rst(
        "# Title\n\nSome `code`, **bold**, *emphasis*, 2 * 3 * 4 and a_b.\n\n"
        "| a | b |\n|---|---:|\n| 1 | 2 |\n"
    )
    assert "Title\n=====" in rst
    assert ":literal:`code`" in rst and "**bold**" in rst and "*emphasis*" in rst
    # a lone asterisk or underscore is text, not markup
    assert "2 \\* 3 \\* 4" in rst and "a\\_b" in rst
    assert ".. list-table::\n   :header-rows: 1" in rst
    assert "   * - 1\n     - 2" in rst


def test_image_on_its_own_line_becomes_a_directive():
    seen = []

    def to_doc(path):
        seen.append(path)
        return "/_static/" + path.rsplit("/", 1)[-1]

    rst = markdown_to_rst(
        "Text.\n\n![A *figure*](../doc/_static/my%20plot.png)\n\n"
        "![remote](https://example.org/a.png)\n",
        image_path=to_doc,
    )
    assert ".. image:: /_static/my plot.png\n   :alt: A *figure*" in rst
    # URLs are left alone (and not percent-decoded)
    assert ".. image:: https://example.org/a.png\n   :alt: remote" in rst
    assert seen == ["../doc/_static/my plot.png"]


@pytest.mark.parametrize("line", [
    "See ![this](a.png) here.",
    "- ![in a list](a.png)",
    "| ![in a table](a.png) | x |",
])
def test_image_elsewhere_is_refused(line):
    with pytest.raises(ValueError, match="an image must stand on a line of its own"):
        markdown_to_rst(f"# T\n\n{line}\n")


def test_image_syntax_in_code_is_code():
    rst = markdown_to_rst("```markdown\nSee ![this](a.png) here.\n```\n")
    assert ".. code-block:: markdown" in rst and "   See ![this](a.png) here." in rst
    rst = markdown_to_rst("Write `![alt](path)` on a line of its own.\n")
    assert rst == "Write :literal:`![alt](path)` on a line of its own.\n"
