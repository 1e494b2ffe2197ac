"""autograd_gates: a scalar automatic-differentiation engine that shows its work.

Every gate records its forward value and its local derivative, written the way the
course slides write it (``x = a * b  ->  da = b * dx, db = a * dx``).
"""

from .errors import GateDomainError, GateError, GateOverflowError, GateZeroDivisionError
from .gates import GATES, Gate, pow_gate
from .value import Value, maximum, minimum, topological_order

__version__ = "0.1.0"

__all__ = [
    "GATES",
    "Gate",
    "GateDomainError",
    "GateError",
    "GateOverflowError",
    "GateZeroDivisionError",
    "Value",
    "maximum",
    "minimum",
    "pow_gate",
    "topological_order",
]
