"""Every code block in README.md, benchmarks/README.md and docs/**/*.md runs, and its shown output is checked.

The convention authors follow (one markdown file = one Python session, blocks run top to bottom):

* ```` ```python ```` blocks are executed; names they define stay visible to the later blocks of
  the same file. Nothing they print is checked -- put output you want to show in a pycon block.
* ```` ```pycon ```` blocks are doctests: ``>>>`` / ``...`` prompts, and the shown output must match
  (runs of spaces compare equal, so column alignment is free; ``...`` in the output matches
  anything, as doctest's ELLIPSIS; a traceback is checked by its last line, as in doctest).
* ```` ```text title="examples/NN_name.py" ```` blocks quote an example's output; tests/test_examples.py
  checks that the example prints every line.
* Other fences are shown, not run, and must name one of ``SHOWN_ONLY`` (``bash``, ``text``, ``dot``,
  ...). A fence without a language, or with an unknown one, fails: label it.

docs/writing-docs.md says the same for authors.

Blocks run in a fresh temporary working directory per file, with matplotlib on its headless backend,
so a block may write files (a drawing, a figure) without touching the tree.
"""

from __future__ import annotations

import doctest
import io
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = {"python", "py"}
DOCTESTED = {"pycon"}
SHOWN_ONLY = {
    *("bash", "sh", "console", "shell"),
    *("text", "dot", "toml", "yaml", "json", "ini", "diff", "markdown"),
}
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE  # column alignment is not content

_FENCE = re.compile(r"^(?P<indent>[ ]{0,12})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the first content line
    language: str
    code: str
    info: str = ""  # the whole info string, e.g. 'text title="examples/00_perceptron.py"'

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path}:{self.line}"


def markdown_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [f for f in files if f.exists()]


def code_blocks(path: Path, text: str | None = None) -> list[Block]:
    """The fenced code blocks of a markdown file, with their language and starting line."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = len(match["indent"]), match["fence"]
        language = (match["info"].split() or [""])[0].lstrip("{.").rstrip("}").lower()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = lines[j].strip()
            if closing.startswith(fence[0] * len(fence)) and set(closing) == {fence[0]}:
                break
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        else:
            raise AssertionError(f"{path}:{i + 1}: code fence {fence} is never closed")
        blocks.append(Block(path, i + 2, language, "\n".join(body) + "\n", match["info"].strip()))
        i = j + 1
    return blocks


def run_blocks(blocks: list[Block], namespace: dict) -> None:
    """Run a file's blocks in order in one namespace; raise AssertionError naming the failing block."""
    for block in blocks:
        if block.language in EXECUTED:
            if block.code.lstrip().startswith(">>>"):
                raise AssertionError(f"{block.where}: a python block with >>> prompts: fence it as ```pycon")
            try:
                exec(compile(block.code, block.where, "exec"), namespace)
            except Exception as exc:
                raise AssertionError(
                    f"{block.where}: python block raised {type(exc).__name__}: {exc}\n{block.code}"
                ) from exc
        elif block.language in DOCTESTED:
            _run_doctest(block, namespace)
        elif block.language in SHOWN_ONLY:
            continue
        elif block.language == "":
            raise AssertionError(
                f"{block.where}: a code fence without a language; "
                f"use python, pycon or one of {sorted(SHOWN_ONLY)}"
            )
        else:
            raise AssertionError(
                f"{block.where}: unknown fence language {block.language!r}; "
                f"use python, pycon or one of {sorted(SHOWN_ONLY)}"
            )


def _run_doctest(block: Block, namespace: dict) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block.code, namespace, block.where, str(block.path), block.line - 1)
    if not test.examples:
        raise AssertionError(f"{block.where}: a pycon block with no >>> example")
    test.globs = namespace  # DocTest copies its globals; share the file's namespace instead
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS, verbose=False)
    runner.run(test, out=report.write, clear_globs=False)
    if runner.failures:
        raise AssertionError(f"{block.where}: shown output differs\n{report.getvalue()}")


def new_namespace(path: Path) -> dict:
    return {"__name__": "__docs__", "__file__": str(path)}


@pytest.fixture(autouse=True)
def _headless(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run_and_show_their_output(path: Path) -> None:
    namespace = new_namespace(path)
    try:
        run_blocks(code_blocks(path), namespace)
    finally:
        _close_figures()


def _close_figures() -> None:
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def test_readme_and_docs_are_covered() -> None:
    covered = {p.relative_to(ROOT).as_posix() for p in markdown_files()}
    assert "README.md" in covered
    assert "docs/index.md" in covered
    assert any(p.startswith("docs/pt-BR/") for p in covered)


# -- the runner itself must catch what it promises to catch -------------------------------------


def _run_text(markdown: str, tmp_path: Path) -> None:
    path = tmp_path / "sample.md"
    path.write_text(textwrap.dedent(markdown), encoding="utf-8")
    run_blocks(code_blocks(path), new_namespace(path))


def test_runner_passes_good_blocks_sharing_one_namespace(tmp_path) -> None:
    _run_text(
        """
        ```python
        from autograd_gates import Value
        a = Value(3.0)
        ```

        ```pycon
        >>> (a * a).data
        9.0
        ```

        ```bash
        this is never run
        ```
        """,
        tmp_path,
    )


def test_runner_shares_names_between_pycon_blocks(tmp_path) -> None:
    _run_text("```pycon\n>>> n = 41\n```\n\n```pycon\n>>> n + 1\n42\n```\n", tmp_path)


def test_runner_fails_a_block_that_raises(tmp_path) -> None:
    with pytest.raises(AssertionError, match=r"sample.md:3: python block raised ZeroDivisionError"):
        _run_text("\n```python\n1 / 0\n```\n", tmp_path)


def test_runner_fails_wrong_shown_output(tmp_path) -> None:
    with pytest.raises(AssertionError, match="shown output differs"):
        _run_text("```pycon\n>>> 1 + 1\n3\n```\n", tmp_path)


def test_runner_checks_tracebacks(tmp_path) -> None:
    _run_text(
        "```pycon\n>>> 1 / 0\nTraceback (most recent call last):\n    ...\n"
        "ZeroDivisionError: division by zero\n```\n",
        tmp_path,
    )
    with pytest.raises(AssertionError, match="shown output differs"):
        _run_text("```pycon\n>>> 1 / 0\nTraceback (most recent call last):\nKeyError: 'x'\n```\n", tmp_path)


@pytest.mark.parametrize(
    ("markdown", "message"),
    [
        ("```\nx = 1\n```\n", "without a language"),
        ("```rust\nfn main() {}\n```\n", "unknown fence language 'rust'"),
        ("```python\n>>> 1\n1\n```\n", "fence it as ```pycon"),
        ("```pycon\nprint(1)\n```\n", "no >>> example"),
        ("```python\nx = 1\n", "never closed"),
    ],
)
def test_runner_refuses_mislabelled_blocks(tmp_path, markdown: str, message: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(message)):
        _run_text(markdown, tmp_path)


def test_indented_blocks_inside_admonitions_run(tmp_path) -> None:
    with pytest.raises(AssertionError, match="shown output differs"):
        _run_text('!!! note\n\n    ```pycon\n    >>> 2 * 3\n    7\n    ```\n', tmp_path)
    _run_text('!!! note\n\n    ```pycon\n    >>> 2 * 3\n    6\n    ```\n', tmp_path)
