"""register_gate: one call adds an op that works everywhere the table is read, or is refused.

The op used here, softsign(a) = a / (1 + |a|), is not in the library. After one
``register_gate(...)`` it works in Value (through apply_gate), parse, explain, draw_dot, gradcheck
and the hypothesis strategies, with no other change. Registration is checked: a clashing name,
an arity the rule text does not match, a rule text that does not evaluate, and partials that
disagree with the forward are refused with an error that says which, and the table is left as
it was.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, reject, settings

from autograd_gates import (
    GATES,
    GateRegistrationError,
    GradcheckInconclusive,
    Value,
    apply_gate,
    build,
    draw_dot,
    explain,
    gradcheck,
    parse,
    register_gate,
    unregister_gate,
)
from autograd_gates.checks.exact import exact_grad
from autograd_gates.checks.strategies import expression_cases, operations
from autograd_gates.engine.gates import ARRAY_FUNCTIONS, FLOAT_FUNCTIONS


def softsign(a: float) -> float:
    return a / (1 + abs(a))


@pytest.fixture
def registered():
    gate = register_gate(
        "softsign",
        forward=softsign,
        local="1 / (1 + abs(a)) ** 2",
        definition="a / (1 + abs(a))",
        composition="a / (1 + abs(a))",
    )
    yield gate
    unregister_gate("softsign")


def test_a_new_op_works_through_every_consumer(registered):
    assert GATES["softsign"] is registered and registered.is_composite
    assert registered.rule == "x = softsign(a) = a / (1 + abs(a))  ->  da = 1 / (1 + abs(a)) ** 2 * dx"

    # Value, through apply_gate (by gate or by name)
    a = Value(2.0, "a")
    y = apply_gate("softsign", a) * 3.0
    y.backward()
    assert y.data == pytest.approx(2.0) and a.grad == pytest.approx(3.0 / 9.0)

    # parse and build
    tree = parse("softsign(a * b) + 1")
    assert str(tree) == "softsign(a * b) + 1" and parse(str(tree)) == tree
    root = build(tree, {"a": 2.0, "b": -0.5})
    assert root.data == pytest.approx(softsign(-1.0) + 1)

    # explain: one line, the registered rule
    d = explain(apply_gate("softsign", Value(2.0, "a")))
    assert [s.rule for s in d.backward] == ["da = 1 / (1 + abs(a)) ** 2 * dx"]
    assert "softsign" in d.latex() and explain(apply_gate("softsign", Value(2.0, "a")), expand=True).forward

    # draw_dot: one op node carrying its symbol and rule
    source = draw_dot(y, show_rules=True).source
    assert 'label="softsign"' in source and "1 / (1 + abs(a)) ** 2" in source

    # gradcheck, with its rule scan
    assert gradcheck(lambda v: apply_gate("softsign", v * v), [0.7]).ok
    assert gradcheck(parse("softsign(x0) * x1"), [0.3, -2.0]).ok

    # the strategies and the exact reference
    assert "softsign" in operations(1)
    (g,) = exact_grad(parse("softsign(x0)"), [2.0])
    assert g == pytest.approx(1 / 9, rel=1e-14)


@pytest.mark.usefixtures("registered")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression_cases(n_vars=2, ops=["softsign", "mul", "add", "sub"]))
def test_the_strategies_generate_the_new_op(case):
    expr, xs = case  # drawn while the gate is registered: the fixture runs once, around every example
    try:
        report = gradcheck(expr, xs)
    except GradcheckInconclusive:
        reject()
    assert report.ok


def _snapshot():
    return dict(GATES), dict(FLOAT_FUNCTIONS), dict(ARRAY_FUNCTIONS)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (
            dict(name="mul", forward=lambda a, b: a * b, local=("b", "a")),
            "clashes with the built-in gate 'mul'",
        ),
        (dict(name="maximum", forward=max, local=("1", "0")), "clashes with the built-in gate 'max'"),
        (dict(name="pi", forward=abs, local="1"), "reserved word"),
        (dict(name="if", forward=abs, local="1"), "reserved word"),
        (dict(name="9lives", forward=abs, local="1"), "must be an identifier"),
        (dict(name="twice", forward=lambda a: 2 * a, local=("2 * b",)), "uses b, but a gate with 1 operand"),
        (dict(name="twice", forward=lambda a, b: 2 * a, local=("2",)), "the forward takes 2 operand(s)"),
        (dict(name="twice", forward=lambda a: 2 * a, local="2 *"), "does not parse"),
        (dict(name="twice", forward=lambda a: 2 * a, local="frob(a)"), "does not parse"),
        (dict(name="twice", forward=lambda a: 2 * a, local="3"), "disagrees with its forward"),
        (dict(name="wrong_sign", forward=math.sin, local="-cos(a)"), "disagrees with its forward"),
        (
            dict(name="infinite", forward=lambda a: 2 * a, local="1 / (a - a)"),
            "does not evaluate to a finite",
        ),
        (dict(name="logit", forward=math.log, local="1 / a", domain="a > 100"), "none of the sample points"),
        (
            dict(name="bad_composite", forward=lambda a: 2 * a, local="2", composition="a + a + a"),
            "its composition 'a + a + a' gives",
        ),
        (dict(name="twice", forward=lambda a: 2 * a, local="2", domain="b > 0"), "uses b"),
    ],
)
def test_a_bad_gate_is_refused_and_the_table_is_left_as_it_was(arguments, says):
    before = _snapshot()
    with pytest.raises(GateRegistrationError) as refused:
        register_gate(**arguments)
    assert says in str(refused.value)
    assert _snapshot() == before


def test_a_gate_with_a_domain_is_checked_inside_it_and_refuses_outside():
    register_gate("logit", forward=lambda a: math.log(a / (1 - a)), local="1 / (a * (1 - a))",
                  domain=[("a > 0", "logit needs a > 0"), ("a < 1", "logit needs a < 1")])  # fmt: skip
    try:
        assert apply_gate("logit", 0.5).data == 0.0
        with pytest.raises(
            ValueError, match=r"logit gate \(x = logit\(a\)\) refused a = 1.5: logit needs a < 1"
        ):
            apply_gate("logit", 1.5)
        assert GATES["logit"].at_kink(1.0) and not GATES["logit"].at_kink(0.5)
    finally:
        unregister_gate("logit")


def test_built_in_gates_cannot_be_removed_and_unknown_ones_are_named():
    with pytest.raises(ValueError, match="built-in"):
        unregister_gate("mul")
    with pytest.raises(LookupError, match="no gate named 'nope'"):
        unregister_gate("nope")
