"""Hostile labels and huge fan-outs through every output format: nothing hangs, nothing is injected.

Each case (one circuit, one format) runs ``hostile_worker.py`` in a subprocess with a time and
memory budget (``BUDGET_*``), so a regression fails here instead of hanging CI. The test then
checks that every label shows as its text and nothing else:

* DOT: no label character outside its quoted string, each box record has its three fields;
* SVG: well-formed XML, no script or event attribute, each box's texts are the label, data, grad;
* PNG: a PNG;
* HTML: parsed with ``html.parser`` (always) and loaded in a headless browser (when one is found):
  one script, which runs, nothing injected, the table shows the labels;
* text: nothing a terminal would obey; Markdown: parsed with Python-Markdown, only table markup;
* LaTeX: each label's characters stay inside its ``\\text{...}`` (the rest of the block is the
  same as for harmless labels).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest

from autograd_gates import Value, explain
from autograd_gates.engine.value import topological_order
from autograd_gates.show.escape import printable
from autograd_gates.show.trace import node_names

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
from hostile_worker import build  # noqa: E402

BUDGET_SECONDS = 120  # wall clock per case: a hang is stopped here (speed is benchmarks/' business)
BUDGET_CPU_SECONDS = 90
BUDGET_MEMORY = 2 << 30  # address space per case, renderer included

HOSTILE = [
    "w` <img src=x onerror=alert(1)> `",
    "<img src=x onerror=\"document.body.dataset.pwned='img'\">",
    "<script>document.body.dataset.pwned='script'</script>",
    "</script><script>document.body.dataset.pwned='close'</script>",
    "<!--<script>",
    "]]><!-- -->&amp;&lt;b&gt;&#60;",
    "``` fenced ```",
    "| a | b |",
    "**bold** _em_ [link](javascript:alert(1)) # h",
    r"\immediate\write18{touch pwned}",
    r"} \input{/etc/passwd} {",
    "$x$ # % & ~ ^ _",
    'w{1}|"<in>"\\ end\\',
    r"\N \G \E \l \n",
    "\x1b[31mred\x1b[0m\x1b]0;title\x07",
    "a\nb\r\tc\x00\x7f\x85",
    "\u202eevil\u2066 \u2028",
    "\ud800 lone surrogate",
    "λ₁ → 🙂 名前 ﷽",
    "<long>" * 1000,
    "intermediate <b>&</b>",  # names the intermediate
    "<output onload=alert(1)>",  # names the output
]
# Harmless labels of the same kind (not identifiers, so LaTeX writes them as \text{} too).
HARMLESS = [f"n {i}" for i in range(len(HOSTILE))]

FAN_SIZES = (20, 100, 1000, 5000)
FORMATS = ("dot", "svg", "png", "html", "text", "markdown", "latex")



def _limit_resources() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (BUDGET_MEMORY, BUDGET_MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (BUDGET_CPU_SECONDS, BUDGET_CPU_SECONDS))


def run_case(circuit: dict, fmt: str) -> dict:
    """One output of one circuit, made by a budgeted subprocess."""
    env = dict(os.environ)
    env.pop("AUTOGRAD_GATES_DOT", None)
    done = subprocess.run(
        [sys.executable, str(TESTS / "hostile_worker.py")],
        input=json.dumps({"circuit": circuit, "format": fmt}),
        capture_output=True,
        text=True,
        timeout=BUDGET_SECONDS,
        env=env,
        preexec_fn=_limit_resources if os.name == "posix" else None,
    )
    assert done.returncode == 0, f"{fmt}: the worker failed (budget exceeded?): {done.stderr[-2000:]}"
    return json.loads(done.stdout)


def labels_circuit(labels: list[str]) -> dict:
    return {"kind": "labels", "labels": labels}


@pytest.fixture(scope="module")
def hostile() -> tuple[Value, dict[Value, str]]:
    root = build(labels_circuit(HOSTILE))
    return root, node_names(root)


def names_of(root: Value) -> list[str]:
    """The names the trace gives the labelled nodes, as they must be shown."""
    return [printable(n.label) for n in topological_order(root) if n.label]


# -- DOT and SVG ------------------------------------------------------------------------------

_DOT_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)


def dot_skeleton(source: str) -> str:
    return _DOT_STRING.sub('""', source)


def record_fields(label: str) -> list[str]:
    """A DOT record label ``{ a | b | c }`` split into its fields, escapes undone."""
    assert label.startswith("{ ") and label.endswith(" }"), label[:80]
    fields, field, chars = [], [], iter(label[2:-2])
    for ch in chars:
        if ch == "\\":
            field.append(next(chars))
        elif ch in "{}<>":
            raise AssertionError(f"unescaped record syntax {ch!r} in {label[:80]!r}")
        elif ch == "|":
            fields.append("".join(field))
            field = []
        else:
            field.append(ch)
    fields.append("".join(field))
    return [f.strip() for f in fields]


def test_dot_keeps_every_label_inside_its_quotes(hostile: tuple[Value, dict]) -> None:
    root, _ = hostile
    source = run_case(labels_circuit(HOSTILE), "dot")["output"]
    harmless = run_case(labels_circuit(HARMLESS), "dot")["output"]
    assert dot_skeleton(source) == dot_skeleton(harmless)
    assert source.isascii() or all(ch.isprintable() or ch in "\n" for ch in source)
    order = topological_order(root)
    for i, node in enumerate(order):
        if node.label:
            label = re.search(rf'\n  v{i} \[.*?label="((?:[^"\\]|\\.)*)"\];', source).group(1)
            fields = record_fields(label.replace('\\"', '"'))
            assert len(fields) == 3 and fields[0] == printable(node.label).replace("&", "&amp;").strip()


_SVG = "{http://www.w3.org/2000/svg}"
_SVG_TAGS = {"svg", "g", "title", "text", "path", "polygon", "polyline", "ellipse", "a"}


def test_svg_shows_every_label_as_text(hostile: tuple[Value, dict]) -> None:
    root, _ = hostile
    result = run_case(labels_circuit(HOSTILE), "svg")
    assert "error" not in result, result
    svg = ET.fromstring(base64.b64decode(result["base64"]))  # well-formed XML: no control characters
    for element in svg.iter():
        assert element.tag.removeprefix(_SVG) in _SVG_TAGS, element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on") and "javascript:" not in value.lower()
    groups = {g.get("id"): [t.text or "" for t in g.iter(f"{_SVG}text")] for g in svg.iter(f"{_SVG}g")}
    for i, node in enumerate(topological_order(root)):
        if node.label:
            assert groups[f"v{i}"][0].strip() == printable(node.label).strip(), node.label[:40]
            assert groups[f"v{i}"][1] == f"data {node.data:g}"


def test_png_renders() -> None:
    result = run_case(labels_circuit(HOSTILE), "png")
    assert "error" not in result, result
    assert base64.b64decode(result["base64"])[:8] == b"\x89PNG\r\n\x1a\n"


# -- HTML -----------------------------------------------------------------------------------------


class PageParser(HTMLParser):
    """The elements, event attributes, scripts and table cells of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str | None]] = []
        self.scripts: list[str] = []
        self.cells: list[list[str]] = []
        self.texts: dict[str, str] = {}
        self._stack: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value) for name, value in attrs]
        element_id = dict(attrs).get("id")
        if tag == "tr" and (element_id or "").startswith("row-"):
            self.cells.append([])
        if tag == "td" and self.cells and len(self._stack) and self._stack[-1][0] == "tr":
            self.cells[-1].append("")
        if tag not in ("meta", "br", "img", "input"):
            self._stack.append((tag, element_id))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self._stack:
            return
        tag, element_id = self._stack[-1]
        if tag == "script":
            self.scripts.append(data)
        if tag == "td" and self.cells and self.cells[-1]:
            self.cells[-1][-1] += data
        if element_id:
            self.texts[element_id] = self.texts.get(element_id, "") + data


