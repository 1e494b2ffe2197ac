"""Checks of the numbers users pass to Values, models, losses, optimizers, the training loop and data sets.

Written once so that the same mistake gets the same error everywhere, naming the argument, what
it must be, and what was passed:

* the wrong **type** (a string, a list, ``None``, a bool where a number is wanted) is a ``TypeError``
  (``lr must be a number, got str '0.1'``);
* the right type with a bad **value** (NaN, an infinity, a number out of bounds) is a ``ValueError``
  (``lr must be a finite number > 0, got 0.0``).

A bool is refused even though Python counts it as an int: ``epochs=True`` is a mistake, not 1.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["count", "finite_float", "finite_number", "flag", "shown"]

NUMBER = "a number (int, float or numpy scalar)"


def finite_float(x: object, what: str, expected: str = NUMBER) -> float:
    """``x`` as a finite Python float, from an int, a float or a numpy scalar.

    ``TypeError`` (``{what} must be {expected}, got str 'x'``) for anything that is not a real
    number, a bool included; ``ValueError`` (``{what} must be finite, got inf``) for NaN or ±inf.
    The messages are those of ``Value(...)``, which can call this.
    """
    if x.__class__ is float:
        value = x
    elif isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            value = float(x)
        except OverflowError:  # an int beyond 1.8e308: as good as infinite
            raise ValueError(f"{what} must be finite, got {shown(x)}: too large for a float") from None
    else:
        raise TypeError(f"{what} must be {expected}, got {type(x).__name__} {shown(x)}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


def shown(x: object) -> str:
    """``repr(x)``, cut short when long (an int of 400 digits, a long string)."""
    text = repr(x)
    return text if len(text) <= 60 else text[:40] + f"... ({len(text)} characters)"


def count(n: object, name: str, minimum: int = 1) -> int:
    """``n`` as an ``int`` if it is an integer ``>= minimum``.

    ``TypeError`` if ``n`` is not an integer (``2.5``, ``"3"``, ``True``); ``ValueError`` if it is
    one below ``minimum``.
    """
    wanted = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be {wanted}, got {type(n).__name__} {n!r}")
    if n < minimum:
        raise ValueError(f"{name} must be {wanted}, got {int(n)!r}")
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

    ``low`` and ``high`` are included unless ``low_open`` / ``high_open``. Not a real number
    (a string, a bool, ``None``): ``TypeError``. A NaN, an infinity or a number out of bounds:
    ``ValueError``. Both name ``name`` and the bounds.
    """
    bounds = _bounds(low, high, low_open, high_open)
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a finite number{bounds}, got {type(x).__name__} {x!r}")
    try:
        fits = math.isfinite(x)
    except OverflowError:  # an int too large for a float
        fits = False
    if fits and low is not None:
        fits = x > low if low_open else x >= low
    if fits and high is not None:
        fits = x < high if high_open else x <= high
    if not fits:
        raise ValueError(f"{name} must be a finite number{bounds}, got {x!r}")
    return float(x)


def flag(x: object, name: str) -> bool:
    """``x`` if it is a bool (numpy's too), else a ``TypeError``: ``nonlin=1`` is refused, not guessed."""
    if isinstance(x, bool) or (type(x).__module__ == "numpy" and type(x).__name__ in ("bool", "bool_")):
        return bool(x)
    raise TypeError(f"{name} must be True or False, got {type(x).__name__} {x!r}")


def _bounds(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""
