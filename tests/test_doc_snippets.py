"""Every Python code block of the documentation runs as written.

The ``.. code-block:: python`` blocks of ``doc/index.rst`` and
``doc/user_guide/*.rst`` are run in order, the blocks of one file in one
namespace (a later block may use what an earlier one defined, as a reader
would), on the package's synthesised data. A failing block is reported with
its file and line; a fit that stops at ``max_iter`` (ConvergenceWarning) is a
failure too: a snippet cut short on purpose says so with ``tol=0``.
"""

import pathlib
import re
import textwrap
import traceback
import warnings
from dataclasses import dataclass

import pytest
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning

DOC = pathlib.Path(__file__).resolve().parents[1] / "doc"
RST_FILES = [DOC / "index.rst", *sorted((DOC / "user_guide").glob("*.rst"))]

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)\.\. code-block::[ \t]*python3?[ \t]*$")


@dataclass
class CodeBlock:
    path: pathlib.Path
    line: int  # 1-based line of the ``.. code-block::`` directive
    first_line: int  # 1-based line of the first line of code
    code: str

    @property
    def where(self):
        return f"{self.path.relative_to(DOC.parent)}:{self.line}"


def _indent(line):
    return len(line) - len(line.lstrip())


def python_blocks(path):
    """The ``.. code-block:: python`` blocks of an rst file, in order.

    A directive may be followed by option lines (``:caption: ...``), then a
    blank line and the body: every following line that is blank or indented
    deeper than the directive.
    """
    lines = pathlib.Path(path).read_text(encoding="utf-8").splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        i += 1
        if match is None:
            continue
        directive_line, indent = i, len(match["indent"].expandtabs())
        while i < len(lines) and lines[i].strip().startswith(":") and _indent(lines[i]) > indent:
            i += 1  # options
        start = i
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
            i += 1
        body = lines[start:i]
        while body and not body[0].strip():
            body.pop(0)
            start += 1
        while body and not body[-1].strip():
            body.pop()
        blocks.append(
            CodeBlock(path, directive_line, start + 1, textwrap.dedent("\n".join(body)))
        )
    return blocks


FILES_WITH_BLOCKS = [p for p in RST_FILES if python_blocks(p)]


def test_collects_the_code_blocks():
    blocks = [b for p in RST_FILES for b in python_blocks(p)]
    # an empty collection would let every parametrised test pass unseen
    assert len(blocks) >= 10, [b.where for b in blocks]
    assert all(b.code.strip() for b in blocks), [b.where for b in blocks if not b.code.strip()]


def test_python_blocks_parser(tmp_path):
    rst = tmp_path / "page.rst"
    rst.write_text(
        "Title\n=====\n\n"
        ".. code-block:: python\n"
        "   :caption: a caption\n"
        "   :linenos:\n\n"
        "   x = 1\n\n"
        "   if x:\n"
        "       y = 2\n\n"
        "Prose.\n\n"
        "* a list item:\n\n"
        "  .. code-block:: python\n\n"
        "      z = 3\n\n"
        ".. code-block:: bash\n\n"
        "   echo not python\n"
    )
    blocks = python_blocks(rst)
    assert [(b.line, b.first_line, b.code) for b in blocks] == [
        (4, 8, "x = 1\n\nif x:\n    y = 2"),
        (17, 19, "z = 3"),
    ]


@pytest.mark.parametrize("path", FILES_WITH_BLOCKS, ids=lambda p: p.name)
def test_doc_code_blocks_run(path, script_run):
    namespace = {"__name__": "__main__"}
    for block in python_blocks(path):
        # padded so that a traceback's line numbers are the rst file's
        source = "\n" * (block.first_line - 1) + block.code
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            # inside GridSearchCV a raised ConvergenceWarning becomes a failed fit
            warnings.simplefilter("error", FitFailedWarning)
            try:
                exec(compile(source, str(path), "exec"), namespace)
                failure = None
            except Exception:
                failure = (
                    f"{block.where}: this code block failed\n\n"
                    f"{textwrap.indent(block.code, '    ')}\n\n{traceback.format_exc()}"
                )
        if failure is not None:  # outside the except: no chained traceback
            pytest.fail(failure, pytrace=False)
