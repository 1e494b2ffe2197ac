"""Keep the notebooks in step with the examples, and free of outputs.

The notebooks are edited in Jupyter (or Colab). Two kinds of cell are not written by hand:

* the **installation cell** (the first code cell, starting ``# Instalação``, or ``# Installation``
  in the English twins under ``en/``): its text lives here, once, for every notebook; only the
  repository address (``REPOSITORIO = "..."``) is per notebook;
* **cells copied from an example**: a code cell whose first line is
  ``# De examples/NN_name.py: name1, name2`` holds those top-level definitions (functions,
  classes, constants) exactly as the example has them, so the notebook and the script run the
  same code. Edit the example, then run this script; an edit made in the notebook is overwritten.

It also strips every output and execution count, and the per-run metadata Jupyter adds, so that a
committed notebook carries no stale results::

    python notebooks/sync.py                  # rewrite the notebooks that differ
    python notebooks/sync.py --check          # exit 1 and name each notebook that differs
    python notebooks/sync.py --repository https://github.com/USUARIO/autograd_gates
                                              # write the course's repository into every notebook

``tests/test_notebooks.py`` runs the check, so the suite fails while a notebook has drifted.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = Path(__file__).resolve().parent

COPIED = re.compile(r"^# (?:De|From) (?P<path>examples/[\w.-]+\.py): (?P<names>\w+(?:, \w+)*)$")
COPIED_NOTE = {
    "De": "# (copiado do exemplo por notebooks/sync.py: para mudar, edite o exemplo e rode o sync)",
    "From": "# (copied from the example by notebooks/sync.py: to change it, edit the example and run sync)",
}
REPOSITORY = re.compile(r'^(?:REPOSITORIO|REPOSITORY) = "(?P<url>[^"]*)"$', re.MULTILINE)
# The installation cell of the Portuguese notebooks, and of their English twins in notebooks/en/.
INSTALL_CELLS = {
    "# Instalação": '''\
# Instalação: rode esta célula primeiro (no Colab, ou onde o autograd_gates ainda não estiver instalado).
# O autograd_gates não está no PyPI: ele é instalado do repositório git do curso, cujo endereço
# o professor escreve em REPOSITORIO (python notebooks/sync.py --repository URL faz isso em todos).
import importlib
import importlib.util
import subprocess
import sys

REPOSITORIO = "{url}"

if importlib.util.find_spec("autograd_gates") is None:
    if not REPOSITORIO:
        raise RuntimeError(
            "O autograd_gates não está instalado e REPOSITORIO está vazio: escreva nesta célula o "
            "endereço git do repositório do curso (https://...; peça ao professor) e rode-a de novo."
        )
    pacote = f"autograd_gates[examples] @ git+{{REPOSITORIO}}"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", pacote])
    importlib.invalidate_caches()

autograd_gates = importlib.import_module("autograd_gates")
print("autograd_gates", autograd_gates.__version__, "pronto")''',
    "# Installation": '''\
# Installation: run this cell first (in Colab, or wherever autograd_gates is not installed yet).
# autograd_gates is not on PyPI: it is installed from the course's git repository, whose address
# the teacher writes in REPOSITORY (python notebooks/sync.py --repository URL does it in all of them).
import importlib
import importlib.util
import subprocess
import sys

REPOSITORY = "{url}"

if importlib.util.find_spec("autograd_gates") is None:
    if not REPOSITORY:
        raise RuntimeError(
            "autograd_gates is not installed and REPOSITORY is empty: write the git address of the "
            "course's repository (https://...; ask your teacher) in this cell and run it again."
        )
    package = f"autograd_gates[examples] @ git+{{REPOSITORY}}"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", package])
    importlib.invalidate_caches()

autograd_gates = importlib.import_module("autograd_gates")
print("autograd_gates", autograd_gates.__version__, "ready")''',
}
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
CELL_METADATA_KEPT = {"tags"}  # drop collapsed, scrolled, execution, ...: they change with every run


class SyncError(Exception):
    """A copied cell names something the example does not define, or a notebook is malformed."""


def notebook_paths() -> list[Path]:
    """Every notebook under notebooks/ (the Portuguese ones and any translation in a subfolder)."""
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def definitions(example: Path, names: list[str]) -> str:
    """The source of the top-level definitions ``names`` in ``example``, in the file's order.

    A definition carries its decorators and the comment lines right above it.
    """
    text = example.read_text(encoding="utf-8")
    lines = text.splitlines()
    found: dict[str, tuple[int, int]] = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined = [node.name]
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        elif isinstance(node, ast.Assign):
            defined = [t.id for t in node.targets if isinstance(t, ast.Name)]
            first = node.lineno
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined = [node.target.id]
            first = node.lineno
        else:
            continue
        while first > 1 and lines[first - 2].startswith("#"):  # its comment block
            first -= 1
        for name in defined:
            found[name] = (first, node.end_lineno or node.lineno)
    missing = [name for name in names if name not in found]
    if missing:
        raise SyncError(f"{example.relative_to(ROOT)} has no top-level {', '.join(missing)}")
    spans = sorted({found[name] for name in names})
    return "\n\n\n".join("\n".join(lines[start - 1 : end]) for start, end in spans)


def copied_cell(first_line: str) -> str | None:
    """The text a copied cell must have, given its first line; None if it is not a copied cell."""
    match = COPIED.match(first_line)
    if match is None:
        return None
    example = ROOT / match["path"]
    if not example.is_file():
        raise SyncError(f"{first_line!r}: {match['path']} does not exist")
    language = first_line.split()[1]
    body = definitions(example, match["names"].split(", "))
    return f"{first_line}\n{COPIED_NOTE[language]}\n\n{body}"


def install_cell(current: str, repository: str | None) -> str | None:
    """The installation cell ``current`` must be (None if ``current`` is not one), keeping its address."""
    first_line = next((line for line in INSTALL_CELLS if current.startswith(line)), None)
    if first_line is None:
        return None
    found = REPOSITORY.search(current)
    url = repository if repository is not None else (found["url"] if found else "")
    return INSTALL_CELLS[first_line].format(url=url)


def synced(notebook: nbformat.NotebookNode, repository: str | None = None) -> nbformat.NotebookNode:
    """``notebook`` with its generated cells refreshed and every output and run metadata removed."""
    notebook = nbformat.from_dict(notebook)  # a copy
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code_cells or install_cell(code_cells[0].source, None) is None:
        starts = " or ".join(map(repr, INSTALL_CELLS))
        raise SyncError(f"the first code cell must be the installation cell, starting {starts}")
    for index, cell in enumerate(notebook.cells):
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in CELL_METADATA_KEPT}
        cell.setdefault("id", f"cell-{index}")
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        cell.outputs = []
        cell.execution_count = None
        if cell is code_cells[0]:
            cell.source = install_cell(cell.source, repository)
            continue
        first_line = cell.source.split("\n", 1)[0]
        copied = copied_cell(first_line)
        if copied is not None:
            cell.source = copied
    notebook.metadata = {
        "kernelspec": KERNELSPEC,
        "language_info": {"name": "python"},
        **({"colab": {"provenance": []}} if "colab" in notebook.metadata else {}),
    }
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    nbformat.validate(notebook)
    return notebook


def text_of(notebook: nbformat.NotebookNode) -> str:
    """The notebook as committed: nbformat's JSON (sorted keys, one-space indent) and a final newline."""
    return nbformat.writes(notebook) + "\n"


