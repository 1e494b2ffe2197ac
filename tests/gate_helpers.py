"""Helpers shared by the gradcheck tests: a gate's one-gate circuit, and its test id."""

from __future__ import annotations

import operator

from autograd_gates import Value
from autograd_gates.engine import value as value_module
from autograd_gates.engine.gates import Gate

OPERATORS = {"add": operator.add, "mul": operator.mul, "div": operator.truediv, "pow": operator.pow}


def apply_gate(gate: Gate, *operands: Value) -> Value:
    """``gate(a[, b])`` through the operator or Value method users call, else through
    ``value.apply_gate`` (a gate added to the table with no method yet).

    Operators and methods look their gate up in ``autograd_gates.engine.value`` at call time, so a
    broken copy installed there by a self-test is the one used.
    """
    if gate.exponent is not None:
        return operands[0] ** gate.exponent
    if gate.name in OPERATORS:
        return OPERATORS[gate.name](*operands)
    method = getattr(Value, gate.name, None)
    if method is not None:
        return method(*operands)
    return value_module.apply_gate(gate, *operands)


def gate_id(gate: Gate) -> str:
    return gate.name if gate.exponent is None else f"pow{gate.exponent:g}"
