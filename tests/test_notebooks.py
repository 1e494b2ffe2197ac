"""The course's notebooks: every one the slides name is here, runs clean, matches its example, has no outputs.

* Each notebook runs top to bottom in a fresh Jupyter kernel, headless (nbclient + ipykernel, the
  kernel's own inline matplotlib backend), and any error fails the test. Its exercise checks are run
  too: the solutions at the end must pass them, and a wrong answer (written here) must fail them
  with a message in Portuguese that names the exercise.
* ``notebooks/sync.py --check`` must find nothing to do: the cells copied from the examples are
  what the examples define today, the installation cell is the shared one, and no cell carries an
  output or an execution count.
* The installation cell installs from the course's repository only when the package is missing,
  and says in Portuguese what to do when the teacher has not written the repository's address.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
README = NOTEBOOKS / "README.md"

# What the slides say ("Vamos praticar utilizando o notebook ...") -> the file (see notebooks/README.md).
SLIDE_NAMES = {
    "00_perceptron": "00_perceptron",
    "01_adaline": "01_adaline",
    "02_neuronio_sigmoid": "02_neuronio_sigmoid",
    "03_funções de ativação": "03_funcoes_de_ativacao",
    "03_backpropagation": "04_backpropagation",
}

# For each notebook, calls of its exercise checks with a wrong answer: each must raise an
# AssertionError whose message starts with the exercise's name.
WRONG_ANSWERS: dict[str, list[str]] = {
    "00_perceptron": [
        "confere_exercicio_1([0.5, 0.3], 0.2)",  # no update, though the sample is misclassified
        "confere_exercicio_1([0.6, 0.4], 0.3)",  # the sign of the error flipped
        "confere_exercicio_1([0.4, 0.2], 0.2)",  # the bias forgotten
        "confere_exercicio_2([1.0, 1.0], -1.5)",  # that is AND, not OR
        'confere_exercicio_3({"AND", "OR", "NAND", "XOR"})',
        'confere_exercicio_3({"AND"})',
    ],
    "01_adaline": [
        "confere_exercicio_1(0.5, -1.5, -0.5, -0.5)",  # the cost without the 1/2
        "confere_exercicio_1(0.125, 1.5, 0.5, 0.5)",  # the gradient's sign flipped
        # the slides' update, w - lr (y - y_hat) x: it climbs the cost
        "confere_exercicio_2(lambda w, b, X, y, lr: "
        "(w - lr * ((y - X @ w - b) @ X), b - lr * sum(y - X @ w - b)))",
        # the bias forgotten
        "confere_exercicio_2(lambda w, b, X, y, lr: (w + lr * ((y - X @ w - b) @ X), b))",
        "confere_exercicio_3(0.01, 0.001)",  # swapped
    ],
    "02_neuronio_sigmoid": [
        "confere_exercicio_1(-math.log(0.2), -math.log(0.8))",  # swapped
        "confere_exercicio_1(math.log(0.8), math.log(0.2))",  # the minus sign forgotten
        "confere_exercicio_2(0.7310585786300049)",  # 1 - p instead of p - t
        "confere_exercicio_3([1.0, 1.0], -1.5)",  # the right line, but not confident
        "confere_exercicio_3([1.0, 1.0], -0.5)",  # OR, not AND
    ],
    "03_funcoes_de_ativacao": [
        "confere_exercicio_1(math.tanh(0.5) * (1 - math.tanh(0.5)))",  # the sigmoid's rule
        # the formula on the slide, which is the ELU
        "confere_exercicio_2(lambda x, alpha: alpha * (x.exp() - 1) if x.data <= 0 else x)",
        "confere_exercicio_2(lambda x, alpha: x.relu())",  # plain ReLU
        "confere_exercicio_3(S[0] * (1 - S[0]))",  # the diagonal
    ],
    "04_backpropagation": [
        "confere_exercicio_1(1.0, 1.0, 2.0)",  # the local derivatives only
        "confere_exercicio_2(lambda f, x, h: (f(x + h) - f(x)) / h)",  # forward difference
        "confere_exercicio_3(-6.0)",
        "confere_exercicio_3(3.0)",
    ],
}


def _sync_module():
    spec = importlib.util.spec_from_file_location("notebooks_sync", NOTEBOOKS / "sync.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync = _sync_module()


def _notebooks() -> list[Path]:
    """The Portuguese notebooks, the ones the slides name."""
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _twins() -> list[Path]:
    """Their English twins."""
    return sorted((NOTEBOOKS / "en").glob("*.ipynb"))


def _all_notebooks() -> list[Path]:
    return _notebooks() + _twins()


def _id(path: Path) -> str:
    return f"en/{path.stem}" if path.parent.name == "en" else path.stem


# What a notebook's checks are called and say, in Portuguese and in the English twins.
WORDS = {
    "pt": {"check": "confere_exercicio_", "exercise": "Exercício", "correct": "correto!"},
    "en": {"check": "check_exercise_", "exercise": "Exercise", "correct": "correct!"},
}


def _language(path: Path) -> str:
    return "en" if path.parent.name == "en" else "pt"


def test_every_notebook_the_slides_name_is_here() -> None:
    present = {path.stem for path in _notebooks()}
    assert present == set(SLIDE_NAMES.values()), f"notebooks/ has {sorted(present)}"


def test_every_notebook_has_an_english_twin_and_nothing_else_is_there() -> None:
    assert {path.stem for path in _twins()} == {path.stem for path in _notebooks()}


def test_the_index_lists_every_notebook_with_the_slides_name() -> None:
    index = README.read_text(encoding="utf-8")
    for slide_name, stem in SLIDE_NAMES.items():
        assert f"{stem}.ipynb" in index, f"notebooks/README.md does not list {stem}.ipynb"
        assert slide_name in index, f"notebooks/README.md does not say what the slides call {stem}"
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", index):
        if not target.startswith("http"):
            assert (NOTEBOOKS / target).exists(), f"notebooks/README.md links to a missing {target}"


@pytest.mark.parametrize("path", _all_notebooks(), ids=_id)
def test_notebook_matches_its_example_and_carries_no_outputs(path: Path) -> None:
    assert sync.drift(path) is None, f"{path.name}: {sync.drift(path)}; run python notebooks/sync.py"


def test_the_drift_check_catches_an_edited_copy_and_an_output(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOKS / "00_perceptron.ipynb", as_version=4)
    copied = next(c for c in notebook.cells if sync.COPIED.match(c.source.split("\n", 1)[0]))
    copied.source = copied.source.replace("def train_by_epoch", "def train_by_epoch_renamed")
    edited = tmp_path / "edited.ipynb"
    edited.write_text(sync.text_of(notebook), encoding="utf-8")
    assert "differs from its source" in sync.drift(edited)

    notebook = nbformat.read(NOTEBOOKS / "00_perceptron.ipynb", as_version=4)
    code = next(c for c in notebook.cells if c.cell_type == "code" and "import warnings" in c.source)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="stale\n")]
    ran = tmp_path / "ran.ipynb"
    ran.write_text(sync.text_of(notebook), encoding="utf-8")
    assert "has outputs" in sync.drift(ran)
    assert sync.main(["--check", str(ran)]) == 1
    assert sync.main([str(ran)]) == 0 and sync.drift(ran) is None  # sync strips it


def test_a_copied_cell_naming_a_missing_definition_is_an_error() -> None:
    with pytest.raises(sync.SyncError, match="has no top-level no_such_function"):
        sync.copied_cell("# De examples/00_perceptron.py: STARTS, no_such_function")


def test_copied_definitions_keep_their_comments_and_the_file_order() -> None:
    text = sync.definitions(ROOT / "examples" / "00_perceptron.py", ["perceptron_from", "STARTS"])
    assert text.index("STARTS =") < text.index("def perceptron_from")
    assert text.startswith("# The slides'"), "the comment above STARTS belongs to it"


def _kernel_env() -> dict[str, str]:
    """The test's environment, minus a forced matplotlib backend: the kernel uses its inline one."""
    return {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}


