"""Hypothesis strategies for random, well-defined expressions: property-test your gradients.

``expressions(n_vars)`` generates ``Expr`` trees over every gate of the table and every
composed function, often with *shared* subexpressions (``e * e``, ``op(u(e), e + c)``),
which become shared nodes of the circuit -- the cases that catch ordering and
accumulation bugs in a backward pass. ``expression_cases(n_vars)`` pairs an expression
with a point comfortably inside its domain (``Expr.in_domain``: away from log's 0, a zero
divisor, relu's and abs's kink, max ties, exp overflow). Usage::

    from hypothesis import given, reject, settings
    from autograd_gates import gradcheck, GradcheckInconclusive
    from autograd_gates.strategies import expression_cases

    @settings(max_examples=50, deadline=None)
    @given(expression_cases(n_vars=2))
    def test_backward_matches_numerical(case):
        expr, xs = case
        try:
            gradcheck(expr.as_function(), xs)
        except GradcheckInconclusive:
            reject()

Failing examples shrink to small expressions, printed as Python you can paste back
(``from autograd_gates.expressions import *``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hypothesis import reject
from hypothesis import strategies as st

from ..expressions import OPS, Expr, const, var

__all__ = ["expressions", "expression_cases", "UNARY_OPS", "BINARY_OPS", "EXPONENTS"]

UNARY_OPS = tuple(name for name, spec in OPS.items() if spec.arity == 1)
BINARY_OPS = tuple(name for name, spec in OPS.items() if spec.arity == 2)
# Exponents of the number-exponent pow gate: the slides' favourites plus any value in range.
EXPONENTS = st.sampled_from([2.0, 3.0, 1.0, 0.0, -1.0, -2.0, 0.5, 1.5, -0.5]) | st.floats(
    -2.5, 2.5, allow_nan=False, allow_subnormal=False
)
CONSTANTS = st.sampled_from([1.0, 2.0, -1.0, 0.5, 0.0]) | st.floats(
    -3.0, 3.0, allow_nan=False, allow_subnormal=False
)


def expressions(
    n_vars: int = 2,
    *,
    max_leaves: int = 8,
    ops: Iterable[str] | None = None,
    constants: st.SearchStrategy[float] = CONSTANTS,
    exponents: st.SearchStrategy[float] = EXPONENTS,
) -> st.SearchStrategy[Expr]:
    """Random expressions in the variables ``x0 .. x{n_vars-1}``.

    ``ops`` restricts the operations (names from ``autograd_gates.expressions.OPS``:
    gates ``add mul div pow powk max relu exp log arctan`` and composed ``sub neg min abs
    sigmoid tanh``); by default every one is used. ``max_leaves`` bounds the size.
    """
    if n_vars < 1:
        raise ValueError(f"n_vars must be at least 1, got {n_vars!r}")
    chosen = tuple(OPS) if ops is None else tuple(ops)
    unknown = [op for op in chosen if op not in OPS]
    if unknown:
        raise ValueError(f"unknown operation(s) {unknown}; known: {', '.join(OPS)}")
    unary = [op for op in chosen if OPS[op].arity == 1]
    binary = [op for op in chosen if OPS[op].arity == 2]
    if not unary and not binary:
        raise ValueError("ops must name at least one operation")

    variables = st.integers(0, n_vars - 1).map(var)
    leaves = st.one_of(variables, variables, constants.map(const))

    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        options = []
        if unary:
            options.append(st.builds(_unary, st.sampled_from(unary), children, exponents))
        if binary:
            ops_b = st.sampled_from(binary)
            options.append(st.builds(_binary, ops_b, children, children))
            # e op e: one node used twice by the same gate (e * e, max(e, e)).
            options.append(st.builds(_twice, ops_b, children))
        if unary and binary:
            # op1(u(e), op2(e, other)): e feeds two gates at different depths.
            options.append(
                st.builds(
                    _reuse,
                    st.sampled_from(binary),
                    st.sampled_from(unary),
                    exponents,
                    st.sampled_from(binary),
                    children,
                    children,
                )
            )
        return st.one_of(options)

    return st.recursive(leaves, extend, max_leaves=max_leaves)


@st.composite
def expression_cases(
    draw: st.DrawFn,
    n_vars: int = 2,
    *,
    lo: float = -3.0,
    hi: float = 3.0,
    margin: float = 1e-3,
    max_abs: float = 1e8,
    max_leaves: int = 8,
    ops: Sequence[str] | None = None,
    tries: int = 3,
) -> tuple[Expr, tuple[float, ...]]:
    """``(expr, xs)``: a random expression and a point in ``[lo, hi]`` inside its domain.

    The point satisfies ``expr.in_domain(xs, margin=margin, max_abs=max_abs)``; up to
    ``tries`` points are drawn per expression before the example is rejected.
    """
    expr = draw(expressions(n_vars, max_leaves=max_leaves, ops=ops))
    coordinate = st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    for _ in range(tries):
        xs = tuple(draw(st.tuples(*[coordinate] * n_vars)))
        if expr.in_domain(xs, margin=margin, max_abs=max_abs):
            return expr, xs
    reject()


def _unary(op: str, e: Expr, k: float) -> Expr:
    return Expr(op, (e,), k if op == "powk" else None)


def _binary(op: str, a: Expr, b: Expr) -> Expr:
    return Expr(op, (a, b))


def _twice(op: str, e: Expr) -> Expr:
    return Expr(op, (e, e))


def _reuse(op1: str, u: str, k: float, op2: str, e: Expr, other: Expr) -> Expr:
    return _binary(op1, _unary(u, e, k), _binary(op2, e, other))
