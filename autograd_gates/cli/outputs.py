"""The command's output files: checked before any work, written whole or not at all.

Every output option takes a file name, or ``-`` for standard output (the report then
goes to standard error, so standard output holds that output alone). An empty name, two
outputs both on ``-``, or a binary picture (PNG) sent to a terminal are refused before
anything runs. Files are written through ``show.files.write_file``: a failed write keeps
the old file. A circuit too large to draw gets no picture (the limits of ``draw_dot``)
and a message saying what to use instead; the other outputs are still written.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..engine.value import Value
from ..show.escape import printable
from ..show.trace import Derivation

__all__ = ["OUTPUTS", "STDOUT", "output_problem", "to_stdout", "write_outputs"]

STDOUT = "-"
# option -> what it writes, and whether it is binary
OUTPUTS = {
    "svg": ("the circuit drawing as SVG", False),
    "png": ("the circuit drawing as PNG", True),
    "html": ("the step-by-step backward pass as one HTML file", False),
    "latex": ("the derivation as LaTeX (align*)", False),
    "dot": ("the circuit as DOT text (Graphviz's input; no renderer needed)", False),
}

OK, FAILED = 0, 3


def output_problem(args: argparse.Namespace, stdout_is_terminal: bool) -> str | None:
    """Why the output options cannot be honoured (a message), or ``None``."""
    to_stdout = []
    for name, (_, binary) in OUTPUTS.items():
        path = getattr(args, name)
        if path is None:
            continue
        if path == "":
            return f"--{name} needs a file name, or - for standard output; got an empty string"
        if path == STDOUT:
            to_stdout.append(f"--{name}")
            if binary and stdout_is_terminal:
                return (
                    f"--{name} -: a {name.upper()} is binary and standard output is a terminal; "
                    f"redirect it (... --{name} - > circuit.{name}) or give a file name"
                )
    if len(to_stdout) > 1:
        return f"only one output can go to standard output (-); {' and '.join(to_stdout)} both ask for it"
    return None


def to_stdout(args: argparse.Namespace) -> bool:
    """Whether an output goes to standard output (then the report goes to standard error)."""
    return any(getattr(args, name) == STDOUT for name in OUTPUTS)


def _emit(path: str, data: bytes | str) -> None:
    if path == STDOUT:
        out = sys.stdout.buffer
        out.write(data.encode("utf-8") if isinstance(data, str) else data)
        out.flush()
        return
    from ..show.files import write_file

    write_file(path, data)


def _shown(path: str) -> str:
    return "standard output" if path == STDOUT else printable(path)


def write_outputs(
    args: argparse.Namespace, root: Value, derivation: Derivation, say: Callable[[str], None]
) -> int:
    """Write every output asked for; ``say`` reports each (to stderr). Returns OK or FAILED."""
    if all(getattr(args, name) is None for name in OUTPUTS):
        return OK
    from ..show.drawing import DrawingTooLarge, RendererNotFound, RenderError, draw_dot

    status = OK
    drawing = None
    if args.svg or args.png or args.dot:
        drawing = draw_dot(
            root, show_rules=args.rules, inline_sums=not args.every_gate, renderer=args.renderer
        )

    def write(path: str | None, make: Callable[[], bytes | str], note: str = "") -> None:
        nonlocal status
        if path is None:
            return
        try:
            _emit(path, make())
        except DrawingTooLarge as exc:
            say(
                f"autograd-gates: could not write {_shown(path)}: the circuit is too large to draw: "
                f"{exc.reason}.\nInstead: --dot PATH writes its DOT text (no layout needed); the "
                f"derivation shows every step; --html PATH writes the steps without the picture."
            )
            status = FAILED
            return
        except (RendererNotFound, RenderError, OSError, ValueError) as exc:
            say(f"autograd-gates: could not write {_shown(path)}: {exc}")
            status = FAILED
            return
        if path != STDOUT:
            say(f"wrote {printable(path)}{note}")

    write(args.svg, lambda: drawing.pipe("svg"))
    write(args.png, lambda: drawing.pipe("png"))
    write(args.dot, lambda: drawing.source)
    if args.html:
        from ..show.limits import MAX_EDGES, MAX_NODES, MAX_SKIPPED_RANKS, drawing_size, too_large
        from ..show.stepper import stepper_html

        reason = too_large(drawing_size(root), MAX_NODES, MAX_EDGES, MAX_SKIPPED_RANKS)
        note = " (without the picture: the circuit is too large to draw)" if reason else ""
        write(args.html, lambda: stepper_html(root, renderer=args.renderer), note)
    write(args.latex, lambda: derivation.latex() + "\n")
    return status
