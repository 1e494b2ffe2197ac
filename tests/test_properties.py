"""Property tests over random expressions, and the strategy machinery they use.

* reverse mode agrees with the independent 60-digit mpmath reference: |a - r| <= 1e-12 +
  1e-9 * max(|a|, |r|) (1e-9 relative, absolute floor 1e-12);
* reverse mode agrees with gradcheck (an inconclusive check is rejected, not counted);
* at kinks and ties (small-integer inputs hit them often) gradcheck never fails;
* a broken mul rule in any random circuit that contains a mul is caught and named.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, note, reject, settings
from hypothesis import strategies as st

from autograd_gates import GATES, Expr, GradcheckInconclusive, Value, build, gradcheck, parse
from autograd_gates.checks.exact import exact_grad, exact_value
from autograd_gates.checks.strategies import expression_cases, expressions, in_domain, operations
from autograd_gates.engine.formula import const, var
from autograd_gates.engine.value import topological_order

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def backward_grads(expr: Expr, xs) -> list[float]:
    leaves = [Value(x, f"x{i}") for i, x in enumerate(xs)]
    build(expr, leaves).backward()
    return [leaf.grad for leaf in leaves]


# -- properties ------------------------------------------------------------------------------


@PROPERTY
@given(expression_cases(n_vars=3))
def test_backward_matches_the_exact_reference(case):
    expr, xs = case
    note(f"f = {expr}  at  {xs}")
    grads = backward_grads(expr, xs)
    reference = exact_grad(expr, xs)
    for a, r in zip(grads, reference):
        assert abs(a - r) <= 1e-12 + 1e-9 * max(abs(a), abs(r)), (a, r)


@PROPERTY
@given(expression_cases(n_vars=3))
def test_backward_matches_gradcheck(case):
    expr, xs = case
    note(f"f = {expr}  at  {xs}")
    try:
        report = gradcheck(expr, xs)
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
        value = build(expr, xs).data
    except (ValueError, ArithmeticError):
        reject()
    if not math.isfinite(value) or abs(value) > 1e8:
        reject()
    report = gradcheck(expr, xs, raise_exception=False)
    assert report.outcome != "fail", str(report)


@PROPERTY
@given(expression_cases(n_vars=2))
def test_a_broken_mul_is_caught_in_any_circuit_that_uses_it(case):
    expr, xs = case
    expr = expr * var(0)  # at least one mul, wherever else the circuit has some
    note(f"f = {expr}  at  {xs}")
    mul = GATES["mul"]
    right = mul.partials
    object.__setattr__(mul, "partials", lambda a, b, x: (-b, -a))
    try:
        root = build(expr, xs)
        muls = [n for n in topological_order(root) if n.gate is not None and n.gate.name == "mul"]
        if not any(max(abs(n.parents[0].data), abs(n.parents[1].data)) > 1e-6 for n in muls):
            reject()  # no mul, or partials below atol: a flipped sign of ~0 is invisible
        report = gradcheck(expr, xs, raise_exception=False)
    finally:
        object.__setattr__(mul, "partials", right)
    note(str(report))
    assert report.outcome == "fail"
    assert report.suspect is not None and report.suspect.gate == "mul"


# -- the strategies ------------------------------------------------------------------------------


def test_every_op_of_the_table_is_an_operation_of_the_strategies():
    assert set(operations()) == {*GATES, "powk"}
    assert set(operations(1)) | set(operations(2)) == set(operations())
    composites = {"sub", "neg", "sigmoid", "tanh", "softplus", "abs", "min", "sqrt"}
    assert composites | {"sin", "cos"} <= set(operations())


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_strategies_generate_every_operation_and_sharing(data):
    op = data.draw(st.sampled_from(sorted(operations())))
    expr = data.draw(expressions(n_vars=2, ops=[op]))
    assert all(n.op in ("var", "const", op) for n in expr.nodes())


def test_parse_returns_the_tree_the_strategies_generate():
    x0, x1 = var(0), var(1)
    generated = Expr("sigmoid", (x0 * x1,)) + Expr("max", (x0, const(2.0))) ** 2
    assert parse("sigmoid(x0 * x1) + max(x0, 2) ** 2") == generated
    assert parse(str(generated)) == generated


# find() prints the strategy's repr, which for a recursive strategy is long; the length is no problem.
@pytest.mark.filterwarnings("ignore:Generating overly large repr")
def test_strategies_can_find_shared_subexpressions():
    from hypothesis import find

    def shared(expr: Expr) -> bool:
        root = build(expr, [0.3, 0.7])
        order = topological_order(root)
        uses: dict[int, int] = {}
        for node in order:
            for p in node.parents:
                uses[id(p)] = uses.get(id(p), 0) + 1
        return any(n.gate is not None and uses.get(id(n), 0) > 1 for n in order)

    found = find(expressions(n_vars=2, ops=["mul", "add", "exp"]), shared, settings=settings(database=None))
    assert shared(found)


def test_expressions_validates_its_arguments():
    with pytest.raises(ValueError, match="n_vars"):
        expressions(n_vars=0)
    with pytest.raises(ValueError, match="unknown operation"):
        expressions(ops=["frobnicate"])
    with pytest.raises(ValueError, match="at least one operation"):
        expressions(ops=[])


# -- the tree as a function, its exact reference, its domain ------------------------------------


def test_build_shares_equal_subexpressions():
    expr = parse("exp(x0 * x1) + sigmoid(x0 * x1) * (x0 * x1)")
    root = build(expr, [2.0, 3.0])
    products = [n for n in topological_order(root) if n.gate is not None and n.gate.name == "mul"]
    assert len(products) == 2  # x0 * x1 once, and the product with the sigmoid
    assert root.data == pytest.approx(exact_value(expr, [2.0, 3.0]), rel=1e-15)


@pytest.mark.parametrize(
    ("text", "x", "expected"),
    [
        ("sigmoid(x0)", 0.3, math.exp(-0.3) / (1 + math.exp(-0.3)) ** 2),
        ("tanh(x0)", 0.3, 1 - math.tanh(0.3) ** 2),
        ("arctan(x0)", 2.0, 1 / 5),
        ("softplus(x0)", -1.5, 1 / (1 + math.exp(1.5))),
        ("sin(x0) * cos(x0)", 0.4, math.cos(0.8)),
        ("sqrt(x0)", 4.0, 0.25),
        ("x0 ** 2.5", 1.7, 2.5 * 1.7**1.5),
        ("elu(x0, 2)", -0.5, 2 * math.exp(-0.5)),
    ],
)
def test_exact_grad_is_exact_on_known_functions(text, x, expected):
    (g,) = exact_grad(parse(text), [x])
    assert g == pytest.approx(expected, rel=1e-14)


def test_in_domain_keeps_a_margin_from_edges_and_kinks():
    def ok(text, xs, **options):
        return in_domain(parse(text), xs, **options)

    assert ok("log(x0)", [0.5]) and not ok("log(x0)", [1e-4])
    assert not ok("x1 / x0", [1e-4, 1.0])
    assert not ok("relu(x0)", [1e-4]) and ok("relu(x0)", [-0.5])
    assert not ok("abs(x0)", [0.0])
    assert not ok("max(x0, x1)", [1.0, 1.0 + 1e-5])
    assert ok("max(x0 * x1, x0 * x1)", [1.0, 1.0])  # a permanent tie is smooth
    assert not ok("leaky_relu(x0, x0)", [0.0, 0.0])  # same operands, but its kink is at a = 0
    assert not ok("x0 ** 0.5", [-1.0]) and not ok("x0 ** -1", [1e-5])
    assert ok("x0 ** 2", [-3.0])
    assert not ok("x0 ** x1", [-1.0, 2.0])
    assert not ok("exp(x0)", [30.0]) and ok("exp(x0)", [12.0])  # |intermediate| > max_abs
    assert not ok("x0 * 1e9", [1.0])


def test_a_tree_as_a_function_is_ready_for_gradcheck():
    expr = parse("x0 * exp(x1)")
    report = gradcheck(expr, [1.5, -0.5])
    assert report.ok and report.function == "x0 * exp(x1)"
    assert report.reproduce.endswith("f = as_function(parse('x0 * exp(x1)')); gradcheck(f, [1.5, -0.5])")
    namespace: dict[str, object] = {}
    exec(report.reproduce, namespace)  # the reproduce line runs as printed


def test_building_needs_every_variable():
    with pytest.raises(IndexError, match="uses x0, x1, x2 but only 2"):
        build(parse("x0 + x2"), [1.0, 2.0])
    with pytest.raises(KeyError, match="no value for the variable 'b'"):
        build(parse("a + b"), {"a": 1.0})
    with pytest.raises(ValueError, match="rule text"):
        build(Expr("gt", (var("a"), const(0.0))), {"a": 1.0})
