"""Hypothesis strategies for random, well-defined expressions: property-test your gradients.

``expressions(n_vars)`` generates ``Expr`` trees over every op of the table -- the built-in gates,
the composites, and any gate added with ``register_gate`` -- often with *shared* subexpressions
(``e * e``, ``op(u(e), e + c)``), which become shared nodes of the circuit: the cases that catch
ordering and accumulation bugs in a backward pass. ``expression_cases(n_vars)`` pairs an
expression with a point comfortably inside its domain (``in_domain``: away from every gate's
domain edges and kinks, and from huge values). Usage::

    from hypothesis import given, reject, settings
    from autograd_gates import GradcheckInconclusive, gradcheck
    from autograd_gates.strategies import expression_cases

    @settings(max_examples=50, deadline=None)
    @given(expression_cases(n_vars=2))
    def test_backward_matches_numerical(case):
        expr, xs = case
        try:
            gradcheck(expr, xs)
        except GradcheckInconclusive:
            reject()

Failing examples shrink to small expressions, printed as ``parse('...')`` lines you can paste back.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from hypothesis import reject
from hypothesis import strategies as st

from ..engine.circuit import index_names
from ..engine.formula import Expr, const, var
from ..engine.gates import pow_gate
from ..engine.table import GATES

__all__ = ["expressions", "expression_cases", "in_domain", "operations", "EXPONENTS", "CONSTANTS"]

# Exponents of the a ** k gate: the slides' favourites plus any value in range.
EXPONENTS = st.sampled_from([2.0, 3.0, 1.0, 0.0, -1.0, -2.0, 0.5, 1.5, -0.5]) | st.floats(
    -2.5, 2.5, allow_nan=False, allow_subnormal=False
)
CONSTANTS = st.sampled_from([1.0, 2.0, -1.0, 0.5, 0.0]) | st.floats(
    -3.0, 3.0, allow_nan=False, allow_subnormal=False
)


def operations(arity: int | None = None) -> tuple[str, ...]:
    """The ops a random expression may use, read from the table now: its gates and ``powk``
    (the ``a ** k`` family). ``arity`` keeps the unary (1) or binary (2) ones."""
    ops = [name for name, gate in GATES.items() if arity in (None, gate.arity)]
    if arity in (None, 1):
        ops.append("powk")
    return tuple(ops)


def _arity(op: str) -> int:
    return 1 if op == "powk" else GATES[op].arity


def expressions(
    n_vars: int = 2,
    *,
    max_leaves: int = 8,
    ops: Iterable[str] | None = None,
    constants: st.SearchStrategy[float] = CONSTANTS,
    exponents: st.SearchStrategy[float] = EXPONENTS,
) -> st.SearchStrategy[Expr]:
    """Random expressions in the variables ``x0 .. x{n_vars-1}``.

    ``ops`` restricts the operations (names from ``operations()``); by default every op of the
    table is used, so a gate added with ``register_gate`` is generated too. ``max_leaves``
    bounds the size.
    """
    if n_vars < 1:
        raise ValueError(f"n_vars must be at least 1, got {n_vars!r}")
    known = operations()
    chosen = known if ops is None else tuple(ops)
    unknown = [op for op in chosen if op not in known]
    if unknown:
        raise ValueError(f"unknown operation(s) {unknown}; known: {', '.join(known)}")
    unary = [op for op in chosen if _arity(op) == 1]
    binary = [op for op in chosen if _arity(op) == 2]
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


def in_domain(expr: Expr, xs: Sequence[float], *, margin: float = 1e-3, max_abs: float = 1e8) -> bool:
    """True when ``xs`` (values of ``x0, x1, ...``) lies comfortably inside every gate's domain.

    Every intermediate value must be finite with ``|v| <= max_abs``, and each gate must accept
    its operands and stay on the same smooth piece when any one operand moves by
    ``margin * max(1, |operand|)`` either way: away from log's 0, a zero divisor, relu's and
    abs's kink and a tie of max -- unless both operands are the same expression (``max(e, e)``
    is a permanent tie, and smooth).
    """
    values: dict[Expr, float] = {}
    bound = dict(zip(index_names(expr), (float(x) for x in xs)))
    for node in expr.nodes():
        op = node.op
        if op == "var":
            if node.param not in bound:
                return False
            values[node] = bound[node.param]  # type: ignore[index]
            continue
        if op == "const":
            values[node] = node.param  # type: ignore[assignment]
            continue
        gate = pow_gate(node.param) if op == "powk" else GATES[op]  # type: ignore[arg-type]
        operands = [values[a] for a in node.args]
        try:
            v = gate.forward(*operands)
        except (ValueError, ArithmeticError):
            return False
        if not math.isfinite(v) or abs(v) > max_abs:
            return False
        same = len(node.args) == 2 and node.args[0] == node.args[1]
        if not _comfortable(gate, operands, margin, same):
            return False
        values[node] = v
    return True


def _comfortable(gate, operands: list[float], margin: float, same: bool) -> bool:  # noqa: ANN001
    """The gate accepts its operands and stays on one smooth piece when they move by ``margin``.

    Operands that are the same expression (``max(e, e)``) can only move together: along that
    diagonal a tie of max stays a tie (smooth), while ``leaky_relu(e, e)`` still meets its kink at 0.
    """
    here = gate.piece(*operands) if gate.piece is not None else None
    moves = []
    for i, v in enumerate(operands):
        step = margin * max(1.0, abs(v))
        for moved in (v - step, v + step):
            moves.append([moved] * len(operands) if same else [*operands[:i], moved, *operands[i + 1 :]])
        if same:
            break
    for nearby in moves:
        try:
            gate.forward(*nearby)
        except (ValueError, ArithmeticError):
            return False
        if here is not None and gate.piece(*nearby) != here:
            return False
    return here is None or same or 0 not in here


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

    ``xs`` gives ``x0 .. x{n_vars-1}`` and satisfies ``in_domain(expr, xs, margin=margin,
    max_abs=max_abs)``; up to ``tries`` points are drawn per expression before the example is
    rejected.
    """
    expr = draw(expressions(n_vars, max_leaves=max_leaves, ops=ops))
    coordinate = st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    for _ in range(tries):
        xs = tuple(draw(st.tuples(*[coordinate] * n_vars)))
        if in_domain(expr, xs, margin=margin, max_abs=max_abs):
            return expr, xs
    reject()


def _unary(op: str, e: Expr, k: float) -> Expr:
    return Expr("powk", (e,), k) if op == "powk" else Expr(op, (e,))


def _binary(op: str, a: Expr, b: Expr) -> Expr:
    return Expr(op, (a, b))


def _twice(op: str, e: Expr) -> Expr:
    return Expr(op, (e, e))


def _reuse(op1: str, u: str, k: float, op2: str, e: Expr, other: Expr) -> Expr:
    return _binary(op1, _unary(u, e, k), _binary(op2, e, other))
