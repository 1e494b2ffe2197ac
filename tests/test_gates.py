"""The gate table itself: one entry per gate, each telling its whole story."""

from __future__ import annotations

import math

import pytest

from autograd_gates import GATES, Value, pow_gate
from autograd_gates.engine.gates import gate_examples

ALL = gate_examples()


@pytest.mark.parametrize("gate", ALL, ids=lambda g: f"{g.name}{g.symbol}")
def test_every_gate_tells_its_whole_story(gate):
    assert gate.arity in (1, 2)
    assert len(gate.local) == gate.arity == len(gate.operands)
    assert gate.domain and gate.symbol and gate.expr
    assert gate.rule.startswith(f"x = {gate.expr}  ->  da = {gate.local[0]} * dx")
    if gate.arity == 2:
        assert gate.rule.endswith(f"db = {gate.local[1]} * dx")


def test_the_slides_rules_read_as_on_the_slides():
    assert GATES["mul"].rule == "x = a * b  ->  da = b * dx, db = a * dx"
    assert GATES["add"].rule == "x = a + b  ->  da = 1 * dx, db = 1 * dx"
    assert pow_gate(2).rule == "x = a ** 2  ->  da = 2 * a * dx"
    assert GATES["relu"].rule == "x = max(0, a)  ->  da = (1 if a > 0 else 0) * dx"


def test_table_keys_are_gate_names():
    assert all(name == gate.name for name, gate in GATES.items())
    assert {"add", "mul", "div", "pow", "max", "exp", "log", "relu"} <= set(GATES)


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
    assert pow_gate(k).partials(0.0, pow_gate(k).forward(0.0)) == (expected,)


def test_pieces_name_the_smooth_side():
    assert GATES["max"].piece(1.0, 2.0) != GATES["max"].piece(2.0, 1.0)
    assert GATES["max"].piece(1.0, 1.0) == 0
    assert GATES["relu"].piece(-1.0) != GATES["relu"].piece(1.0)
    assert GATES["mul"].piece is None


def test_huge_whole_exponents_read_as_floats():
    assert pow_gate(1e300).expr == "a ** 1e+300"
    assert pow_gate(3.0).expr == "a ** 3"