def drift(path: Path, repository: str | None = None) -> str | None:
    """What differs between ``path`` and its synced form (None when nothing does)."""
    current = nbformat.read(path, as_version=4)
    fresh = synced(current, repository)
    if text_of(fresh) == path.read_text(encoding="utf-8"):
        return None
    reasons = []
    for index, (old, new) in enumerate(zip(current.cells, fresh.cells)):
        if old.get("outputs") or old.get("execution_count") is not None:
            reasons.append(f"cell {index} has outputs")
        elif old.source != new.source:
            reasons.append(f"cell {index} ({new.source.splitlines()[0][:60]}) differs from its source")
    return "; ".join(reasons) or "metadata or formatting differs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook differs")
    parser.add_argument("--repository", help="the course's git repository, written into every notebook")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to sync (default: all)")
    args = parser.parse_args(argv)
    paths = args.notebooks or notebook_paths()
    status = 0
    for path in paths:
        try:
            reason = drift(path, args.repository)
        except SyncError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            status = 1
            continue
        if reason is None:
            continue
        if args.check:
            print(f"{path}: {reason}; run python notebooks/sync.py", file=sys.stderr)
            status = 1
        else:
            fresh = synced(nbformat.read(path, as_version=4), args.repository)
            path.write_text(text_of(fresh), encoding="utf-8")
            print(f"synced {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
