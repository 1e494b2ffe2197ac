"""``autograd-gates``: evaluate an expression, backpropagate, and show the work.

    autograd-gates                                   # the slides' example
    autograd-gates "((a*b + c)*d)**2" a=2 b=-3 c=10 d=-2 --svg circuit.svg --html steps.html

prints the value, a gradient table and the derivation in the slides' notation; flags
write the drawing (SVG/PNG/DOT), the step-by-step HTML page and LaTeX (``-`` for standard
output; see ``outputs.py``), and run ``gradcheck``. The expression is parsed by
``engine/formula.py`` (a whitelist), never evaluated as Python; it may start with ``-``
(``"-a*b"``). Every message shows control characters escaped (``\\x1b``): arguments are
user text. Exit codes: 0 ok, 1 gradcheck failed, 2 bad expression or arguments (or a gate
refused its operands), 3 an output could not be written (no renderer, a circuit too large
to draw, I/O error).
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
import sys
import textwrap
from collections.abc import Sequence
from typing import NoReturn, TextIO

from ..engine.circuit import build
from ..engine.formula import CONSTANTS, Expr, ExpressionError, parse, parse_with_spans
from ..engine.table import GATES
from ..engine.value import Value, apply_gate, topological_order
from ..show.escape import printable
from ..show.trace import explain, format_number
from .outputs import OUTPUTS, output_problem, to_stdout, write_outputs

__all__ = ["main", "SLIDES_EXAMPLE", "SLIDES_VALUES"]

SLIDES_EXAMPLE = "((a*b + c)*d)**2"
SLIDES_VALUES = {"a": 2.0, "b": -3.0, "c": 10.0, "d": -2.0}

OK, GRADCHECK_FAILED, BAD_INPUT, OUTPUT_FAILED = 0, 1, 2, 3

_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)=(.*)", re.DOTALL)

def _function_list() -> str:
    names = {n for g in GATES.values() if g.operator is None for n in (g.name, *g.aliases)}
    names = sorted(names | {"identity"})
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
  autograd-gates "-a*b" a=1 b=2 --svg - > c.svg       (- is standard output, for any output)
  autograd-gates a=3                                  (the slides' example with a=3)

the expression: numbers, names, the constants {_CONSTANT_LIST}, + - * / ** (Python precedence), unary -,
parentheses, and calls to
{_FUNCTION_LIST}
It is parsed, never run as Python.

outputs: a file name, or - for standard output (the report then goes to standard error).
A circuit too large to lay out quickly is not drawn (the message says why; --dot still works).

exit codes: 0 ok; 1 gradcheck failed; 2 bad expression or arguments, or a gate refused its
operands (log of a negative number, division by zero); 3 an output could not be written
(no Graphviz renderer, a circuit too large to draw, a file error)."""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, with its messages escaped (they quote the arguments) and no abbreviated options."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            known = [s for a in self._actions for s in a.option_strings]
            for word in message.split(":", 1)[1].split():
                close = difflib.get_close_matches(word, known, 1, 0.6) if word.startswith("--") else []
                if close:
                    message += f"; did you mean {close[0]}?"
            message += ' (an expression starting with - can also go after --: -- "-a*b" a=1 b=2)'
        self.print_usage(sys.stderr)
        self.exit(BAD_INPUT, f"{self.prog}: error: {_printable_lines(message)}\n")


def _parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(
        prog="autograd-gates",
        description="Evaluate an expression, backpropagate, and show the derivation the way the slides "
        "write it (x1 = a*b + c, ..., dx2 = 2 * x2 * dx, ...).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # "--r*a" is an expression, not an abbreviation of --rules
    )
    p.add_argument("expression", nargs="?", help=f"the expression (default: {SLIDES_EXAMPLE})")
    p.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a value for each name, e.g. a=2 b=-3")
    out = p.add_argument_group("outputs (PATH is a file name, or - for standard output)")
    out.add_argument("--svg", metavar="PATH", help="write " + OUTPUTS["svg"][0])
    out.add_argument("--png", metavar="PATH", help="write " + OUTPUTS["png"][0])
    out.add_argument("--dot", metavar="PATH", help="write " + OUTPUTS["dot"][0])
    out.add_argument(
        "--rules", action="store_true", help="label the drawing's edges with local rules and numbers"
    )
    out.add_argument("--html", metavar="PATH", help="write " + OUTPUTS["html"][0])
    out.add_argument("--latex", metavar="PATH", help="write " + OUTPUTS["latex"][0])
    out.add_argument("--markdown", action="store_true", help="print the derivation as Markdown")
    out.add_argument("--every-gate", action="store_true", help="one line per gate (no folding into sums)")
    out.add_argument("--no-derivation", action="store_true", help="print only the value and the gradients")
    out.add_argument(
        "--renderer", metavar="PATH", help="Graphviz program for drawings (default: graphviz-pure)"
    )
    check = p.add_argument_group("checking")
    check.add_argument("--gradcheck", action="store_true", help="compare the gradients with numerical ones")
    return p


