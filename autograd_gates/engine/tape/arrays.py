"""Each gate's array forms: its forward, local derivatives and domain over a whole batch at once.

The tape replays a gate on numpy arrays, one entry per sample (a parameter or a constant is a
plain float, broadcast). It reads them from the op table, where every gate carries them next to
its scalar forms, compiled from the same rule texts (``gates.make_gate``):

* ``array_forward(*operands) -> ndarray``: the forward, elementwise;
* ``array_partials(*operands, x) -> tuple``: the local derivatives (``x`` is the output), the
  same rules as ``partials``;
* ``array_defined(*operands) -> ndarray[bool]``, or ``None`` for a gate defined everywhere:
  which samples lie inside the domain.

Array forms never raise on a bad sample: they return NaN or inf there, and the tape finds the
gate and the sample and raises the scalar gate's own error, naming them. So a gate added to the
table (or with ``register_gate``) replays on the tape the day it is added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..table import Gate

__all__ = ["ArrayForms", "array_forms"]

Array = np.ndarray | float


@dataclass(frozen=True)
class ArrayForms:
    """A gate's forward, local derivatives and domain mask, over arrays."""

    forward: Callable[..., Array]
    partials: Callable[..., tuple[Array, ...]]
    defined: Callable[..., np.ndarray | None]
    has_domain: bool  # False: defined everywhere, no mask to check


def _everywhere(*operands: Array) -> None:
    return None


def array_forms(gate: Gate) -> ArrayForms:
    """The array forms of ``gate``, from its entry in the op table."""
    defined = gate.array_defined
    return ArrayForms(gate.array_forward, gate.array_partials, defined or _everywhere, defined is not None)
