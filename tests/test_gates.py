"""The op table itself: one entry per op, each telling its whole story, read the same way by all."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gate_helpers import gate_id

from autograd_gates import GATES, Value, parse, pow_gate
from autograd_gates.engine.formula import evaluate, format_formula, parse_rule
from autograd_gates.engine.gates import gate_examples
from autograd_gates.engine.table import OPERAND_NAMES

ALL = gate_examples()
# Points inside every gate's domain and off every kink (no operand 0, no tie).
POINTS = {1: [(0.7,), (1.9,), (-0.45,)], 2: [(0.7, 1.3), (1.9, -0.6), (-0.45, 2.2)]}


def points(gate):
    return [p for p in POINTS[gate.arity] if _defined(gate, p)]


def _defined(gate, point) -> bool:
    try:
        gate.forward(*point)
    except (ValueError, ArithmeticError):
        return False
    return True


@pytest.mark.parametrize("gate", ALL, ids=gate_id)
def test_every_gate_tells_its_whole_story(gate):
    assert gate.arity in (1, 2)
    assert len(gate.local) == len(gate.local_trees) == gate.arity == len(gate.operands)
    assert gate.symbol and gate.expr
    assert gate.rule.startswith(f"x = {gate.expr}")
    for name, tree in zip(gate.operands, gate.local_trees):
        assert f"d{name} = " in gate.rule
        assert set(tree.variables) <= {*OPERAND_NAMES[: gate.arity], "x"}
        assert parse_rule(format_formula(tree)) == tree  # the printed rule reads back
    assert isinstance(gate.domain, str)
    assert points(gate), f"no sample point inside {gate.name}'s domain"


@pytest.mark.parametrize("gate", ALL, ids=gate_id)
def test_the_rule_text_is_the_code_that_computes_the_gradient(gate):
    # partials are compiled from the texts; evaluating the texts themselves gives the same numbers.
    for point in points(gate):
        x = gate.forward(*point)
        env = dict(zip(gate.operands, point), x=x)
        expected = tuple(evaluate(tree, env) for tree in gate.local_trees)
        assert gate.partials(*point, x) == pytest.approx(expected, rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("gate", ALL, ids=gate_id)
def test_array_forms_agree_with_scalar_forms(gate):
    # The tape's numpy twins, over a whole batch, give the scalar functions' numbers row by row.
    rows = points(gate)
    columns = [np.array(c) for c in zip(*rows)]
    with np.errstate(all="ignore"):
        xs = np.broadcast_to(gate.array_forward(*columns), (len(rows),))
        partials = [np.broadcast_to(p, (len(rows),)) for p in gate.array_partials(*columns, xs)]
    for i, point in enumerate(rows):
        x = gate.forward(*point)
        assert xs[i] == pytest.approx(x, rel=1e-15)
        assert [p[i] for p in partials] == pytest.approx(gate.partials(*point, x), rel=1e-14, abs=1e-300)
    if gate.array_defined is not None:
        assert np.all(gate.array_defined(*columns))


def test_the_slides_rules_read_as_on_the_slides():
    assert GATES["mul"].rule == "x = a * b  ->  da = b * dx, db = a * dx"
    assert GATES["add"].rule == "x = a + b  ->  da = 1 * dx, db = 1 * dx"
    assert GATES["sub"].rule == "x = a - b  ->  da = 1 * dx, db = -1 * dx"
    assert GATES["neg"].rule == "x = -a  ->  da = -1 * dx"
    assert pow_gate(2).rule == "x = a ** 2  ->  da = 2 * a * dx"
    assert GATES["relu"].rule == "x = relu(a) = max(0, a)  ->  da = (1 if a > 0 else 0) * dx"
    assert "da = x * (1 - x) * dx" in GATES["sigmoid"].rule
    assert "da = (1 - x * x) * dx" in GATES["tanh"].rule


def test_the_functions_students_use_most_are_one_gate_each():
    a, b = Value(0.5), Value(2.0)
    assert (a - b).gate.name == "sub"
    assert (-a).gate.name == "neg"
    assert a.sigmoid().gate.name == "sigmoid"
    assert a.tanh().gate.name == "tanh"
    assert (2.0 - a).gate.name == "sub" and (a - 2.0).gate.name == "sub"
    assert [g.name for g in (a.abs().gate, a.min(b).gate, a.softplus().gate, a.sqrt().gate)] == [
        "abs",
        "min",
        "softplus",
        "sqrt",
    ]


def test_composites_say_how_they_are_built_and_primitives_do_not():
    composites = {name for name, gate in GATES.items() if gate.is_composite}
    assert {"sub", "neg", "sigmoid", "tanh", "softplus", "abs", "min", "sqrt"} <= composites
    assert not {"add", "mul", "div", "exp", "log", "max", "relu", "arctan", "sin", "cos"} & composites
    for name in composites:
        gate = GATES[name]
        assert gate.composition_tree == parse(gate.composition)
        assert set(gate.composition_tree.variables) <= set(gate.operands)
        assert name not in {n.op for n in gate.composition_tree.nodes()}  # not built from itself


def test_table_keys_are_gate_names():
    assert all(name == gate.name for name, gate in GATES.items())
    assert {"add", "mul", "div", "pow", "max", "exp", "log", "relu"} <= set(GATES)
    assert {"sub", "neg", "sigmoid", "tanh"} <= set(GATES)


def test_one_shared_gate_per_exponent():
    assert pow_gate(2) is pow_gate(2.0)
    assert (Value(3.0) ** 2).gate is (Value(4.0) ** 2.0).gate is pow_gate(2)


@pytest.mark.parametrize(
    "k, base, expected",
    [(2, -3.0, 9.0), (3, -2.0, -8.0), (-1, -4.0, -0.25), (0.5, 9.0, 3.0), (0, -5.0, 1.0), (1.5, 4.0, 8.0)],
)
def test_pow_family_forward(k, base, expected):
    assert pow_gate(k).forward(base) == expected


@pytest.mark.parametrize(
    "k, expected",
    [(2, 0.0), (3, 0.0), (1, 1.0), (0, 0.0), (1.5, 0.0), (0.5, math.inf)],
)
def test_pow_derivative_at_zero(k, expected):
    # 0.5 * 0 ** -0.5 divides by zero in Python floats; the rule falls back to IEEE arithmetic (inf).
    assert pow_gate(k).partials(0.0, pow_gate(k).forward(0.0)) == (expected,)


def test_pieces_name_the_smooth_side():
    assert GATES["max"].piece(1.0, 2.0) != GATES["max"].piece(2.0, 1.0)
    assert GATES["max"].at_kink(1.0, 1.0) and not GATES["max"].at_kink(1.0, 2.0)
    assert GATES["relu"].piece(-1.0) != GATES["relu"].piece(1.0)
    assert GATES["div"].at_kink(1.0, 0.0)  # the pole is a seam
    assert GATES["mul"].piece is None and GATES["sigmoid"].piece is None


def test_huge_whole_exponents_read_as_floats():
    assert pow_gate(1e300).expr == "a ** 1e+300"
    assert pow_gate(3.0).expr == "a ** 3"