def _printable_lines(text: str) -> str:
    """``text`` with control characters escaped, line breaks kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


def _split_expression(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[list[str], str | None]:
    """Take out an expression starting with ``-`` ("-a*b", "--a"), which argparse would read as an option.

    It is the first argument that starts with ``-`` and is not an option, a value of one, or
    ``-h``/``--help``, provided no other expression or value came before it. A word that
    could be a mistyped option (``--svgg``, ``--no-such-flag``) is the expression only if it
    parses and every name in it is given a value (``--a a=1``); else argparse refuses it.
    """
    options = [a for a in parser._actions if a.option_strings]
    takes_value = {s for a in options if a.nargs is None for s in a.option_strings}
    flags = {s for a in options if a.nargs == 0 for s in a.option_strings}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            break
        if arg in takes_value:
            i += 2
            continue
        if arg in flags or arg.split("=", 1)[0] in takes_value:
            i += 1
            continue
        if not arg.startswith("-") or arg == "-":
            return argv, None  # a positional came first: anything after it is argparse's to judge
        if re.fullmatch(r"-[A-Za-z]|--\w[\w-]*", arg) and not _has_values(arg, argv[i + 1 :]):
            return argv, None
        return argv[:i] + argv[i + 1 :], arg
    return argv, None


def _has_values(expression: str, rest: list[str]) -> bool:
    try:
        names = parse(expression).variables
    except ExpressionError:
        return False
    given = {m.group(1) for m in map(_ASSIGNMENT.fullmatch, rest) if m}
    return bool(names) and set(names) <= given


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


def _say(message: str) -> None:
    print(_printable_lines(message), file=sys.stderr)


def run(argv: Sequence[str] | None = None) -> int:
    """The command; returns the exit code (``main`` exits with it)."""
    parser = _parser()
    arguments, leading_minus = _split_expression(parser, list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(arguments)
    expression, assignments = args.expression, list(args.values)
    if leading_minus is not None:  # what argparse took for the expression is the first value
        assignments = ([expression] if expression is not None else []) + assignments
        expression = leading_minus
    problem = output_problem(args, stdout_is_terminal=sys.stdout.isatty())
    if problem:
        parser.error(problem)
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
        _say(f"autograd-gates: {exc}")
        return BAD_INPUT
    root.backward()
    derivation = explain(root, inline_sums=not args.every_gate)
    name = derivation.output

    report = sys.stderr if to_stdout(args) else sys.stdout  # stdout then holds one output alone
    shown = ", ".join(f"{n} = {format_number(v)}" for n, v in values.items())
    print(f"{name} = {printable(str(parsed))}" + (f"   at {shown}" if shown else ""), file=report)
    print(f"{name} = {format_number(root.data, 12)}", file=report)
    if leaves:
        print(file=report)
        print("gradients:", file=report)
        print(_gradient_table(name, leaves), file=report)
    if not args.no_derivation:
        print(file=report)
        print("derivation (names as on the slides; numbers from the graph):", file=report)
        print(derivation.markdown() if args.markdown else derivation.text(), file=report)
    report.flush()

    status = write_outputs(args, root, derivation, _say)
    if args.gradcheck:
        status = _gradcheck(parsed, root, leaves, status, report)
    return status


def _gradcheck(parsed: Expr, root: Value, leaves: dict[str, Value], status: int, out: TextIO) -> int:
    from ..checks.checking import gradcheck  # written beside this module; imported only when asked for

    names = list(leaves)
    if not names:
        print("\ngradcheck: the expression has no inputs to check", file=out)
        return status

    f = _ExpressionFunction(parsed, root, leaves)
    report = gradcheck(f, [leaves[n].data for n in names], labels=names, raise_exception=False)
    print(file=out)
    print(f"gradcheck: {report.outcome}", file=out)
    print(report, file=out)
    return max(status, GRADCHECK_FAILED) if report.outcome == "fail" else status


class _ExpressionFunction:
    """The built circuit as ``f(*values)``, described in gradcheck's report by the expression's text.

    A call replays the circuit's gates, in order, on the new inputs: the very circuit whose
    gradients are checked, at the cost of one gate application per node. (Rebuilding it
    through the parser each time cost several times more: gradcheck calls ``f`` about four
    times per input, so a sum of n inputs costs n * 4 * n gate applications either way.)
    """

    def __init__(self, parsed: Expr, root: Value, leaves: dict[str, Value]) -> None:
        names = list(leaves)
        self.description = f"{', '.join(names)} -> {parsed}"
        text = f"parse({str(parsed)!r}), {names!r}"
        self.setup = f"from autograd_gates import as_function, parse; f = as_function({text})"
        order = topological_order(root)
        position = {node: i for i, node in enumerate(order)}
        argument = {leaf: k for k, leaf in enumerate(leaves.values())}
        # One step per node: ("input", k), ("constant", value) or (gate, operand positions).
        self._steps: list[tuple[object, object]] = []
        for node in order:
            if node in argument:
                self._steps.append(("input", argument[node]))
            elif node.gate is None:
                self._steps.append(("constant", node.data))
            else:
                self._steps.append((node.gate, tuple(position[p] for p in node.parents)))

    def __call__(self, *values: Value) -> Value:
        results: list[Value] = []
        add = results.append
        for kind, detail in self._steps:
            if kind == "input":
                add(values[detail])
            elif kind == "constant":
                add(Value(detail))
            else:
                add(apply_gate(kind, *(results[i] for i in detail)))
        return results[-1]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``autograd-gates`` command and of ``python -m autograd_gates``."""
    try:
        return run(argv)
    except BrokenPipeError:  # e.g. piped into head
        return OK


if __name__ == "__main__":
    raise SystemExit(main())
