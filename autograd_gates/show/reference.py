"""The gate reference (``docs/gates.md``), rendered from the op table.

Nothing here is written by hand about a particular gate: each section reads the gate's entry
(its forward, its rule in the slides' notation, its domain, its definition and, for a composite,
its composition), evaluates its forward and local derivatives at a sample point, checks them
with a central difference, and reads its convention at a kink off its ``piece`` and
``partials``. A gate added to the table appears in the reference the next time it is generated::

    python -m autograd_gates.show.reference docs/gates.md     # write the file
    python -m autograd_gates.show.reference --check docs/gates.md  # exit 1 if it is stale

``tests/test_gate_reference.py`` fails when the committed file differs from ``render()``.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from ..engine.circuit import build
from ..engine.gates import gate_examples
from ..engine.table import GATES, OPERAND_NAMES, Gate
from ..engine.value import Value, topological_order

__all__ = ["render", "gate_section", "sample_operands", "kink_points", "value_syntax", "main"]

# Points tried, in order, for a gate's worked example: the first one inside its domain wins.
_UNARY_SAMPLES: tuple[tuple[float, ...], ...] = ((2.0,), (0.5,), (-2.0,))
_BINARY_SAMPLES: tuple[tuple[float, ...], ...] = ((2.0, -3.0), (2.0, 3.0), (3.0, 2.0), (-2.0, 0.5))
# Points where a non-smooth gate may switch pieces (a 0 in piece(...) there).
_UNARY_KINKS: tuple[tuple[float, ...], ...] = ((0.0,),)
_BINARY_KINKS: tuple[tuple[float, ...], ...] = ((1.0, 1.0), (0.0, 0.5), (1.0, 0.0), (0.0, 0.0))
_STEP = 1e-6  # central-difference step for the check shown beside each example

# How a user reaches the Python operators' gates from a Value; functions are methods, a.name(...).
_OPERATOR_SYNTAX = {
    "add": "`a + b`, `a + 2`, `2 + a`",
    "sub": "`a - b`, `a - 2`, `2 - a`",
    "mul": "`a * b`, `2 * a`",
    "neg": "`-a`",
    "div": "`a / b`, `1 / a`",
    "pow": "`a ** b` with a `Value` exponent `b`; `2 ** a`",
}


def _num(x: float) -> str:
    """A float shown with 6 significant digits, so the text is the same on every platform."""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.6g}"
    return "0" if text == "-0" else text


def _operands_text(gate: Gate, point: Sequence[float]) -> str:
    return ", ".join(f"{name} = {_num(v)}" for name, v in zip(gate.operands, point))


def _defined(gate: Gate, point: Sequence[float]) -> bool:
    try:
        gate.forward(*point)
    except (ValueError, ZeroDivisionError, OverflowError):
        return False
    return True


def sample_operands(gate: Gate) -> tuple[float, ...]:
    """The first sample point inside the gate's domain and off its kinks."""
    candidates = _UNARY_SAMPLES if gate.arity == 1 else _BINARY_SAMPLES
    for point in candidates:
        if _defined(gate, point) and not gate.at_kink(*point):
            return point
    raise ValueError(f"gate {gate.name!r} ({gate.expr}) is defined at none of the sample points {candidates}")


def kink_points(gate: Gate) -> list[tuple[float, ...]]:
    """Sample points where the gate's ``piece`` says two smooth pieces meet (empty for a smooth gate)."""
    candidates = _UNARY_KINKS if gate.arity == 1 else _BINARY_KINKS
    return [p for p in candidates if gate.at_kink(*p)]


def _central_difference(gate: Gate, point: Sequence[float], i: int) -> float:
    up, down = list(point), list(point)
    up[i] += _STEP
    down[i] -= _STEP
    return (gate.forward(*up) - gate.forward(*down)) / (2 * _STEP)