_HTML_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h2", "h3", "div", "p", "button", "span", "strong",
    "ul", "table", "thead", "tbody", "tr", "th", "td", "pre", "script", *_SVG_TAGS,
}  # fmt: skip


def check_page(page: str, root: Value) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    assert set(parser.tags) <= _HTML_TAGS, set(parser.tags) - _HTML_TAGS
    assert parser.tags.count("script") == 1
    assert not [a for a in parser.attributes if a[1].lower().startswith("on")]
    script = "".join(parser.scripts)
    # What ends or disturbs a script element in an HTML parser: html.parser does not model it, so look.
    assert not re.search(r"<!--|<script|</script", script, re.IGNORECASE)
    assert script.lstrip().startswith("const STEPS = ") and script.rstrip().endswith("show(0);")
    steps = json.loads(re.search(r"const STEPS = (.*);\n", script).group(1))
    assert len(steps) == 2 + len(explain(root, inline_sums=False).backward)
    names = node_names(root, inline_sums=False)
    expected = [printable(names[n]) for n in topological_order(root) if n in names]
    assert [row[0] for row in parser.cells] == expected
    return parser


def test_html_page_shows_labels_as_text(hostile: tuple[Value, dict]) -> None:
    root, _ = hostile
    result = run_case(labels_circuit(HOSTILE), "html")
    page = result["output"]
    parser = check_page(page, root)
    assert "<svg" in page and "No picture" not in page
    assert printable(HOSTILE[-1]) in "".join(parser.cells[-1])


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_html_page_in_a_browser(hostile: tuple[Value, dict], tmp_path: Path) -> None:
    """In a real browser when one is installed (its DOM after the script ran); else parsed as above."""
    root, _ = hostile
    page = run_case(labels_circuit(HOSTILE), "html")["output"]
    browser = _browser()
    if browser is None:  # no browser here: the parser's reading of the page is the check
        check_page(page, root)
        return
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=BUDGET_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    parser = PageParser()
    parser.feed(dom)
    assert "data-pwned" not in dom  # no injected handler or script ran
    assert "img" not in parser.tags and parser.tags.count("script") == 1
    steps = 1 + len(explain(root, inline_sums=False).backward)
    assert parser.texts["counter"] == f"step 0 of {steps}"  # the page's own script ran to the end
    names = node_names(root, inline_sums=False)
    assert [row[0] for row in parser.cells] == [
        printable(names[n]) for n in topological_order(root) if n in names
    ]


