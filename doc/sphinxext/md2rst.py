"""A small Markdown-to-reStructuredText converter for the files the docs include.

``CHANGELOG.md`` and the tables the benchmark scripts write (``benchmarks/*.md``)
are Markdown; Sphinx reads reStructuredText. This handles what those files use:
ATX headings, pipe tables, bullet and numbered lists, fenced code, paragraphs,
images on a line of their own (``![alt](path)``), and inline ``code``,
**bold**, *emphasis* and [links](url). Everything else is escaped, so
that a stray ``*`` or ``_`` cannot become a broken reST construct (which
``sphinx-build -W`` would turn into an error).
"""

import re
import urllib.parse

__all__ = ["markdown_to_rst"]

_UNDERLINES = "=-~^\"'"
_INLINE = re.compile(
    r"(?P<code>`+)(?P<code_text>.+?)(?P=code)"
    r"|\*\*(?P<bold>[^*]+?)\*\*"
    r"|(?<![*\w])\*(?P<em>[^*\s](?:[^*]*[^*\s])?)\*(?![*\w])"
    r"|!\[[^\]]*\]\((?P<image>[^)\s]+)\)"
    r"|\[(?P<link_text>[^\]]+)\]\((?P<url>[^)\s]+)\)"
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)\d+[.)]\s+(.*)$")
_LINK_DEFINITION = re.compile(r"^\s*\[[^\]]+\]:\s*\S+")
# docutils' rules for the characters around inline markup
_MAY_PRECEDE = "-:/'\"<([{"
_MAY_FOLLOW = "-.,:;!?/'\")]}>"
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_IMAGE = re.compile(r"^\s*!\[(?P<alt>[^\]]*)\]\((?P<path>[^)\s]+)\)\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def _escape(text):
    return re.sub(r"([\\*_`|<>\[\]])", r"\\\1", text)


def _inline(text):
    """Markdown inline markup of one line or cell, as reST."""
    out, pos = [], 0
    for match in _INLINE.finditer(text):
        before, after = text[pos : match.start()], text[match.end() :]
        out.append(_escape(before))
        if match.group("code"):
            code = match.group("code_text").strip()
            markup = f":literal:`{_escape_role(code)}`" if code else _escape(match.group(0))
        elif match.group("bold"):
            markup = f"**{_escape(match.group('bold'))}**"
        elif match.group("em"):
            markup = f"*{_escape(match.group('em'))}*"
        elif match.group("image"):
            # only a line of its own becomes an image directive (see
            # markdown_to_rst); inline it would be a broken link
            raise ValueError(f"an image must stand on a line of its own: {text.strip()!r}")
        else:
            label = re.sub(r"[`<>]", "", match.group("link_text")).strip()
            markup = f"`{label} <{match.group('url')}>`__"
        # reST markup must be set off by spaces or some punctuation; "\ " is an
        # empty separator where the Markdown had none
        previous = "".join(out)[-1:]
        if previous and not (previous.isspace() or previous in _MAY_PRECEDE):
            markup = "\\ " + markup
        if after and not (after[0].isspace() or after[0] in _MAY_FOLLOW):
            markup += "\\ "
        out.append(markup)
        pos = match.end()
    out.append(_escape(text[pos:]))
    return "".join(out)


def _escape_role(text):
    return text.replace("\\", "\\\\").replace("`", "\\`")


def _split_row(line):
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = re.split(r"(?<!\\)\|", line)
    return [c.strip().replace("\\|", "|") for c in cells]


def _table(lines):
    rows = [_split_row(line) for line in lines if not _TABLE_SEPARATOR.match(line)]
    has_header = len(lines) > 1 and _TABLE_SEPARATOR.match(lines[1]) is not None
    width = len(rows[0])
    out = [".. list-table::"]
    if has_header:
        out.append("   :header-rows: 1")
    out.append("")
    for row in rows:
        row = (row + [""] * width)[:width]
        for j, cell in enumerate(row):
            text = _inline(cell)
            out.append(f"   {'*' if j == 0 else ' '} - {text}".rstrip())
    return out + [""]


def markdown_to_rst(text, *, first_level=0, image_path=None):
    """Convert Markdown text to reStructuredText.

    Parameters
    ----------
    text : str
        The Markdown.
    first_level : int, default=0
        Section level of the file's highest heading: 0 is ``=`` (a page
        title), 1 is ``-``, and so on. Heading levels are renumbered
        consecutively, so a file may skip levels.
    image_path : callable, default=None
        Maps an image's Markdown path (relative to the Markdown file,
        percent-decoded) to the path the reST needs (for example
        ``/_static/name.png``, relative to the Sphinx source folder). Not
        applied to URLs. None keeps the path.

    Raises
    ------
    ValueError
        For an image that is not on a line of its own (inline, in a table
        or a list): it would become a broken link.

    Returns
    -------
    str
        reStructuredText.
    """
    lines = text.splitlines()
    levels = sorted({len(m.group(1)) for m in map(_HEADING.match, lines) if m})
    rank = {level: first_level + i for i, level in enumerate(levels)}
    out, paragraph, i = [], [], 0

    def flush():
        if paragraph:
            out.extend([_inline(" ".join(paragraph)), ""])
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush()
            language = stripped[3:].strip() or "text"
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            out.extend([f".. code-block:: {language}", ""])
            out.extend(f"   {b}" if b.strip() else "" for b in body)
            out.append("")
            i += 1
            continue
        heading = _HEADING.match(line)
        image = _IMAGE.match(line)
        if image:
            flush()
            path = image.group("path")
            if not _URL.match(path):
                path = urllib.parse.unquote(path)
                path = image_path(path) if image_path else path
            out.extend([f".. image:: {path}"])
            if image.group("alt"):
                out.append(f"   :alt: {image.group('alt')}")
            out.append("")
        elif heading:
            flush()
            title = _inline(heading.group(2))
            level = min(rank[len(heading.group(1))], len(_UNDERLINES) - 1)
            out.extend(["", title, _UNDERLINES[level] * max(len(title), 4), ""])
        elif stripped.startswith("|"):
            flush()
            block = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                block.append(lines[i])
                i += 1
            out.extend(["", *_table(block)])
            continue
        elif _BULLET.match(line) or _NUMBERED.match(line):
            flush()
            items = []
            while i < len(lines):
                item = _BULLET.match(lines[i]) or _NUMBERED.match(lines[i])
                if item:
                    items.append([item.group(2).strip()])
                elif lines[i].strip() and lines[i].startswith((" ", "\t")) and items:
                    items[-1].append(lines[i].strip())  # a continuation line
                else:
                    break
                i += 1
            numbered = _NUMBERED.match(line) is not None
            out.append("")
            for item in items:
                out.append(f"{'#.' if numbered else '-'} {_inline(' '.join(item))}")
            out.append("")
            continue
        elif not stripped or _LINK_DEFINITION.match(line):
            flush()
        else:
            paragraph.append(stripped)
        i += 1
    flush()
    return "\n".join(out).strip() + "\n"
