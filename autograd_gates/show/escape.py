"""Labels are user text: each output format gets them escaped, so they show as typed and do nothing.

A label may hold markup (``<img onerror=...>``), Markdown (backticks, pipes), LaTeX
(``\\immediate\\write18``), DOT record syntax, or control characters that rewrite a terminal
(``\\x1b[2J``). ``printable`` is the common first step: control characters, bidirectional
overrides and lone surrogates (which cannot even be written as UTF-8) become visible
escapes such as ``\\x1b``; every other character, any script or emoji, is kept. The other
functions wrap one piece of text for one format.
"""

from __future__ import annotations

import json
import re
import unicodedata

__all__ = ["printable", "markdown_code", "latex_text", "script_json"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Format characters that reorder or hide text (the "Trojan Source" set), plus line separators.
_INVISIBLE = set("\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _hidden(ch: str) -> bool:
    return ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs")


def printable(text: str) -> str:
    """``text`` with control, bidi-override and surrogate characters written as ``\\x1b``-style escapes."""
    if text.isprintable():  # the common case, and fast
        return text
    return "".join(_escape(ch) if _hidden(ch) else ch for ch in text)


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


_LATEX = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def latex_text(text: str) -> str:
    """``text`` as ``\\text{...}`` (amsmath), every LaTeX special character escaped."""
    return r"\text{" + "".join(_LATEX.get(ch, ch) for ch in printable(text)) + "}"


def script_json(data: object) -> str:
    """``data`` as JSON that can sit inside an HTML ``<script>`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c``-style escapes (the same string to JavaScript),
    so no label can close the element (``</script>``) or open an HTML comment (``<!--``)
    that hides the rest of the page's script.
    """
    text = json.dumps(data, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
