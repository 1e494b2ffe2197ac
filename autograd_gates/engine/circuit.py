"""From formulas to circuits: build an ``Expr`` into ``Value`` nodes, and open composite gates.

``build(expr, values)`` makes the circuit of a tree: each variable becomes its ``Value`` (a number
becomes a labelled leaf), each op one gate, equal subtrees one shared node, and a subtree with no
variable a constant computed as Python would (``a * (2 * 3)`` multiplies ``a`` by the constant 6).

``expand(root)`` rebuilds a circuit with every composite gate (sigmoid, tanh, a - b, ...) replaced
by its composition from other gates: what ``explain(root, expand=True)`` and
``draw_dot(root, expand=True)`` show.

``as_function(expr)`` makes a tree a function of Values, ready for ``gradcheck``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .errors import GateError
from .formula import RULE_OPS, Expr, ExpressionError, format_formula, parse
from .gates import pow_gate
from .table import GATES, OPERAND_NAMES, Gate
from .value import Value, _binary, _unary, apply_gate, as_value, topological_order

__all__ = ["build", "expand", "as_function", "ExprFunction", "index_names"]

_INDEXED = re.compile(r"x(\d+)")


def index_names(expr: Expr) -> tuple[str, ...]:
    """The names a positional call binds: ``x0 .. x{n-1}`` for trees over indexed variables
    (the strategies' convention), else the variables in order of first use."""
    names = expr.variables
    indices = [_INDEXED.fullmatch(n) for n in names]
    if names and all(indices):
        n = 1 + max(int(m.group(1)) for m in indices)  # type: ignore[union-attr]
        return tuple(f"x{i}" for i in range(n))
    return names


def build(
    expr: Expr,
    values: Mapping[str, Value | float] | Sequence[Value | float],
    *,
    spans: Mapping[Expr, tuple[int, int]] | None = None,
    text: str | None = None,
) -> Value:
    """The circuit of ``expr``; ``values`` maps each variable to a Value or a number.

    A sequence binds ``index_names(expr)`` in order. A gate refusing its operands raises its
    ``GateError``; with ``text`` and ``spans`` (from ``parse_with_spans``) it becomes an
    ``ExpressionError`` pointing at the refused call, the ``GateError`` its ``__cause__``.
    """
    if not isinstance(expr, Expr):
        raise TypeError(f"build() needs an Expr, got {type(expr).__name__}")
    if not isinstance(values, Mapping):
        names = index_names(expr)
        values = list(values)
        if len(values) < len(names):
            raise IndexError(
                f"the expression uses {', '.join(names)} but only {len(values)} value(s) were given"
            )
        values = dict(zip(names, values))
    leaves: dict[str, Value] = {}
    for name in expr.variables:
        if name not in values:
            raise _missing(name, expr, spans, text)
        given = values[name]
        leaves[name] = given if isinstance(given, Value) else Value(given, name)
    made: dict[Expr, Value | float] = {}
    for node in expr.nodes():
        try:
            made[node] = _make(node, made, leaves)
        except GateError as exc:
            if text is None or spans is None:
                raise
            start, end = spans.get(node, (0, len(text)))
            raise ExpressionError(str(exc), text, start, end - start) from exc
    return as_value(made[expr])


def _missing(
    name: str, expr: Expr, spans: Mapping[Expr, tuple[int, int]] | None, text: str | None
) -> Exception:
    if text is not None and spans is not None:
        start, end = next((s for e, s in spans.items() if e.op == "var" and e.param == name), (0, len(text)))
        return ExpressionError(f"no value for {name!r}", text, start, end - start)
    return KeyError(f"no value for the variable {name!r}")


def _make(node: Expr, made: dict[Expr, Value | float], leaves: dict[str, Value]) -> Value | float:
    """One node; an op on constants only gives a constant (a float), as in Python."""
    op = node.op
    if op == "var":
        return leaves[node.param]  # type: ignore[index]
    if op == "const":
        return node.param  # type: ignore[return-value]
    if op in RULE_OPS:
        raise ValueError(f"{format_formula(node)!r} is a rule text's test, not part of a circuit")
    args = [made[a] for a in node.args]
    gate = pow_gate(node.param) if op == "powk" else GATES[op]  # type: ignore[arg-type]
    if any(isinstance(a, Value) for a in args):
        return _apply(gate, args)
    return _apply(gate, [as_value(a) for a in args]).data


def _apply(gate: Gate, args: Sequence[Value | float]) -> Value:
    if gate.arity == 2:
        return _binary(gate, args[0], args[1])
    return _unary(gate, as_value(args[0], gate.name))


def expand(root: Value, *, copy_leaves: bool = False) -> Value:
    """The same circuit with each composite gate replaced by its composition (one level deep).

    Leaves are shared with ``root``'s circuit, or copied (data, label, grad) with
    ``copy_leaves`` so a backward pass over the result leaves the original untouched.
    """
    made: dict[Value, Value] = {}
    for node in topological_order(root):
        gate = node.gate
        if gate is None:
            if copy_leaves:
                copy = Value(node.data, node.label)
                copy.grad = node.grad
                made[node] = copy
            else:
                made[node] = node
            continue
        operands = [made[p] for p in node.parents]
        if gate.composition_tree is not None:
            made[node] = build(gate.composition_tree, dict(zip(OPERAND_NAMES, operands)))
        else:
            made[node] = apply_gate(gate, *operands)
    return made[root]


class ExprFunction:
    """``f(*values)``: a tree as a function of Values, binding ``names`` in order.

    ``description`` is the tree's text and ``setup`` the Python that recreates it, which
    ``gradcheck`` prints in its "reproduce" line.
    """

    def __init__(self, expr: Expr, names: Sequence[str] | None = None) -> None:
        self.expr = expr
        self.names = tuple(names) if names is not None else index_names(expr)
        self.__name__ = "f"

    def __call__(self, *values: Value | float) -> Value:
        if len(values) != len(self.names):
            raise TypeError(
                f"f takes {len(self.names)} value(s) ({', '.join(self.names)}), got {len(values)}"
            )
        return build(self.expr, dict(zip(self.names, values)))

    @property
    def description(self) -> str:
        return str(self.expr)

    @property
    def setup(self) -> str:
        names = f", {list(self.names)!r}" if self.names != index_names(self.expr) else ""
        text = f"parse({str(self.expr)!r}){names}"
        return f"from autograd_gates import as_function, parse; f = as_function({text})"

    def __repr__(self) -> str:
        return f"as_function({self.expr!r})"


def as_function(expr: Expr | str, names: Sequence[str] | None = None) -> ExprFunction:
    """A tree (or its text) as ``f(*values) -> Value``; ``names`` orders the arguments."""
    return ExprFunction(parse(expr) if isinstance(expr, str) else expr, names)
