"""Each gate's array forms: its forward, local derivatives and domain over a whole batch at once.

The tape replays a gate on numpy arrays, one entry per sample (a parameter or a constant is a
plain float, broadcast). What it needs from a gate, per the op table's contract:

* ``array_forward(*operands) -> ndarray``: the forward, elementwise;
* ``array_partials(*operands, x) -> tuple``: the local derivatives, elementwise (``x`` is the
  output), the same rules as ``partials``;
* ``array_defined(*operands) -> ndarray[bool] | None``: which samples lie inside the domain
  (``None``: defined everywhere).

Array forms never raise on a bad sample: they return NaN or inf there, and the tape finds the
gate and the sample and raises the scalar gate's own error, naming them.

``array_forms(gate)`` reads these from the gate itself. TEMPORARY: until the op table carries
them (issue 8), the forms of today's gates live in ``_TODAY`` below; when the table has them,
``array_forms`` finds them on the gate first and this dict can go in one edit. A gate with no
array forms at all (one a user adds at run time) still works: it is replayed sample by sample
through its scalar ``forward`` and ``partials``, slower but with the same answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import DomainError
from ..gates import GATES, Gate

__all__ = ["ArrayForms", "array_forms"]

Array = np.ndarray | float


@dataclass(frozen=True)
class ArrayForms:
    """A gate's forward, local derivatives and domain mask, over arrays."""

    forward: Callable[..., Array]
    partials: Callable[..., tuple[Array, ...]]
    defined: Callable[..., np.ndarray | None]
    vectorized: bool  # False: the scalar forms applied sample by sample


def array_forms(gate: Gate) -> ArrayForms:
    """The array forms of ``gate``: its own if it has them, else today's table, else sample by sample."""
    forward = getattr(gate, "array_forward", None)
    if forward is not None:
        return ArrayForms(forward, gate.array_partials, gate.array_defined, True)
    today = _today(gate)
    if today is not None:
        return today
    return _sample_by_sample(gate)


def _everywhere(*operands: Array) -> None:
    return None


def _where(condition: np.ndarray, yes: float, no: float) -> np.ndarray:
    return np.where(condition, yes, no)


# -- TEMPORARY: the array forms of today's gates, until the op table carries them (issue 8) -----------


def _max_partials(a: Array, b: Array, x: Array) -> tuple[np.ndarray, np.ndarray]:
    # A tie splits dx evenly, as in the scalar rule.
    da = np.where(a > b, 1.0, np.where(a < b, 0.0, 0.5))
    return da, 1.0 - da


_TODAY_BY_NAME: dict[str, ArrayForms] = {
    "add": ArrayForms(lambda a, b: a + b, lambda a, b, x: (1.0, 1.0), _everywhere, True),
    "mul": ArrayForms(lambda a, b: a * b, lambda a, b, x: (b, a), _everywhere, True),
    "div": ArrayForms(lambda a, b: a / b, lambda a, b, x: (1.0 / b, -x / b), lambda a, b: b != 0, True),
    "pow": ArrayForms(
        lambda a, b: np.power(a, b),
        lambda a, b, x: (b * x / a, x * np.log(a)),
        lambda a, b: a > 0,
        True,
    ),
    "max": ArrayForms(lambda a, b: np.where(a >= b, a, b), _max_partials, _everywhere, True),
    "relu": ArrayForms(
        lambda a: np.where(a > 0, a, 0.0), lambda a, x: (_where(a > 0, 1.0, 0.0),), _everywhere, True
    ),
    "exp": ArrayForms(np.exp, lambda a, x: (x,), _everywhere, True),
    "arctan": ArrayForms(np.arctan, lambda a, x: (1.0 / (1.0 + a * a),), _everywhere, True),
    "log": ArrayForms(np.log, lambda a, x: (1.0 / a,), lambda a: a > 0, True),
}


def _pow_number(k: float) -> ArrayForms:
    """``x = a ** k`` for a number exponent ``k``: the array forms of ``pow_gate(k)``."""
    integral = k == int(k)

    def forward(a: Array) -> Array:
        return np.power(a, k)

    def partials(a: Array, x: Array) -> tuple[Array]:
        # k * x / a, except at a == 0, where the scalar rule gives 0, 1 or inf by k.
        at_zero = 0.0 if k > 1 or k == 0 else 1.0 if k == 1 else math.inf
        return (np.where(a == 0, at_zero, k * x / a),)

    def defined(a: Array) -> np.ndarray | None:
        if k < 0 and not integral:
            return a > 0
        if k < 0:
            return a != 0
        if not integral:
            return a >= 0
        return None

    return ArrayForms(forward, partials, defined, True)


def _today(gate: Gate) -> ArrayForms | None:
    if gate.exponent is not None:
        return _pow_number(gate.exponent)
    forms = _TODAY_BY_NAME.get(gate.name)
    # Only the table's own gate of that name: a user's gate may reuse a name with other rules.
    return forms if forms is not None and GATES.get(gate.name) is gate else None


# -- any gate, sample by sample through its scalar forms ----------------------------------------------

_REFUSALS = (DomainError, ValueError, ZeroDivisionError, OverflowError)


def _rows(operands: tuple[Array, ...]) -> tuple[int, list[list[float]]]:
    n = max((np.size(op) for op in operands), default=1)
    columns = [np.broadcast_to(np.asarray(op, dtype=float), (n,)).tolist() for op in operands]
    return n, [list(row) for row in zip(*columns)]


def _sample_by_sample(gate: Gate) -> ArrayForms:
    def forward(*operands: Array) -> np.ndarray:
        n, rows = _rows(operands)
        out = np.empty(n)
        for i, row in enumerate(rows):
            try:
                out[i] = gate.forward(*row)
            except _REFUSALS:
                out[i] = math.nan
        return out

    def partials(*operands_and_x: Array) -> tuple[np.ndarray, ...]:
        n, rows = _rows(operands_and_x)
        out = np.empty((gate.arity, n))
        for i, row in enumerate(rows):
            out[:, i] = gate.partials(*row)
        return tuple(out)

    def defined(*operands: Array) -> np.ndarray:
        n, rows = _rows(operands)
        mask = np.ones(n, dtype=bool)
        for i, row in enumerate(rows):
            try:
                gate.forward(*row)
            except (DomainError, ValueError, ZeroDivisionError):
                mask[i] = False
            except OverflowError:
                pass  # inside the domain; the tape sees the inf and reports an overflow
        return mask

    return ArrayForms(forward, partials, defined, False)
