"""Bad input: a clear exception naming the gate, the operand's label and value; nothing lost."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_gates import (
    GateDomainError,
    GateError,
    GateOverflowError,
    GateZeroDivisionError,
    Value,
)

CASES = {
    "log of zero": (lambda a: a.log(), 0.0, GateDomainError, ValueError, "log"),
    "log of a negative": (lambda a: a.log(), -1.5, GateDomainError, ValueError, "log"),
    "division by zero": (lambda a: 1 / a, 0.0, GateZeroDivisionError, ZeroDivisionError, "div"),
    "negative base, fractional power": (lambda a: a**0.5, -8.0, GateDomainError, ValueError, "pow"),
    "negative base, Value exponent": (lambda a: a ** Value(2.0), -2.0, GateDomainError, ValueError, "pow"),
    "zero to a negative power": (lambda a: a**-1, 0.0, GateZeroDivisionError, ZeroDivisionError, "pow"),
    "zero to a negative fractional power": (
        lambda a: a**-0.5,
        0.0,
        GateZeroDivisionError,
        ZeroDivisionError,
        "pow",
    ),
    "exp overflow": (lambda a: a.exp(), 1000.0, GateOverflowError, OverflowError, "exp"),
    "pow overflow": (lambda a: a**400, 10.0, GateOverflowError, OverflowError, "pow"),
    "mul overflow": (lambda a: a * a, 1e200, GateOverflowError, OverflowError, "mul"),
    "add overflow": (lambda a: a + a, 1e308, GateOverflowError, OverflowError, "add"),
    "div overflow": (lambda a: a / 1e-300, 1e300, GateOverflowError, OverflowError, "div"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_names_the_gate_the_label_and_the_value(case):
    build, bad, error, builtin, gate = CASES[case]
    a = Value(bad, label="my_input")
    with pytest.raises(error) as info:
        build(a)
    assert isinstance(info.value, builtin) and isinstance(info.value, GateError)
    message = str(info.value)
    assert message.startswith(f"{gate} gate")
    assert "'my_input'" in message
    assert repr(bad) in message
    assert info.value.gate == gate


def test_error_names_both_operands_of_a_binary_gate():
    p, q = Value(1.0, label="p"), Value(0.0, label="q")
    expected = r"div gate .* a = 1.0 \(label 'p'\), b = 0.0 \(label 'q'\)"
    with pytest.raises(GateZeroDivisionError, match=expected):
        p / q


def test_a_complex_number_never_appears():
    with pytest.raises(ValueError):
        Value(-8.0) ** (1 / 3)


@pytest.mark.parametrize(
    "bad",
    ["2", None, [1.0], complex(1, 2), np.array([1.0, 2.0]), True],
    ids=["str", "None", "list", "complex", "ndarray", "bool"],
)
def test_non_numbers_are_a_type_error_saying_what_was_passed(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)
    a = Value(1.0)
    with pytest.raises(TypeError, match=r"add operand .*" + type(bad).__name__):
        a + bad
    with pytest.raises(TypeError, match=r"mul operand .*" + type(bad).__name__):
        a * bad


def test_label_must_be_text():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        Value(bad, label="a")
    with pytest.raises(ValueError, match="finite"):
        Value(1.0) * bad


def test_the_graph_built_before_the_error_keeps_working():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    y = a * b
    with pytest.raises(GateDomainError):
        y.log()
    with pytest.raises(GateZeroDivisionError):
        y / (a - 2.0)
    z = y * y + a
    z.backward()
    assert z.data == 38.0
    assert (a.grad, b.grad) == (2 * y.data * b.data + 1, 2 * y.data * a.data)
    assert y.parents == (a, b) and y.grad == 2 * y.data


def test_a_bad_exponent_type_is_a_type_error():
    with pytest.raises(TypeError, match="pow exponent"):
        Value(2.0) ** "2"
