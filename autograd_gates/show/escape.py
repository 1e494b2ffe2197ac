"""Labels are user text: each output format gets them escaped, so they show as typed and do nothing.

A label may hold markup (``<img onerror=...>``), Markdown (backticks, pipes), LaTeX
(``\\immediate\\write18``), DOT record syntax, or control characters that rewrite a terminal
(``\\x1b[2J``). ``printable`` is the common first step: control characters, bidirectional
overrides and lone surrogates (which cannot even be written as UTF-8) become visible
escapes such as ``\\x1b``; every other character, any script or emoji, is kept. The other
functions wrap one piece of text for one format. (``printable`` and ``latex_text`` live with the
formula printer in ``engine/formula.py``, which needs them for names in LaTeX.)
"""

from __future__ import annotations

import json
import re

from ..engine.formula import latex_text, printable

__all__ = ["printable", "markdown_code", "latex_text", "script_json"]

def markdown_code(text: str) -> str:
    """``text`` as one Markdown code span, safe inside a table cell.

    A code span shows its content literally (no HTML, no emphasis); the fence is one
    backtick longer than any run of backticks inside, with spaces where the content
    starts or ends with one (CommonMark strips exactly one). A ``|`` is written ``\\|``,
    which GitHub-flavoured tables (GitHub, Jupyter) show as ``|``; Python-Markdown shows
    the backslash too.
    """
    text = printable(text).replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def script_json(data: object) -> str:
    """``data`` as JSON that can sit inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes (the same string to JavaScript),
    so no label can close the element (``</script>``) or open an HTML comment (``<!--``)
    that hides the rest of the page's script.
    """
    text = json.dumps(data, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
