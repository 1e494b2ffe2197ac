"""Drawing a circuit: ``draw_dot(root)`` gives DOT text and renders it to SVG or PNG.

Each value is a box with its name, data and grad (inputs filled blue, the output
yellow, constants grey); each gate is its own round node showing the gate's symbol
from the table; edges run operand -> gate -> output, labelled ``a``/``b`` for
two-operand gates so the order is visible. ``show_rules=True`` writes on each edge the term the
derivation trace writes for it, in the circuit's names: ``dd = x1 * dx2 = 4 * (-16) = -64``.

Rendering needs a Graphviz program. It is looked up in this order:

1. the ``renderer=`` argument (a path), then ``$AUTOGRAD_GATES_DOT``;
2. ``graphviz-pure``, the renderer shipped as a wheel (a dependency of this package on
   common platforms), found through ``importlib.metadata`` so an unactivated venv or a
   Jupyter kernel finds it too, then on PATH and in this interpreter's scripts folder;
3. Graphviz's own ``dot`` on PATH.

With none, ``RendererNotFound`` says what was looked for and how to fix it; ``.source``
never needs a renderer. Before the program runs, the circuit's size is checked against
limits (``limits.py``: a few dozen terms of ``a + a + ... + a`` can keep Graphviz busy for
minutes); past one, ``DrawingTooLarge`` says which and what to do instead. The program
then runs as a subprocess with a timeout and a memory cap (``capped.py``), and raster
output is capped at ``max_png_pixels`` on its longer side (an uncapped 2,000-node PNG
took 12 GB).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from ..engine.circuit import expand as expand_composites
from ..engine.value import Value, topological_order
from .capped import exited_on_signal, run_capped
from .escape import printable
from .files import write_file
from .limits import (
    MAX_EDGES,
    MAX_MEMORY_MB,
    MAX_NODES,
    MAX_SKIPPED_RANKS,
    DrawingSize,
    drawing_size,
    too_large,
)
from .trace import Term, explain, format_number, formula_text, node_names

__all__ = [
    "draw_dot",
    "Drawing",
    "find_renderer",
    "Renderer",
    "RendererNotFound",
    "RenderError",
    "DrawingTooLarge",
    "ENV_VAR",
    "FORMATS",
    "dot_source",
]

ENV_VAR = "AUTOGRAD_GATES_DOT"
FORMATS = ("svg", "png", "jpeg", "jpg", "pdf")  # pdf needs system Graphviz: graphviz-pure has none
RASTER = ("png", "jpeg", "jpg")
DPI = 96

LEAF_FILL, OUTPUT_FILL, CONSTANT_FILL, GATE_FILL = "#dbeafe", "#fef3c7", "#e5e7eb", "#f3f4f6"


class RendererNotFound(RuntimeError):
    """No Graphviz program could be found; the message lists where we looked."""


class RenderError(RuntimeError):
    """The renderer ran but failed (bad format, timeout, crash); the message has its stderr."""


@dataclass(frozen=True)
class Renderer:
    path: Path
    found_by: str  # "argument", "$AUTOGRAD_GATES_DOT", "graphviz-pure ...", "dot on PATH"


def _graphviz_pure_candidates() -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    try:
        dist = importlib.metadata.distribution("graphviz-pure")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        for file in dist.files or ():
            if Path(str(file)).name in ("graphviz-pure", "graphviz-pure.exe"):
                found.append((Path(str(dist.locate_file(file))).resolve(), "graphviz-pure (package files)"))
    on_path = shutil.which("graphviz-pure")
    if on_path:
        found.append((Path(on_path), "graphviz-pure on PATH"))
    scripts = sysconfig.get_path("scripts")
    if scripts:
        for name in ("graphviz-pure", "graphviz-pure.exe"):
            found.append((Path(scripts) / name, "graphviz-pure in this Python's scripts folder"))
    return found


def _usable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _program(name: str | os.PathLike[str]) -> Path | None:
    """``name`` as an executable file: a path to one, or a program name found on PATH."""
    path = Path(name)
    if _usable(path):
        return path
    found = shutil.which(str(name))
    return Path(found) if found else None


def find_renderer(renderer: str | os.PathLike[str] | None = None) -> Renderer:
    """The Graphviz program to use; ``RendererNotFound`` says where it looked and how to fix it."""
    if renderer is not None:
        found = _program(renderer)
        if found:
            return Renderer(found, "argument")
        raise RendererNotFound(
            f"the renderer {str(renderer)!r} that was named is not an executable file or a program on PATH."
        )
    named = os.environ.get(ENV_VAR)
    if named:
        found = _program(named)
        if found:
            return Renderer(found, f"${ENV_VAR}")
        raise RendererNotFound(
            f"${ENV_VAR} is set to {named!r}, which is not an executable file or a program on PATH.\n"
            f"Fix: point it at Graphviz's dot or at graphviz-pure, or unset it to use the default search."
        )
    for path, how in _graphviz_pure_candidates():
        if _usable(path):
            return Renderer(path, how)
    dot = shutil.which("dot")
    if dot:
        return Renderer(Path(dot), "dot on PATH")
    raise RendererNotFound(_NOT_FOUND)


_NOT_FOUND = f"""no Graphviz renderer was found to turn the circuit into a picture.
autograd_gates looked for, in order: the renderer= argument (none given), ${ENV_VAR} (not set),
the 'graphviz-pure' program (installed with autograd_gates on x86_64/arm64 Linux, macOS and Windows;
searched in its package files, on PATH and in this Python's scripts folder), and Graphviz's 'dot' on PATH.
Fix: pip install --force-reinstall graphviz-pure
     or install Graphviz (e.g. 'sudo apt-get install graphviz', 'brew install graphviz')
     or set {ENV_VAR}=/path/to/dot, or pass renderer='/path/to/dot'.
The DOT text needs no renderer: drawing.source, or drawing.save('circuit.gv')."""


# -- DOT text ------------------------------------------------------------------------------


def _shown(text: str) -> str:
    """User text as Graphviz shows it literally: control characters made visible (``\\x1b``),
    and ``&`` written ``&amp;``, since Graphviz reads ``&lt;`` in a label as ``<``."""
    return printable(text).replace("&", "&amp;")


def _quote(*lines: str) -> str:
    """A quoted DOT string of one or more lines, each shown literally."""
    escaped = (_shown(line).replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return '"' + "\\n".join(escaped) + '"'


def _record_field(text: str) -> str:
    """A record field, ready to sit inside a quoted DOT string.

    Braces, bars and angle brackets are structure in a record label, so they get a
    backslash; so do backslashes (an escape there) and double quotes (the DOT string's end).
    """
    return "".join("\\" + ch if ch in '{}|<>\\"' else ch for ch in _shown(text))


def _edge_rule(term: Term) -> tuple[str, str]:
    """``dd = x1 * dx2`` and ``= 4 * (-16) = -64``: the trace's term for this edge, in the circuit's names."""
    numbers = f"{formula_text(term.numbers, numbers=True)} = {format_number(term.value)}"
    return f"{term.target} = {formula_text(term.formula)}", f"= {numbers}"


def _expanded(root: Value) -> Value:
    """``root``'s circuit with its composite gates opened, on a copy: its gradients are those of
    one backward pass seeded with ``root.grad`` (none if ``root.grad`` is 0)."""
    opened = expand_composites(root, copy_leaves=True)
    for node in topological_order(opened):
        node.grad = 0.0
    if root.grad:
        opened.backward(root.grad)
    return opened


def dot_source(
    root: Value,
    *,
    rankdir: str = "LR",
    show_rules: bool = False,
    inline_sums: bool = True,
    expand: bool = False,
) -> str:
    """The DOT text of ``root``'s circuit; node ids are ``v<i>`` (values) and ``g<i>`` (gates).

    Boxes carry the names ``explain(root, inline_sums=...)`` uses, so picture and trace agree;
    a node the trace folds into a sum is labelled with its expression (``a * b``), and with
    ``show_rules`` each edge carries the very term the trace writes for it. ``expand`` draws
    each composite gate's composition (on a copy whose gradients come from one backward pass
    seeded with ``root.grad``; the circuit drawn from is not touched).
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot() needs a Value, got {type(root).__name__} {root!r}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be one of LR, TB, RL, BT, got {rankdir!r}")
    if expand:
        root = _expanded(root)
    order = topological_order(root)
    names = node_names(root, inline_sums=inline_sums)
    terms = explain(root, inline_sums=inline_sums, seed=root.grad).edge_terms if show_rules else {}
    ids = {node: i for i, node in enumerate(order)}
    lines = [
        "digraph circuit {",
        f'  graph [rankdir={rankdir}, fontname="Helvetica", nodesep=0.25, ranksep=0.45];',
        '  node [fontname="Helvetica", fontsize=12];',
        '  edge [fontname="Helvetica", fontsize=10, color="#4b5563", arrowsize=0.7];',
    ]
    for node in order:
        i = ids[node]
        if node not in names:
            name, fill, kind = "const", CONSTANT_FILL, "constant"
        else:
            name = names[node]
            kind = "output" if node is root else "input" if node.gate is None else "intermediate"
            fill = OUTPUT_FILL if node is root else LEAF_FILL if node.gate is None else "white"
        fields = [name, "data " + format_number(node.data, 4)]
        if kind != "constant":
            fields.append("grad " + format_number(node.grad, 4))
        label = '"{ ' + " | ".join(_record_field(f) for f in fields) + ' }"'  # escaped field by field
        penwidth = "2" if node is root else "1"
        lines.append(
            f'  v{i} [id="v{i}", class="{kind}", shape=record, style="rounded,filled", fillcolor="{fill}", '
            f"penwidth={penwidth}, label={label}];"
        )
        if node.gate is None:
            continue
        gate = node.gate
        lines.append(
            f'  g{i} [id="g{i}", class="gate", shape=circle, style=filled, fillcolor="{GATE_FILL}", '
            f"margin=0.02, width=0.4, label={_quote(gate.symbol)}, tooltip={_quote(gate.rule)}];"
        )
        for k, parent in enumerate(node.parents):
            attrs = [f'id="e{ids[parent]}_{i}_{k}"']
            if (node, k) in terms:
                attrs.append(f"label={_quote(*_edge_rule(terms[node, k]))}")
            elif len(node.parents) > 1:
                attrs.append(f"label={_quote(gate.operands[k])}")
            lines.append(f"  v{ids[parent]} -> g{i} [{', '.join(attrs)}];")
        lines.append(f'  g{i} -> v{i} [id="o{i}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- the drawing ------------------------------------------------------------------------------


class DrawingTooLarge(RenderError):
    """The circuit is past a drawing limit; nothing was run. ``reason`` names the limit."""

    def __init__(self, reason: str, size: DrawingSize) -> None:
        self.reason, self.size = reason, size
        super().__init__(
            f"the circuit is too large to draw: {reason}.\n"
            "Instead: its DOT text needs no layout (drawing.source, or drawing.save('circuit.gv')); "
            "explain(root) writes the derivation; label an intermediate Value and draw that part; "
            "or lift the limit named above (e.g. draw_dot(root, max_skipped_ranks=None)) at your own risk: "
            "the timeout and memory cap still apply."
        )


class Drawing:
    """A circuit's picture: ``.source`` (DOT), ``.pipe(format)`` bytes, ``.render(path)``.

    In Jupyter it shows itself as SVG; without a renderer it shows the reason as text.
    ``size`` (from ``drawing_size``) is checked against the ``max_*`` limits before any
    renderer runs; ``None`` for a limit lifts it. The renderer runs with ``timeout``
    seconds and ``max_memory_mb`` of address space (see ``capped.py``).
    """

    def __init__(
        self,
        source: str,
        *,
        renderer: str | os.PathLike[str] | None = None,
        timeout: float = 60.0,
        max_png_pixels: int = 6000,
        size: DrawingSize | None = None,
        max_nodes: int | None = MAX_NODES,
        max_edges: int | None = MAX_EDGES,
        max_skipped_ranks: int | None = MAX_SKIPPED_RANKS,
        max_memory_mb: int | None = MAX_MEMORY_MB,
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if max_png_pixels < 16:
            raise ValueError(f"max_png_pixels must be at least 16, got {max_png_pixels!r}")
        for name, limit in (
            ("max_nodes", max_nodes),
            ("max_edges", max_edges),
            ("max_skipped_ranks", max_skipped_ranks),
            ("max_memory_mb", max_memory_mb),
        ):
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
                raise ValueError(f"{name} must be a positive int, or None for no limit; got {limit!r}")
        self.source = source
        self.renderer = renderer
        self.timeout = timeout
        self.max_png_pixels = max_png_pixels
        self.size = size
        self.max_nodes, self.max_edges, self.max_skipped_ranks = max_nodes, max_edges, max_skipped_ranks
        self.max_memory_mb = max_memory_mb

    def __repr__(self) -> str:
        edges = len(re.findall(r"^\s*\S+ -> \S+", self.source, re.M))  # (a tooltip may hold " -> ")
        return f"<Drawing: {edges} edges; .source, .pipe('svg'), .render('circuit.svg')>"

    def check_size(self) -> None:
        """Raise ``DrawingTooLarge`` if the circuit is past a limit (``pipe`` calls this first)."""
        if self.size is None:
            return  # DOT text from elsewhere: only the timeout and the memory cap guard it
        reason = too_large(self.size, self.max_nodes, self.max_edges, self.max_skipped_ranks)
        if reason is not None:
            raise DrawingTooLarge(reason, self.size)

    def pipe(self, format: str = "svg") -> bytes:
        """The rendered picture as bytes (``svg``, ``png``, ``jpeg``; ``pdf`` with system Graphviz)."""
        fmt = format.lower()
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
        self.check_size()
        renderer = find_renderer(self.renderer)
        cmd = [str(renderer.path), "-Kdot", f"-T{fmt}"]
        if fmt in RASTER:
            inches = self.max_png_pixels / DPI
            cmd += [f"-Gdpi={DPI}", f"-Gsize={inches:.3f},{inches:.3f}"]  # shrinks, never enlarges
        try:
            done = run_capped(
                cmd, self.source.encode("utf-8"), timeout=self.timeout, memory_mb=self.max_memory_mb
            )
        except subprocess.TimeoutExpired:
            instead = "try format='svg', " if fmt in RASTER else ""
            raise RenderError(
                f"{renderer.path} did not finish within {self.timeout:g} s (timeout=) rendering {fmt}; "
                f"{instead}draw a smaller part of the circuit, use its DOT text (drawing.source), "
                f"or allow a longer timeout"
            ) from None
        except OSError as exc:
            raise RenderError(f"could not run {renderer.path} (found by {renderer.found_by}): {exc}") from exc
        if done.returncode != 0 or not done.stdout:
            stderr = printable(done.stderr.decode("utf-8", "replace").strip()[-2000:])
            cap = ""
            if self.max_memory_mb is not None and (exited_on_signal(done.returncode) or "memory" in stderr):
                cap = f" (it may have run out of its {self.max_memory_mb:,} MB memory cap, max_memory_mb=)"
            raise RenderError(
                f"{renderer.path} (found by {renderer.found_by}) failed with exit code {done.returncode} "
                f"rendering {fmt}{cap}: {stderr or 'no message'}"
            )
        return done.stdout

    def svg(self) -> str:
        return self.pipe("svg").decode("utf-8")

    def render(self, path: str | os.PathLike[str], format: str | None = None) -> Path:
        """Write the picture to ``path``; the format comes from the suffix unless given.

        ``.gv``/``.dot`` write the DOT text (no renderer needed). Returns the path. A failed
        render or write leaves an existing file as it was.
        """
        path = Path(path)
        fmt = (format or path.suffix.lstrip(".") or "svg").lower()
        if fmt in ("gv", "dot"):
            return self.save(path)
        return write_file(path, self.pipe(fmt))  # whole or not at all: see files.py

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the DOT text to ``path``."""
        return write_file(path, self.source)

    def to_graphviz(self):  # -> graphviz.Source
        """The same DOT as a ``graphviz.Source``, for users of the graphviz package and system Graphviz."""
        import graphviz

        return graphviz.Source(self.source)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except (RendererNotFound, RenderError) as exc:
            return {"text/plain": f"{self!r}\n{type(exc).__name__}: {exc}"}


def draw_dot(
    root: Value,
    *,
    rankdir: str = "LR",
    show_rules: bool = False,
    inline_sums: bool = True,
    expand: bool = False,
    renderer: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
    max_png_pixels: int = 6000,
    max_nodes: int | None = MAX_NODES,
    max_edges: int | None = MAX_EDGES,
    max_skipped_ranks: int | None = MAX_SKIPPED_RANKS,
    max_memory_mb: int | None = MAX_MEMORY_MB,
) -> Drawing:
    """Draw ``root``'s circuit: value boxes (name, data, grad) and one node per gate.

    ``show_rules`` labels each edge with the trace's term for it (``dd = x1 * dx2 = 4 * (-16) =
    -64``); ``expand`` opens composite gates into their compositions; boxes are named as
    ``explain(root, inline_sums=inline_sums)`` names them; ``renderer`` names a
    Graphviz program (else ``$AUTOGRAD_GATES_DOT``, graphviz-pure, ``dot``); ``timeout``
    (seconds) bounds a render; ``max_png_pixels`` caps the longer side of a PNG/JPEG.
    A circuit past ``max_nodes`` (boxes and gates), ``max_edges`` or ``max_skipped_ranks``
    (columns the layout's edges skip: see ``limits.py``) is not rendered (``DrawingTooLarge``
    says why and what to do; ``.source`` still works); ``None`` lifts a limit. The renderer
    gets ``max_memory_mb`` of address space where the platform allows.
    The gradients drawn are the nodes' current ``.grad``: call ``root.backward()`` first.
    """
    drawn = _expanded(root) if expand else root
    source = dot_source(drawn, rankdir=rankdir, show_rules=show_rules, inline_sums=inline_sums)
    return Drawing(
        source,
        renderer=renderer,
        timeout=timeout,
        max_png_pixels=max_png_pixels,
        size=drawing_size(drawn),
        max_nodes=max_nodes,
        max_edges=max_edges,
        max_skipped_ranks=max_skipped_ranks,
        max_memory_mb=max_memory_mb,
    )
