"""Exact references: a tree's value and gradient in 60-digit arithmetic, sharing no rule with the engine.

``exact_value(expr, point)`` evaluates with mpmath: the arithmetic operators and the base functions
of mathematics (exp, log, sqrt, sin, cos, arctan, tanh) are mpmath's own, and every other op is
evaluated through its ``definition`` in the table (sigmoid as ``1 / (1 + exp(-a))``, relu as
``max(0, a)``): the mathematics, not the engine's stable float forward, and never a local rule.
``exact_grad(expr, point)`` takes central differences of that with a step of ``1e-25 * max(1, |x|)``,
so it is exact to float precision wherever the function is smooth near the point. A registered op
without a definition is evaluated by its float forward, and is only as exact as a float.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import mpmath

from ..engine.circuit import index_names
from ..engine.formula import Expr
from ..engine.table import GATES

__all__ = ["exact_value", "exact_grad", "DIGITS"]

DIGITS = 60

# mpmath's counterparts of the functions mathematics starts from (as libm is for floats).
BASE_FUNCTIONS: dict[str, Callable[..., mpmath.mpf]] = {
    "exp": mpmath.exp,
    "log": mpmath.log,
    "sqrt": mpmath.sqrt,
    "sin": mpmath.sin,
    "cos": mpmath.cos,
    "arctan": mpmath.atan,
    "tanh": mpmath.tanh,
    "abs": abs,
    "max": max,
    "min": min,
}
_ARITHMETIC: dict[str, Callable[..., mpmath.mpf]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "pow": lambda a, b: a**b,
}
_TESTS: dict[str, Callable[..., bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}


def _point(expr: Expr, point: Mapping[str, float] | Sequence[float]) -> dict[str, mpmath.mpf]:
    if isinstance(point, Mapping):
        return {name: mpmath.mpf(float(v)) for name, v in point.items()}
    return {name: mpmath.mpf(float(v)) for name, v in zip(index_names(expr), point)}


def _value(expr: Expr, values: Mapping[str, mpmath.mpf]) -> mpmath.mpf:
    done: dict[Expr, mpmath.mpf] = {}
    for node in expr.nodes():
        done[node] = _op(node, [done[a] for a in node.args], values)
    return done[expr]


def _op(node: Expr, args: list[mpmath.mpf], values: Mapping[str, mpmath.mpf]) -> mpmath.mpf:
    op = node.op
    if op == "var":
        return values[node.param]  # type: ignore[index]
    if op == "const":
        return mpmath.mpf(node.param)
    if op == "powk":
        k = node.param
        if k == 0:
            return mpmath.mpf(1)  # 0 ** 0 is 1, as for floats and the engine
        return args[0] ** (int(k) if k == int(k) else mpmath.mpf(k))  # type: ignore[arg-type]
    if op == "if":
        then, test, otherwise = args
        return then if test else otherwise
    if op in _TESTS:
        return mpmath.mpf(_TESTS[op](*args))
    if op in ("and", "or"):
        return mpmath.mpf(bool(args[0]) and bool(args[1]) if op == "and" else bool(args[0]) or bool(args[1]))
    if op in _ARITHMETIC:
        return _ARITHMETIC[op](*args)
    if op in BASE_FUNCTIONS:
        return BASE_FUNCTIONS[op](*args)
    gate = GATES[op]
    if gate.definition_tree is not None:
        return _value(gate.definition_tree, dict(zip(gate.operands, args)))
    return mpmath.mpf(gate.forward(*(float(a) for a in args)))  # a registered op with no definition


def exact_value(expr: Expr, point: Mapping[str, float] | Sequence[float], *, digits: int = DIGITS) -> float:
    """The tree's value at ``point`` (names -> numbers, or numbers for ``x0, x1, ...``), rounded once."""
    with mpmath.workdps(digits):
        return float(_value(expr, _point(expr, point)))


def exact_grad(
    expr: Expr, point: Mapping[str, float] | Sequence[float], *, digits: int = DIGITS
) -> list[float]:
    """The gradient at ``point`` by ``digits``-digit central differences, one entry per variable
    (in ``index_names(expr)`` order for a sequence, else the mapping's order)."""
    with mpmath.workdps(digits):
        values = _point(expr, point)
        grads = []
        for name in values:
            h = mpmath.mpf("1e-25") * max(mpmath.mpf(1), abs(values[name]))
            up = _value(expr, {**values, name: values[name] + h})
            down = _value(expr, {**values, name: values[name] - h})
            grads.append(float((up - down) / (2 * h)))
        return grads