def value_syntax(gate: Gate) -> str:
    """How to build this gate from ``Value`` objects."""
    if gate.exponent is not None:
        k = gate.symbol.removeprefix("**")
        return f"`a ** {k}`" if not k.startswith("-") else f"`a ** ({k})`"
    if gate.name in _OPERATOR_SYNTAX:
        return _OPERATOR_SYNTAX[gate.name]
    operands = ", ".join(gate.operands)
    if gate.builtin and callable(getattr(Value, gate.name, None)):
        others = ", ".join(gate.operands[1:])
        default = f" (`b` defaults to {_num(gate.defaults[0])})" if gate.defaults else ""
        extra = "; also `autograd_gates.maximum(a, b)`" if gate.name == "max" else ""
        extra = "; also `autograd_gates.minimum(a, b)`" if gate.name == "min" else extra
        return f"`a.{gate.name}({others})`{default}{extra}"
    return f"`apply_gate({gate.name!r}, {operands})`"


def _title(gate: Gate) -> str:
    return f"`{gate.name}` (`x = {gate.expr}`)" if gate.exponent is not None else f"`{gate.name}`"


def gate_section(gate: Gate) -> str:
    """One gate's section: forward, rule, domain, a checked example and its convention at kinks."""
    point = sample_operands(gate)
    x = gate.forward(*point)
    partials = gate.partials(*point, x)
    rows = [f"| forward | `x = {gate.expr}` |"]
    if gate.definition:
        rows.append(f"| definition | `{gate.definition}` |")
    rows += [
        f"| rule | `{gate.rule}` |",
        f"| domain | {f'`{gate.domain}`' if gate.domain else 'every real operand'} |",
    ]
    if gate.composition:
        rows.append(f"| composite of | `{gate.composition}`: {_gates_used(gate)} |")
    rows.append(f"| with `Value` | {value_syntax(gate)} |")
    if gate.note:
        rows.append(f"| note | {gate.note} |")
    lines = [
        f"### {_title(gate)}",
        "",
        "| | |",
        "|---|---|",
        *rows,
        "",
        f"Worked example at {_operands_text(gate, point)}: x = {_num(x)}.",
        "",
        "| operand | local derivative (rule) | value | central difference (h = 1e-6) |",
        "|---|---|---|---|",
    ]
    for i, (name, text) in enumerate(zip(gate.operands, gate.local)):
        numeric = _central_difference(gate, point, i)
        lines.append(f"| `{name}` | `d{name} = {text} * dx` | {_num(partials[i])} | {_num(numeric)} |")
    lines.append("")
    lines.append(_convention(gate))
    lines.append("")
    return "\n".join(lines)


def _convention(gate: Gate) -> str:
    """What the gate does where its smooth pieces meet, read from ``piece`` and ``partials``."""
    if gate.piece is None:
        return "**Convention:** none needed; the gate is smooth on its whole domain."
    kinks = kink_points(gate)
    if not kinks:
        return "**Convention:** its pieces meet away from the sampled points; see its rule."
    kink = kinks[0]  # for a binary gate every tie behaves alike; one is enough to show
    where = _operands_text(gate, kink)
    if not _defined(gate, kink):
        return (
            f"**Convention:** none needed; its pieces meet at {where}, which is outside its domain "
            "(the gate refuses it)."
        )
    taken = gate.partials(*kink, gate.forward(*kink))
    shown = ", ".join(f"d{n} = {_num(d)} * dx" for n, d in zip(gate.operands, taken))
    return f"**Convention** at {where}, where two pieces meet: {shown}."


def _gates_used(gate: Gate) -> str:
    """The gates of the composition, in the order backward() meets them in reverse (operands first)."""
    leaves = [Value(v, n) for v, n in zip(sample_operands(gate), OPERAND_NAMES)]
    root = build(gate.composition_tree, dict(zip(gate.operands, leaves)))  # type: ignore[arg-type]
    names = [node.gate.name for node in topological_order(root) if node.gate is not None]
    return ", ".join(f"`{n}`" for n in names)


