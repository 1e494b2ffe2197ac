"""Run every example and check what it prints, the figures it writes, and the output the docs quote.

Each example runs once per test session in its own subprocess, as a user would:
``python examples/NN_name.py OUT``. They take seconds; the slow moons MLP runs with ``--quick``
(a smaller network for a few steps). The figures the docs show (docs/figures/*.png) must be ones the
examples write, so ``python examples/NN_name.py docs/figures`` reproduces them; and every line of a
docs block fenced as ```` ```text title="examples/NN_name.py" ```` must appear in that example's output.
"""

from __future__ import annotations

import ast
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = ROOT / "examples"
FIGURES = ROOT / "docs" / "figures"
MAX_FIGURE_BYTES = 150_000
PAGE_PIXELS = 700  # a docs page's width: a wider plot is shrunk, and its text with it

# example -> (lines its quick run must print (regular expressions), figures it must write)
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "00_perceptron.py": (
        [
            r"AND: converged after \d+ epochs?",
            r"OR: converged after \d+ epochs?",
            r"XOR: not converged after \d+ epochs, best accuracy 75%",
            r"learning rate 0\.01: converged after \d+ epochs",
            r"learning rate 0\.5: converged after \d+ epochs",
        ],
        ["perceptron_and_or.png", "perceptron_learning_rate.png", "perceptron_xor.png"],
    ),
    "01_adaline.py": (
        [
            r"max \|backward\(\) - closed form\| = \d\.\de-1\d",
            r"Adaline .*accuracy 100%",
            r"learning rate 0\.004: .*it diverges",
            r"learning rate 0\.0025: .*it converges",
        ],
        ["adaline_vs_perceptron.png"],
    ),
    "02_sigmoid_neuron.py": (
        [
            r"0  1  -1          inf",
            r"1  1  \+0          0 ",
            r"dL/dz = \+0\.880797   p - t = \+0\.880797",
            r"accuracy on AND: 100%",
        ],
        ["sigmoid_neuron.png"],
    ),
    "03_activation_functions.py": (
        [
            # sigmoid and tanh are gates whose rules are the closed forms: equal to the last bit
            r"sigmoid .*max \|backward - closed form\| = (\d\.\de-1[5-9]|0\.0e\+00)",
            r"tanh .*max \|backward - closed form\| = (\d\.\de-1[5-9]|0\.0e\+00)",
            r"relu'\(0\) = 0 ",
            r"softmax: \[0\.07, 0\.22, 0\.72\]",
            r"max \|stack\(x\) - \(W x \+ b\)\| = \d\.\de-1[4-9]",
            r"stack with tanh: rms residual 0\.\d+",
        ],
        ["activations.png", "linear_collapse.png"],
    ),
    "04_backpropagation.py": (
        [
            r"random search .* evaluations",
            r"random local search .* evaluations",
            r"numerical gradient .* evaluations",
            r"analytic gradient .* 1 forward \+ 1 backward .*df/dx = 3 = y, df/dy = -2 = x",
            r"analytic gradient +\d+ steps +final loss \d\.\d+ +above the optimum by 0\.00",
        ],
        ["backprop_strategies.png"],
    ),
    "05_gradients_expert.py": (
        [
            r"x = \(\(a \* b \+ c\) \* d\) \*\* 2",
            r"dd = x1 \* dx2 +=.*= -64",
            r"dw0 = x0 \* df1 += \(-1\) \* 0\.196612 += -0\.196612",
            r"every gradient agrees with a central difference",
            r"max \|dW \(engine\) - dY\.T\.dot\(X\)\| = \d\.\de-1[5-9]",
            r"max \|dX \(engine\) - dY\.dot\(W\)\|   = \d\.\de-1[5-9]",
            r"the matrix rule holds",
        ],
        ["matrix_gradients.png"],  # and the circuit drawings, checked below by pattern
    ),
    "06_moons_mlp.py": (
        [r"step +\d+ +loss \d\.\d+ +accuracy +\d+%"],
        ["moons_decision_boundary.png"],
    ),
    "digits_tape.py": (
        [
            r"MLP 64-32-10 \(tanh\) on 1348 digits, 449 held out: 2,410 parameters",
            r"on the tape: \d+ steps in \d+\.\d s; test accuracy \d+\.\d%",
            r"one batch of 32: \d+\.\d ms on the tape .*, \d+ ms on the scalar engine",
            r"PyTorch( is not installed|, the same model from the same weights"
            r".*\(\d+ of 449 predictions the same\))",
        ],
        ["digits_tape.png", "tape_trace.png"],
    ),
}


