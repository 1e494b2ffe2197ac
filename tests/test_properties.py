"""Property tests over random expressions, and the expression/strategy machinery they use.

* reverse mode agrees with the independent 60-digit decimal reference: |a - r| <= 1e-12 +
  1e-9 * max(|a|, |r|) (1e-9 relative, absolute floor 1e-12);
* reverse mode agrees with gradcheck (an inconclusive check is rejected, not counted);
* at kinks and ties (small-integer inputs hit them often) gradcheck never fails;
* a broken mul rule in any random circuit that contains a mul is caught and named.
"""

from __future__ import annotations

import dataclasses
import math
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

from autograd_gates import GATES, GradcheckInconclusive, Value, gradcheck
from autograd_gates.engine import value as value_module
from autograd_gates.engine.value import topological_order
from autograd_gates.expressions import (
    COMPOSED_OPS,
    GATE_OPS,
    OPS,
    Expr,
    arctan,
    const,
    exp,
    log,
    maximum,
    minimum,
    relu,
    sigmoid,
    tanh,
    var,
    variables,
)
from autograd_gates.strategies import BINARY_OPS, UNARY_OPS, expression_cases, expressions

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def backward_grads(expr: Expr, xs) -> list[float]:
    leaves = [Value(x, f"x{i}") for i, x in enumerate(xs)]
    expr.build(leaves).backward()
    return [leaf.grad for leaf in leaves]


# -- properties ------------------------------------------------------------------------------


@PROPERTY
@given(expression_cases(n_vars=3))
def test_backward_matches_the_decimal_reference(case):
    expr, xs = case
    note(f"f = {expr}  at  {xs}")
    grads = backward_grads(expr, xs)
    reference = expr.reference_grad(xs)
    for a, r in zip(grads, reference):
        assert abs(a - r) <= 1e-12 + 1e-9 * max(abs(a), abs(r)), (a, r)


@PROPERTY
@given(expression_cases(n_vars=3))
def test_backward_matches_gradcheck(case):
    expr, xs = case
    note(f"f = {expr}  at  {xs}")
    try:
        report = gradcheck(expr.as_function(), xs)
    except GradcheckInconclusive:
        reject()
    assert report.ok


KINKY_INPUTS = st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0, -2.0])


@PROPERTY
@given(expressions(n_vars=2, max_leaves=6), st.tuples(KINKY_INPUTS, KINKY_INPUTS))
def test_no_false_failure_at_kinks_and_ties(expr, xs):
    """Small integers put relu at 0, abs at 0 and max at ties all the time."""
    note(f"f = {expr}  at  {xs}")
    try:
        # The engine, not math: its tanh is 2 sigmoid(2x) - 1, which is 0 for x = 1e-113, so
        # math may evaluate what the engine refuses (x0 / tanh(1e-113) at x0 = 0).
        value = expr.build(xs).data
    except (ValueError, ArithmeticError):
        reject()
    if not math.isfinite(value) or abs(value) > 1e8:
        reject()
    report = gradcheck(expr.as_function(), xs, raise_exception=False)
    assert report.outcome != "fail", str(report)


@contextmanager
def broken_mul():
    good = value_module.MUL
    value_module.MUL = dataclasses.replace(good, partials=lambda a, b, x: (-b, -a))
    try:
        yield
    finally:
        value_module.MUL = good


@PROPERTY
@given(expression_cases(n_vars=2))
def test_a_broken_mul_is_caught_in_any_circuit_that_uses_it(case):
    expr, xs = case
    note(f"f = {expr}  at  {xs}")
    with broken_mul():
        root = expr.build(xs)
        muls = [n for n in topological_order(root) if n.gate is not None and n.gate.name == "mul"]
        if not any(max(abs(n.parents[0].data), abs(n.parents[1].data)) > 1e-6 for n in muls):
            reject()  # no mul, or partials below atol: a flipped sign of ~0 is invisible
        report = gradcheck(expr.as_function(), xs, raise_exception=False)
    note(str(report))
    assert report.outcome == "fail"
    assert report.suspect is not None and report.suspect.gate == "mul"


