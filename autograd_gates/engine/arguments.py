"""Checks of the numbers users pass to models, losses, optimizers, the training loop and data sets.

Written once so that the same mistake gets the same message everywhere: the argument's name,
what it must be, and what was passed (``lr must be a finite number > 0, got 0.0``). A bool is
refused even though Python counts it as an int: ``epochs=True`` is a mistake, not 1.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["count", "finite_number"]


def count(n: object, name: str, minimum: int = 1) -> int:
    """``n`` as an ``int`` if it is an integer ``>= minimum``, else a ``ValueError`` naming ``name``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {wanted}, got {n!r}")
    return int(n)


def finite_number(
    x: object,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``x`` as a ``float`` if it is a finite real number within the bounds given.

    ``low`` and ``high`` are included unless ``low_open`` / ``high_open``. Anything else
    (a NaN, an infinity, a string, a bool, a number out of bounds) is a ``ValueError``
    naming ``name`` and the bounds.
    """
    fits = not isinstance(x, bool) and isinstance(x, numbers.Real) and math.isfinite(x)
    if fits and low is not None:
        fits = x > low if low_open else x >= low
    if fits and high is not None:
        fits = x < high if high_open else x <= high
    if not fits:
        bounds = _bounds(low, high, low_open, high_open)
        raise ValueError(f"{name} must be a finite number{bounds}, got {x!r}")
    return float(x)


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""