# Too slow for the suite at full settings; AUTOGRAD_GATES_FULL_EXAMPLES=1 runs them in full too.
SLOW = {"06_moons_mlp.py", "digits_tape.py"}
QUICK = set() if os.environ.get("AUTOGRAD_GATES_FULL_EXAMPLES") == "1" else SLOW
# What only the full settings reach.
FULL_ONLY: dict[str, list[str]] = {
    "06_moons_mlp.py": [r"after 100 steps: training accuracy 100%"],
    "digits_tape.py": [r"test accuracy 9\d\.\d%"],
}


def _present() -> list[str]:
    # The slides' examples are numbered (NN_name.py); others (digits_tape.py) are not.
    return sorted(p.name for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))


def _run(
    script: str, out: Path, *extra: str, block_matplotlib: bool = False
) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"}
    path = str(EXAMPLES_DIR / script)
    if block_matplotlib:
        launcher = (
            "import runpy, sys; sys.modules['matplotlib'] = None; "
            f"sys.path.insert(0, {str(EXAMPLES_DIR)!r}); "
            f"sys.argv = [{path!r}, {str(out)!r}, '--quick']; "
            f"runpy.run_path({path!r}, run_name='__main__')"
        )
        command = [sys.executable, "-c", launcher]
    else:
        command = [sys.executable, path, str(out), *extra]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_every_example_is_expected() -> None:
    """A new example must say here what it prints; an expected one must exist."""
    assert set(_present()) == set(EXPECTED), "update EXPECTED in tests/test_examples.py"


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    """Each example's finished run and its output folder, computed once per session."""
    cache: dict[str, tuple[subprocess.CompletedProcess, Path]] = {}

    def run(script: str) -> tuple[subprocess.CompletedProcess, Path]:
        if script not in cache:
            out = tmp_path_factory.mktemp(script.removesuffix(".py")) / "figures"
            cache[script] = (_run(script, out, *(["--quick"] if script in QUICK else [])), out)
        return cache[script]

    return run


@pytest.mark.parametrize("script", _present())
def test_example_runs_and_prints_its_results(script: str, runs) -> None:
    result, out = runs(script)
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"
    patterns, figures = EXPECTED[script]
    if script not in QUICK:
        patterns = [*patterns, *FULL_ONLY.get(script, [])]
    for pattern in patterns:
        assert re.search(pattern, result.stdout), f"{script} did not print /{pattern}/:\n{result.stdout}"
    written = {p.name for p in out.glob("*.png")}
    assert set(figures) <= written, f"{script} wrote {sorted(written)}, expected {figures}"
    for name in written:
        assert f"figure: {out / name}" in result.stdout, f"{script} wrote {name} without saying so"
        assert (out / name).stat().st_size < MAX_FIGURE_BYTES, f"{name} is too large for the docs"
    for name in figures:
        assert _png_width(out / name) <= PAGE_PIXELS, f"{name} is wider than a docs page"