# -- text, Markdown, LaTeX ---------------------------------------------------------------------------


def test_text_has_nothing_a_terminal_obeys(hostile: tuple[Value, dict]) -> None:
    root, _ = hostile
    text = run_case(labels_circuit(HOSTILE), "text")["output"]
    for line in text.split("\n"):
        assert line.isprintable(), repr(line[:120])
    for name in names_of(root):
        assert name in text


class MarkdownParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list]] = []
        self.code: list[str] = []
        self.row_cells: list[int] = []
        self._in_code = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, attrs))
        if tag == "tr":
            self.row_cells.append(0)
        if tag in ("td", "th"):
            self.row_cells[-1] += 1
        if tag == "code":
            self._in_code = True
            self.code.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "code":
            self._in_code = False

    def handle_data(self, data: str) -> None:
        if self._in_code:
            self.code[-1] += data


def test_markdown_is_only_tables_and_code(hostile: tuple[Value, dict]) -> None:
    root, _ = hostile
    md = run_case(labels_circuit(HOSTILE), "markdown")["output"]
    parser = MarkdownParser()
    parser.feed(markdown.markdown(md, extensions=["tables"]))
    allowed = {"p", "strong", "table", "thead", "tbody", "tr", "th", "td", "code"}
    assert {tag for tag, _ in parser.tags} <= allowed
    assert all(name in ("style", "align") for _, attrs in parser.tags for name, _ in attrs)
    derivation = explain(root)
    assert parser.row_cells == [3] * (2 + len(derivation.forward) + len(derivation.backward))
    code = "\n".join(parser.code)
    for name in names_of(root):
        # Python-Markdown keeps the backslash of a table cell's \| (GitHub and Jupyter drop it).
        assert name.replace("|", "\\|").strip() in code, name[:40]