def render() -> str:
    """The whole reference as Markdown."""
    gates = gate_examples()
    table = sorted(GATES)
    composites = [g for g in gates if g.is_composite]
    primitives = [g for g in gates if not g.is_composite]
    parts = [
        "# Gate reference",
        "",
        "<!-- Generated by `python -m autograd_gates.show.reference docs/gates.md` from the op table in",
        "     autograd_gates/engine/gates.py. Do not edit by hand: tests/test_gate_reference.py fails when",
        "     it is stale. -->",
        "",
        "Every operation `autograd_gates` differentiates is one **gate** of the op table in",
        "`autograd_gates/engine/gates.py`. Each gate is defined once, by its texts: its local derivatives",
        "in the slides' notation -- the output is `x`, the operands `a` and `b`, and `dx` is the gradient",
        "arriving from above -- and its domain. Those texts are compiled into the functions that compute",
        "the gradient, so the rule printed here is the code that runs. The backward pass multiplies each",
        "local derivative by `dx` and **adds** it to the operand's gradient (see",
        "[How backward works](backward.md)).",
        "",
        f"The table holds {len(table)} gates: {', '.join(f'`{n}`' for n in table)}. A number exponent",
        "(`a ** 2`, `a ** 0.5`) uses the `pow_gate(k)` family, shown below at representative `k`.",
        "",
        "A **composite** gate (`a - b`, `-a`, sigmoid, tanh, ...) is one node, one trace line and one drawn",
        "op, with its own rule; `explain(root, expand=True)` and `draw_dot(root, expand=True)` show it",
        "built from other gates instead, and the tests prove its rule against backprop through that",
        "composition. A gate added at run time with `register_gate` joins this table.",
        "",
        "Each worked example is evaluated from the table and checked against a central difference",
        "`(f(a + h) - f(a - h)) / 2h`. For thorough checks of your own expressions see",
        "[Checking gradients](gradcheck.md).",
        "",
        "## Primitive gates",
        "",
        *(gate_section(g) for g in primitives),
        "## Composite gates",
        "",
        *(gate_section(g) for g in composites),
        "## Conventions",
        "",
        "- A **tie** in `max(a, b)` or `min(a, b)` splits `dx` evenly between `a` and `b`: it is what",
        "  central differences see, and PyTorch's rule. So `maximum(a, a)` has gradient 1, and `abs` has",
        "  derivative 0 at 0.",
        "- **ReLU** follows the slides: `x = max(0, a)`, `da = a > 0 ? dx : 0`, so relu'(0) = 0. It is",
        "  its own gate because the max gate would split the tie at 0. `leaky_relu` and `elu` take their",
        "  left piece at 0 as well.",
        "- Outside its domain a gate **refuses** its operands with an error naming the gate, the operand's",
        "  label and value (a `ValueError`, `ZeroDivisionError` or `OverflowError` subclass); the graph",
        "  built before the error keeps working.",
        "- Where a local derivative is infinite (`sqrt` and `a ** 0.5` at 0), backward passes nothing",
        "  when the upstream `dx` is 0, and otherwise raises `GateGradientError` naming the gate.",
        "",
    ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Print the reference, write it to PATH, or (``--check``) exit 1 if PATH is stale."""
    parser = argparse.ArgumentParser(
        prog="python -m autograd_gates.show.reference",
        description="Render the gate reference from the gate table.",
    )
    parser.add_argument("path", nargs="?", help="file to write (default: print to stdout)")
    parser.add_argument("--check", action="store_true", help="exit 1 if PATH differs from the table")
    args = parser.parse_args(argv)
    text = render()
    if args.path is None:
        if args.check:
            parser.error("--check needs a PATH")
        sys.stdout.write(text)
        return 0
    path = Path(args.path)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is stale: run python -m autograd_gates.show.reference {path}", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        parser.error(f"cannot write {str(path)!r}: {exc.strerror}")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