# -- the strategies ------------------------------------------------------------------------------


def test_every_gate_of_the_table_is_an_operation_of_the_strategies():
    for name, gate in GATES.items():
        assert name in OPS, f"gate {name} is missing from autograd_gates.expressions.OPS"
        assert OPS[name].arity == gate.arity
    assert "powk" in OPS  # the number-exponent pow family
    assert set(UNARY_OPS) | set(BINARY_OPS) == set(OPS)
    assert set(COMPOSED_OPS) == {"sub", "neg", "min", "abs", "sigmoid", "tanh"}
    assert set(GATE_OPS) | set(COMPOSED_OPS) == set(OPS)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_strategies_generate_every_operation_and_sharing(data):
    op = data.draw(st.sampled_from(sorted(OPS)))
    expr = data.draw(expressions(n_vars=2, ops=[op]))
    assert all(n.op in ("var", "const", op) for n in expr.nodes())


# find() prints the strategy's repr, which for a recursive strategy is long; the length is no problem.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_strategies_can_find_shared_subexpressions():
    from hypothesis import find

    def shared(expr: Expr) -> bool:
        root = expr.build([0.3, 0.7])
        order = topological_order(root)
        uses: dict[int, int] = {}
        for node in order:
            for p in node.parents:
                uses[id(p)] = uses.get(id(p), 0) + 1
        # an intermediate node of the expression (not just of a composed function) used twice
        return any(n.op not in ("var", "const") and n != expr for n in expr.nodes()) and any(
            n.gate is not None and uses.get(id(n), 0) > 1 for n in order
        )

    found = find(expressions(n_vars=2, ops=["mul", "add", "exp"]), shared, settings=settings(database=None))
    assert shared(found)


def test_expressions_validates_its_arguments():
    with pytest.raises(ValueError, match="n_vars"):
        expressions(n_vars=0)
    with pytest.raises(ValueError, match="unknown operation"):
        expressions(ops=["sin"])
    with pytest.raises(ValueError, match="at least one operation"):
        expressions(ops=[])


# -- Expr -----------------------------------------------------------------------------------------


def test_str_is_python_that_reads_back():
    x0, x1 = variables(2)
    cases = [
        sigmoid(x0 * x1) + maximum(x0, 2.0) ** 2,
        (x0 - -1.5) ** const(2.5) / -x1**3 - 2.0 ** (x0 + x1),
        abs(-x0) * minimum(x0, x1) + (-x0) ** (-1) - x0 ** (x1**2),
        log(relu(x0) + 1.0) / arctan(x1) - tanh(exp(-x1)),
        -(x0 - x1) - (x0 + x1) / (x0 * x1),
    ]
    namespace: dict = {}
    exec("from autograd_gates.expressions import *; x0, x1 = variables(2)", namespace)  # noqa: S102
    for expr in cases:
        assert eval(str(expr), namespace) == expr, str(expr)  # noqa: S307
    assert str(cases[0]) == "sigmoid(x0 * x1) + maximum(x0, 2.0) ** 2"
    assert str(x0 - (x1 - x0)) == "x0 - (x1 - x0)"
    assert str((x0 + x1) * x0) == "(x0 + x1) * x0"