def latex_groups(latex: str) -> tuple[str, list[str]]:
    r"""The block with each ``\text{...}`` emptied, and the groups' contents, escapes undone."""
    unescape = {
        r"\textbackslash{}": "\\",
        r"\textasciicircum{}": "^",
        r"\textasciitilde{}": "~",
        r"\textless{}": "<",
        r"\textgreater{}": ">",
        r"\textbar{}": "|",
    }
    skeleton, contents, i = [], [], 0
    while (start := latex.find(r"\text{", i)) >= 0:
        skeleton.append(latex[i:start] + r"\text{}")
        j, depth, content = start + len(r"\text{"), 1, []
        while True:
            ch = latex[j]
            if ch == "\\":
                word = next((w for w in unescape if latex.startswith(w, j)), None)
                if word:
                    content.append(unescape[word])
                    j += len(word)
                    continue
                assert latex[j + 1] in "{}$&#%_", f"unexpected control sequence {latex[j:j + 20]!r}"
                content.append(latex[j + 1])
                j += 2
                continue
            if ch == "{":
                raise AssertionError(f"unescaped brace in a label: {latex[start:j + 20]!r}")
            if ch == "}":
                depth -= 1
                break
            content.append(ch)
            j += 1
        contents.append("".join(content))
        i = j + 1
    skeleton.append(latex[i:])
    return "".join(skeleton), contents


def test_latex_keeps_every_label_inside_its_text_group(hostile: tuple[Value, dict]) -> None:
    root, _ = hostile
    latex = run_case(labels_circuit(HOSTILE), "latex")["output"]
    harmless = run_case(labels_circuit(HARMLESS), "latex")["output"]
    skeleton, contents = latex_groups(latex)
    assert skeleton == latex_groups(harmless)[0]
    names = {printable(label) for label in HOSTILE}  # ("b" is an identifier, written as math)
    assert {c if c in names else c.removeprefix("d") for c in contents} == names


def test_printable_escapes_what_a_terminal_obeys() -> None:
    assert printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert printable("a\nb\tc\r") == "a\\nb\\tc\\r"
    assert printable("\u202eevil\ud800") == "\\u202eevil\\ud800"
    assert printable("λ₁ → 🙂 名前 a b") == "λ₁ → 🙂 名前 a b"


# -- huge fan-outs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("n", FAN_SIZES)
def test_a_large_fan_out_never_hangs(n: int, fmt: str) -> None:
    """``a + a + ... + a``: each format finishes within the budget; a picture too hard to lay out
    is refused before the renderer starts, with what to do instead."""
    result = run_case({"kind": "fan", "n": n}, fmt)
    drawable = n <= 20
    if fmt in ("svg", "png") and not drawable:
        assert result.get("error") == "DrawingTooLarge", result
        message = result["message"]
        assert "'a', which feeds" in message and f"{n - 1:,} gates" in message
        assert ".source" in message and "max_" in message
        return
    assert "error" not in result, result
    if fmt in ("svg", "png"):
        assert base64.b64decode(result["base64"])[:4] in (b"<?xm", b"\x89PNG")
    elif fmt == "html":
        page = result["output"]
        assert ("No picture" in page) != drawable and ("too large" in page) != drawable
        check_page(page, build({"kind": "fan", "n": n}))
    elif fmt == "dot":
        assert len(re.findall(r"^  \w+ -> \w+ ", result["output"], re.M)) == 3 * (n - 1)
    else:
        assert "da" in result["output"]