def _renderer_available() -> bool:
    from autograd_gates.show.drawing import RendererNotFound, find_renderer

    try:
        find_renderer()
    except RendererNotFound:
        return False
    return True


def _wrong_answer_cell(call: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        f"try:\n    {call}\nexcept AssertionError as error:\n    print('REJECTED:', error)\n"
        "else:\n    print('ACCEPTED')\n"
    )


def _text_outputs(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.parametrize("path", _all_notebooks(), ids=_id)
def test_notebook_runs_clean_in_a_fresh_kernel(path: Path, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    words = WORDS[_language(path)]
    wrong = [call.replace(WORDS["pt"]["check"], words["check"]) for call in WRONG_ANSWERS.get(path.stem, [])]
    notebook.cells += [_wrong_answer_cell(call) for call in wrong]
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=_kernel_env())  # raises CellExecutionError, naming the cell, on any error

    text = "\n".join(_text_outputs(cell) for cell in notebook.cells if cell.cell_type == "code")
    sources = "\n".join(cell.source for cell in notebook.cells)
    checks = sorted(set(re.findall(rf"def {words['check']}(\d+)", sources)))
    assert checks, f"{path.name} has no exercise checks"
    for number in checks:
        assert f"{words['exercise']} {number}: {words['correct']}" in text, (
            f"{_id(path)}: exercise {number}'s solution failed"
        )
    assert {call.split("(")[0].removeprefix(words["check"]) for call in wrong} == set(checks), (
        f"WRONG_ANSWERS must try every check of {_id(path)}"
    )
    for call, cell in zip(wrong, notebook.cells[-len(wrong) :]):
        number = call.split("(")[0].removeprefix(words["check"])
        assert _text_outputs(cell).startswith(f"REJECTED: {words['exercise']} {number}:"), (
            f"{path.name}: {call} was not rejected with a message:\n{_text_outputs(cell)}"
        )

    kinds = {kind for cell in notebook.cells for o in cell.get("outputs", []) for kind in o.get("data", {})}
    assert "image/png" in kinds, f"{path.name} showed no plot"
    if _renderer_available():
        assert "image/svg+xml" in kinds, f"{path.name} drew no circuit"


# language -> (the variable holding the repository's address, the start of the error without one)
INSTALL_LANGUAGES = {
    "pt": ("REPOSITORIO", "O autograd_gates não está instalado e REPOSITORIO está vazio"),
    "en": ("REPOSITORY", "autograd_gates is not installed and REPOSITORY is empty"),
}


def _install_cell(language: str) -> str:
    path = (_notebooks() if language == "pt" else _twins())[0]
    cell = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert cell.source == sync.install_cell(cell.source, None)
    return cell.source


def test_every_notebook_starts_with_the_same_installation_cell() -> None:
    for path in _all_notebooks():
        first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        assert first.source == sync.install_cell(first.source, None), _id(path)
        variable = INSTALL_LANGUAGES[_language(path)][0]
        assert variable in first.source, f"{_id(path)} has the other language's installation cell"


@pytest.mark.parametrize("language", INSTALL_LANGUAGES)
def test_install_cell_without_the_package_and_without_an_address_says_what_to_do(language, tmp_path) -> None:
    """-S hides site-packages, so the package is missing, as on a fresh Colab machine."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", _install_cell(language)], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode != 0
    assert f"RuntimeError: {INSTALL_LANGUAGES[language][1]}" in done.stderr


@pytest.mark.parametrize("language", INSTALL_LANGUAGES)
def test_install_cell_installs_from_the_repository_only_when_missing(language, monkeypatch) -> None:
    from packaging.requirements import Requirement

    variable = INSTALL_LANGUAGES[language][0]
    url = "https://example.org/curso/autograd_gates"
    source = _install_cell(language).replace(f'{variable} = ""', f'{variable} = "{url}"')
    assert url in source
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "check_call", lambda command: calls.append(command))
    exec(compile(source, "install-cell", "exec"), {})  # installed: pip is not called
    assert calls == []

    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args):
        return None if name == "autograd_gates" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    exec(compile(source, "install-cell", "exec"), {})
    assert len(calls) == 1 and calls[0][:5] == [sys.executable, "-m", "pip", "install", "--quiet"]
    requirement = Requirement(calls[0][5])
    assert requirement.name == "autograd_gates" and requirement.extras == {"examples"}
    assert requirement.url == "git+https://example.org/curso/autograd_gates"


def test_sync_writes_the_repository_into_every_notebook(tmp_path: Path) -> None:
    copy = tmp_path / "copy.ipynb"
    copy.write_text((_notebooks()[0]).read_text(encoding="utf-8"), encoding="utf-8")
    assert sync.main(["--repository", "https://example.org/curso/autograd_gates", str(copy)]) == 0
    first = next(c for c in nbformat.read(copy, as_version=4).cells if c.cell_type == "code")
    assert 'REPOSITORIO = "https://example.org/curso/autograd_gates"' in first.source
    assert sync.drift(copy) is None  # the address is kept by later syncs


def test_notebooks_are_valid_and_name_the_python3_kernel() -> None:
    for path in _all_notebooks():
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata["kernelspec"]["name"] == "python3", path.name
        assert json.loads(path.read_text(encoding="utf-8"))["nbformat"] == 4
