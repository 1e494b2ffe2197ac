"""autograd_gates: a scalar automatic-differentiation engine that shows its work.

Every gate records its forward value and its local derivative, written the way the
course slides write it (``x = a * b  ->  da = b * dx, db = a * dx``).
"""

from __future__ import annotations

import pkgutil as _pkgutil
from importlib import import_module

from .engine.circuit import ExprFunction, as_function, build, expand
from .engine.errors import (
    GateDomainError,
    GateError,
    GateGradientError,
    GateOverflowError,
    GateRegistrationError,
    GateZeroDivisionError,
)
from .engine.formula import Expr, ExpressionError, parse
from .engine.gates import pow_gate
from .engine.table import GATES, Gate
from .engine.value import Value, apply_gate, maximum, minimum, topological_order

__version__ = "0.1.0"

# Names from the layers above the engine, imported on first use so that
# `import autograd_gates` stays quick and needs none of their dependencies.
_LAZY = {
    "numerical_grad": "checks.numerical",
    "gradcheck": "checks.checking",
    "GradcheckReport": "checks.checking",
    "GradcheckError": "checks.checking",
    "GradcheckInconclusive": "checks.checking",
    "register_gate": "checks.registration",
    "unregister_gate": "checks.registration",
    "draw_dot": "show.drawing",
    "explain": "show.trace",
    "Tape": "engine.tape",
}


def _submodules() -> list[str]:
    """The package's public modules and folders (nn, optim, engine, ...), found on disk."""
    return [m.name for m in _pkgutil.iter_modules(__path__) if not m.name.startswith("_")]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is not None:
        return getattr(import_module(f".{module}", __name__), name)
    if name in _submodules():  # `autograd_gates.nn` works without `import autograd_gates.nn` first
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'autograd_gates' has no attribute {name!r}")


def __dir__() -> list[str]:
    """Every public name, the lazy ones included (tab completion shows ``explain``, ``nn``, ...)."""
    dunders = {name for name in globals() if name.startswith("__")}
    return sorted({*__all__, *_submodules(), *dunders})


__all__ = [
    "GATES",
    "Expr",
    "ExprFunction",
    "ExpressionError",
    "Gate",
    "GateDomainError",
    "GateError",
    "GateGradientError",
    "GateOverflowError",
    "GateRegistrationError",
    "GateZeroDivisionError",
    "Value",
    "apply_gate",
    "as_function",
    "build",
    "expand",
    "maximum",
    "minimum",
    "parse",
    "pow_gate",
    "topological_order",
    *_LAZY,
]

