"""The exceptions a gate raises on bad input.

Each one names the gate, the operand's label and its value, and each also
subclasses the built-in exception a Python user would expect, so
``except ValueError`` or ``except ZeroDivisionError`` keeps working.
"""

from __future__ import annotations


class GateError(Exception):
    """Base class: a gate refused its operands. ``.gate`` holds the gate's name."""

    def __init__(self, message: str, gate: str = "") -> None:
        super().__init__(message)
        self.gate = gate


class GateDomainError(GateError, ValueError):
    """An operand lies outside the gate's domain (log of -1, (-8) ** 0.5)."""


class GateZeroDivisionError(GateError, ZeroDivisionError):
    """Division by zero, or zero raised to a negative power."""


class GateOverflowError(GateError, OverflowError):
    """The result is too large for a float (exp(1000))."""


class DomainError(ValueError):
    """Raised by a gate's forward function on floats; Value turns it into a GateDomainError."""