def test_exprs_are_frozen_hashable_and_structural():
    x0, x1 = variables(2)
    a, b = x0 * x1 + 1.0, x0 * x1 + 1.0
    assert a == b and hash(a) == hash(b) and a is not b
    assert len({a, b, x0}) == 2
    assert const(-0.0) == const(0.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.op = "mul"  # type: ignore[misc]


def test_build_shares_equal_subexpressions():
    x0, x1 = variables(2)
    s = x0 * x1
    expr = (s + s.__mul__(s)) / exp(s)  # s appears four times
    root = expr.build([2.0, 3.0])
    order = topological_order(root)
    muls = [n for n in order if n.gate is not None and n.gate.name == "mul"]
    assert len(muls) == 2  # x0 * x1 once, s * s once
    assert len(order) == expr.size
    assert root.data == pytest.approx(expr.evaluate([2.0, 3.0]), rel=1e-15)
    root.backward()
    leaves = [n for n in order if n.label]
    grads = {leaf.label: leaf.grad for leaf in leaves}
    ref = expr.reference_grad([2.0, 3.0])
    assert [grads["x0"], grads["x1"]] == pytest.approx(ref, rel=1e-12)


def test_reference_grad_is_exact_on_known_functions():
    (x,) = variables(1)
    cases = [
        (exp(x), 0.7, math.exp(0.7)),
        (log(x), 0.7, 1 / 0.7),
        (arctan(x), 2.5, 1 / (1 + 2.5**2)),
        (sigmoid(x), -1.2, math.exp(-1.2) / (1 + math.exp(-1.2)) ** 2),
        (tanh(x), 0.4, 1 - math.tanh(0.4) ** 2),
        (x**1.5, 2.0, 1.5 * math.sqrt(2.0)),
        (2.0**x, 1.0, 2.0 * math.log(2.0)),
        (x**x, 1.5, 1.5**1.5 * (math.log(1.5) + 1)),
        (maximum(x, 1.0) * minimum(x, 1.0), 3.0, 1.0),
        (abs(x) * relu(-x), -2.0, -4.0),  # x ** 2 for x < 0
    ]
    for expr, x0, true in cases:
        (g,) = expr.reference_grad([x0])
        assert g == pytest.approx(true, rel=1e-14), str(expr)


def test_in_domain_keeps_a_margin_from_edges_and_kinks():
    x0, x1 = variables(2)
    assert log(x0).in_domain([0.5]) and not log(x0).in_domain([1e-4])
    assert not (x1 / x0).in_domain([1e-4, 1.0])
    assert not relu(x0).in_domain([1e-4]) and relu(x0).in_domain([-0.5])
    assert not abs(x0).in_domain([0.0])
    assert not maximum(x0, x1).in_domain([1.0, 1.0 + 1e-5])
    assert maximum(x0 * x1, x0 * x1).in_domain([1.0, 1.0])  # a permanent tie is smooth
    assert not (x0**0.5).in_domain([-1.0]) and not (x0 ** (-1)).in_domain([1e-5])
    assert (x0**2).in_domain([-3.0])
    assert not (x0**x1).in_domain([-1.0, 2.0])
    assert not exp(x0).in_domain([12.0], max_exp=10.0) and exp(x0).in_domain([12.0])
    assert not (x0 * 1e9).in_domain([1.0])  # |intermediate| > max_abs


def test_expr_errors_are_clear():
    with pytest.raises(ValueError, match="unknown operation 'sin'"):
        Expr("sin", (var(0),))
    with pytest.raises(TypeError, match="mul takes 2"):
        Expr("mul", (var(0),))
    with pytest.raises(ValueError, match="finite"):
        const(math.inf)
    with pytest.raises(IndexError, match="uses x2 but only 2"):
        (var(0) + var(2)).build([1.0, 2.0])
    with pytest.raises(TypeError, match="Expr or a number"):
        var(0) + "1"  # type: ignore[operator]
    with pytest.raises(TypeError, match="a constant must be a number, got str 'a'"):
        const("a")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="the exponent must be a number, got str '2'"):
        var(0) ** "2"  # type: ignore[operator]
    with pytest.raises(ValueError, match="the exponent must be finite"):
        var(0) ** math.nan
    assert var(0) + np.int64(2) == var(0) + 2.0  # numpy scalars are numbers


def test_as_function_is_ready_for_gradcheck():
    x0, x1 = variables(2)
    f = (x0 * exp(x1)).as_function()
    report = gradcheck(f, [1.5, -0.5])
    assert report.ok
    assert report.function == "x0 * exp(x1)"
    assert report.reproduce.endswith("f = (x0 * exp(x1)).as_function(); gradcheck(f, [1.5, -0.5])")
    assert repr(f) == "(x0 * exp(x1)).as_function()"
