"""``autograd-gates``: evaluate an expression, backpropagate, and show the work.

    autograd-gates                                   # the slides' example
    autograd-gates "((a*b + c)*d)**2" a=2 b=-3 c=10 d=-2 --svg circuit.svg --html steps.html

prints the value, a gradient table and the derivation in the slides' notation; flags
write the drawing (SVG/PNG), the step-by-step HTML page and LaTeX, and run
``gradcheck``. The expression is parsed by ``parser.py`` (a whitelist), never evaluated
as Python. Exit codes: 0 ok, 1 gradcheck failed, 2 bad expression or arguments (or a
gate refused its operands), 3 an output could not be written (no renderer, I/O error).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import textwrap
from collections.abc import Sequence

from ..engine.circuit import ExprFunction, build
from ..engine.formula import CONSTANTS, Expr, ExpressionError, parse_with_spans
from ..engine.table import GATES
from ..engine.value import Value
from ..show.trace import Derivation, explain, format_number

__all__ = ["main", "SLIDES_EXAMPLE", "SLIDES_VALUES"]

SLIDES_EXAMPLE = "((a*b + c)*d)**2"
SLIDES_VALUES = {"a": 2.0, "b": -3.0, "c": 10.0, "d": -2.0}

OK, GRADCHECK_FAILED, BAD_INPUT, OUTPUT_FAILED = 0, 1, 2, 3

_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)=(.*)", re.DOTALL)


def _function_list() -> str:
    names = sorted(
        {n for g in GATES.values() if g.operator is None for n in (g.name, *g.aliases)} | {"identity"}
    )
    return textwrap.fill(", ".join(names) + ".", 96, initial_indent="  ", subsequent_indent="  ")


_FUNCTION_LIST = _function_list()
_CONSTANT_LIST = " and ".join(sorted(CONSTANTS))

_EPILOG = f"""examples:
  autograd-gates
      the slides' example: x = {SLIDES_EXAMPLE} at a=2 b=-3 c=10 d=-2
  autograd-gates "((a*b + c)*d)**2" a=2 b=-3 c=10 d=-2 --svg circuit.svg
  autograd-gates "a*a + b*b + c*c" a=1 b=2 c=3 --every-gate
  autograd-gates "sigmoid(w0*x0 + w1*x1 + w2)" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --gradcheck
  autograd-gates "max(a, b)" a=1 b=1 --latex -        (LaTeX of the derivation to stdout)
  autograd-gates a=3                                  (the slides' example with a=3)
  autograd-gates --svg c.svg -- "-a*b" a=1 b=2       (after --, everything is the expression and values)

the expression: numbers, names, the constants {_CONSTANT_LIST}, + - * / ** (Python precedence), unary -,
parentheses, and calls to
{_FUNCTION_LIST}
It is parsed, never run as Python.

exit codes: 0 ok; 1 gradcheck failed; 2 bad expression or arguments, or a gate refused its
operands (log of a negative number, division by zero); 3 an output could not be written
(no Graphviz renderer, a file error)."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="autograd-gates",
        description="Evaluate an expression, backpropagate, and show the derivation the way the slides "
        "write it (x1 = a*b + c, ..., dx2 = 2 * x2 * dx, ...).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("expression", nargs="?", help=f"the expression (default: {SLIDES_EXAMPLE})")
    p.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a value for each name, e.g. a=2 b=-3")
    out = p.add_argument_group("outputs")
    out.add_argument("--svg", metavar="PATH", help="write the circuit drawing as SVG")
    out.add_argument("--png", metavar="PATH", help="write the circuit drawing as PNG")
    out.add_argument(
        "--rules", action="store_true", help="label the drawing's edges with local rules and numbers"
    )
    out.add_argument("--html", metavar="PATH", help="write the step-by-step backward pass as one HTML file")
    out.add_argument("--latex", metavar="PATH", help="write the derivation as LaTeX (align*); '-' for stdout")
    out.add_argument("--markdown", action="store_true", help="print the derivation as Markdown")
    out.add_argument("--every-gate", action="store_true", help="one line per gate (no folding into sums)")
    out.add_argument("--no-derivation", action="store_true", help="print only the value and the gradients")
    out.add_argument(
        "--renderer", metavar="PATH", help="Graphviz program for drawings (default: graphviz-pure)"
    )
    check = p.add_argument_group("checking")
    check.add_argument("--gradcheck", action="store_true", help="compare the gradients with numerical ones")
    return p


class _BadInput(Exception):
    """A user error: printed without a traceback, exit code 2."""


def _values(
    assignments: Sequence[str], expected: Sequence[str], expression: str, defaults: dict[str, float]
) -> dict[str, float]:
    values = {name: v for name, v in defaults.items() if name in expected}
    given: set[str] = set()
    for item in assignments:
        m = _ASSIGNMENT.fullmatch(item)
        if m is None:
            raise _BadInput(f"expected NAME=VALUE (like a=2), got {item!r}")
        name, text = m.groups()
        try:
            number = float(text)
        except ValueError:
            raise _BadInput(f"{name}={text}: {text!r} is not a number") from None
        if not math.isfinite(number):
            raise _BadInput(f"{name}={text}: the value must be finite")
        if name in given:
            raise _BadInput(f"{name} is given twice")
        if name not in expected:
            raise _BadInput(f"{name}={text} is given, but {name!r} does not appear in {expression!r}")
        given.add(name)
        values[name] = number
    missing = [n for n in expected if n not in values]
    if missing:
        hint = " ".join(f"{n}=<number>" for n in missing)
        raise _BadInput(f"no value for {', '.join(missing)}; add {hint}")
    return {n: values[n] for n in expected}


def _gradient_table(output: str, leaves: dict[str, Value]) -> str:
    rows = [("input", "value", f"d{output}/d(input)")]
    rows += [(name, format_number(v.data), format_number(v.grad)) for name, v in leaves.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def run(argv: Sequence[str] | None = None) -> int:
    """The command; returns the exit code (``main`` exits with it)."""
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # An expression starting with '-' ("-a*b") looks like an option to argparse.
        takes_it = args.expression is None or _ASSIGNMENT.fullmatch(args.expression)
        if len(unknown) == 1 and not unknown[0].startswith("--") and takes_it:
            if args.expression is not None:
                args.values.insert(0, args.expression)
            args.expression = unknown[0]
        else:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    expression, assignments = args.expression, list(args.values)
    defaults: dict[str, float] = {}
    if expression is None or _ASSIGNMENT.fullmatch(expression):
        # No expression, or only NAME=VALUE pairs: the slides' example, with any value replaced.
        if expression is not None:
            assignments.insert(0, expression)
        expression, defaults = SLIDES_EXAMPLE, SLIDES_VALUES
    try:
        parsed, spans = parse_with_spans(expression)
        values = _values(assignments, parsed.variables, expression, defaults)
        leaves = {name: Value(values[name], name) for name in parsed.variables}
        root = build(parsed, leaves, spans=spans, text=expression)
    except (ExpressionError, _BadInput) as exc:
        print(f"autograd-gates: {exc}", file=sys.stderr)
        return BAD_INPUT
    root.backward()
    derivation = explain(root, inline_sums=not args.every_gate)
    name = derivation.output

    shown = ", ".join(f"{n} = {format_number(v)}" for n, v in values.items())
    print(f"{name} = {expression}" + (f"   at {shown}" if shown else ""))
    print(f"{name} = {format_number(root.data, 12)}")
    if leaves:
        print()
        print("gradients:")
        print(_gradient_table(name, leaves))
    if not args.no_derivation:
        print()
        print("derivation (names as on the slides; numbers from the graph):")
        print(derivation.markdown() if args.markdown else derivation.text())

    status = _write_outputs(args, root, derivation)
    if args.gradcheck:
        status = _gradcheck(parsed, leaves, status)
    return status


def _write_outputs(args: argparse.Namespace, root: Value, derivation: Derivation) -> int:
    status = OK
    if args.svg or args.png:
        from ..show.drawing import RendererNotFound, RenderError, draw_dot

        drawing = draw_dot(
            root, show_rules=args.rules, inline_sums=not args.every_gate, renderer=args.renderer
        )
        for path, fmt in ((args.svg, "svg"), (args.png, "png")):
            if not path:
                continue
            try:
                drawing.render(path, format=fmt)
                print(f"wrote {path}", file=sys.stderr)
            except (RendererNotFound, RenderError, OSError) as exc:
                print(f"autograd-gates: could not write {path}: {exc}", file=sys.stderr)
                status = OUTPUT_FAILED
    if args.html:
        from ..show.stepper import write_stepper

        try:
            write_stepper(root, args.html, renderer=args.renderer)
            print(f"wrote {args.html}", file=sys.stderr)
        except OSError as exc:
            print(f"autograd-gates: could not write {args.html}: {exc}", file=sys.stderr)
            status = OUTPUT_FAILED
    if args.latex:
        latex = derivation.latex()
        if args.latex == "-":
            print()
            print(latex)
        else:
            try:
                with open(args.latex, "w", encoding="utf-8") as f:
                    f.write(latex + "\n")
                print(f"wrote {args.latex}", file=sys.stderr)
            except OSError as exc:
                print(f"autograd-gates: could not write {args.latex}: {exc}", file=sys.stderr)
                status = OUTPUT_FAILED
    return status


def _gradcheck(parsed: Expr, leaves: dict[str, Value], status: int) -> int:
    from ..checks.checking import gradcheck  # written beside this module; imported only when asked for

    names = list(leaves)
    if not names:
        print("\ngradcheck: the expression has no inputs to check")
        return status

    f = ExprFunction(parsed, names)
    report = gradcheck(f, [leaves[n].data for n in names], labels=names, raise_exception=False)
    print()
    print(f"gradcheck: {report.outcome}")
    print(report)
    return max(status, GRADCHECK_FAILED) if report.outcome == "fail" else status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``autograd-gates`` command and of ``python -m autograd_gates``."""
    try:
        return run(argv)
    except BrokenPipeError:  # e.g. piped into head
        return OK


if __name__ == "__main__":
    raise SystemExit(main())
