"""The exceptions a gate raises on bad input, and when backward cannot give a finite gradient.

Each one names the gate, the operand's label and its value, and each also subclasses the
built-in exception a Python user would expect, so ``except ValueError`` or
``except ZeroDivisionError`` keeps working. They are shown as ``autograd_gates.GateDomainError``
and so on, the names users import them by.
"""

from __future__ import annotations

__all__ = [
    "GateError",
    "GateDomainError",
    "GateZeroDivisionError",
    "GateOverflowError",
    "GateGradientError",
    "GateRegistrationError",
    "DomainError",
]


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


class GateGradientError(GateError, FloatingPointError):
    """Backward would give an infinite or NaN gradient (d/da of a ** 0.5 at 0, 1 / 1e-200)."""


class GateRegistrationError(ValueError):
    """``register_gate`` refused a new gate; the message says which check failed."""


class DomainError(ValueError):
    """Raised by a gate's forward function on floats; Value turns it into a GateDomainError."""


for _error in (GateError, GateDomainError, GateZeroDivisionError, GateOverflowError, GateGradientError,
               GateRegistrationError):  # fmt: skip
    _error.__module__ = "autograd_gates"