def _png_width(path: Path) -> int:
    """The width in pixels, from the PNG header (the IHDR chunk comes first)."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">I", header[16:20])[0]


@pytest.mark.parametrize("script", _present())
def test_examples_run_without_matplotlib(script: str, tmp_path: Path) -> None:
    """Without matplotlib an example still runs and prints, and says how to get the figures."""
    result = _run(script, tmp_path, block_matplotlib=True)
    assert result.returncode == 0, result.stderr
    assert "pip install 'autograd_gates[examples]'" in result.stdout
    assert EXPECTED[script][0] and re.search(EXPECTED[script][0][0], result.stdout), result.stdout
    # circuit drawings need Graphviz, not matplotlib; plots need matplotlib
    plots = {p.name for p in tmp_path.glob("*.png")} - {p.name for p in tmp_path.glob("circuit_*.png")}
    assert not plots, f"{script} wrote plots without matplotlib: {sorted(plots)}"


@pytest.mark.parametrize("script", _present())
def test_help_says_what_the_example_does_in_full(script: str) -> None:
    """``--help`` shows the docstring's whole first paragraph (it used to stop at its first line)."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / script), "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    docstring = ast.get_docstring(ast.parse((EXAMPLES_DIR / script).read_text(encoding="utf-8")))
    summary = " ".join(docstring.split("\n\n")[0].split())
    assert summary.endswith("."), f"{script}: the docstring's first paragraph is not a whole sentence"
    shown = " ".join(result.stdout.split())
    assert summary in shown, f"{script} --help does not show {summary!r}:\n{result.stdout}"
    assert "--quick" in shown and "folder the figures are written to" in shown


def test_example_needs_an_output_folder() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / "05_gradients_expert.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "the following arguments are required: out" in result.stderr


def test_example_refuses_a_file_as_its_output_folder(tmp_path: Path) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("keep me\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES_DIR / "05_gradients_expert.py"), str(taken)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert f"cannot use {str(taken)!r} as the output folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert taken.read_text(encoding="utf-8") == "keep me\n"


def _quoted_outputs() -> list[tuple[str, str, list[str]]]:
    """(where, example, lines) for every docs block fenced as ```text title="examples/NN_name.py"."""
    try:  # the same fence parser the docs runner uses
        from test_docs import code_blocks
    except ImportError:  # tests/ imported as a package
        from tests.test_docs import code_blocks

    quoted = []
    for page in sorted((ROOT / "docs").rglob("*.md")):
        for block in code_blocks(page):
            found = re.search(r'title="examples/([\w.-]+\.py)"', block.info)
            if found:
                lines = [line.rstrip() for line in block.code.splitlines() if line.strip()]
                quoted.append((block.where, found.group(1), lines))
    return quoted


@pytest.mark.parametrize(
    ("where", "script", "lines"), [pytest.param(*quoted, id=quoted[0]) for quoted in _quoted_outputs()]
)
def test_docs_quote_what_the_examples_print(where: str, script: str, lines: list[str], runs) -> None:
    assert script in EXPECTED, f"{where} quotes examples/{script}, which does not exist"
    assert script not in QUICK, f"{where}: examples/{script} runs with --quick here; do not quote its output"
    result, out = runs(script)
    printed = {line.rstrip() for line in result.stdout.splitlines()}
    printed |= {line.replace(str(out), "out") for line in printed}  # figure paths are quoted as out/NAME.png
    missing = [line for line in lines if line not in printed]
    assert not missing, f"{where}: lines not printed by examples/{script}:\n" + "\n".join(missing)


def _referenced_figures() -> set[str]:
    names: set[str] = set()
    for page in (ROOT / "docs").rglob("*.md"):
        names |= set(re.findall(r"figures/([\w.-]+\.(?:png|svg))", page.read_text(encoding="utf-8")))
    return names


def test_docs_figures_exist_and_come_from_the_examples(runs) -> None:
    referenced = _referenced_figures()
    committed = {p.name for p in FIGURES.glob("*")} if FIGURES.exists() else set()
    missing = sorted(referenced - committed)
    assert not missing, f"docs show figures that are not committed: {missing}"
    unused = sorted(committed - referenced)
    assert not unused, f"figures no page shows (delete them): {unused}"
    produced = {name for _, figures in EXPECTED.values() for name in figures}
    drawn, drawings = runs("05_gradients_expert.py")  # the circuit drawings, if a renderer was found
    produced |= {p.name for p in drawings.glob("circuit_*.png")}
    if "no drawing" in drawn.stdout:  # no Graphviz renderer on this platform: cannot redraw them here
        produced |= {name for name in committed if name.startswith("circuit_")}
    strays = sorted(committed - produced)
    assert not strays, f"figures no example writes: {strays}"
    for name in committed:
        assert (FIGURES / name).stat().st_size < MAX_FIGURE_BYTES, f"docs/figures/{name} is too large"
