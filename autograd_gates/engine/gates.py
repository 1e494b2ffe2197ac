"""The gate table: every primitive operation, defined once.

A gate's whole story lives in its entry here:

* ``forward`` computes the output from the operands' floats and raises on bad input;
* ``partials`` returns the local derivatives ``(dx/da, dx/db)`` given the operands
  and the output ``x``; the backward pass multiplies them by the upstream ``dx``
  and accumulates (the chain rule, written once, in ``value.py``);
* ``local`` writes the same derivatives as text, in the slides' notation, and
  ``rule`` puts them together: ``x = a * b  ->  da = b * dx, db = a * dx``;
* ``domain`` says in words where the gate is defined, and ``piece`` names the
  smooth piece an input lies on (``None`` for a gate that is smooth everywhere),
  so the gradient checker can tell a kink from a bug.

Operands are called ``a`` and ``b``, the output ``x`` and its gradient ``dx``,
as on the slides. Everything else -- Value's operators, backward, the checks,
the drawing, the derivation trace, the docs -- reads this table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from .errors import DomainError

__all__ = ["Gate", "GATES", "pow_gate", "gate_examples", "OPERAND_NAMES"]

OPERAND_NAMES = ("a", "b")


@dataclass(frozen=True, eq=False)
class Gate:
    name: str
    symbol: str  # what the drawing shows on the op node
    expr: str  # the forward written with a, b (and k for pow)
    forward: Callable[..., float]
    partials: Callable[..., tuple[float, ...]]
    local: tuple[str, ...]  # each local derivative as text; evaluable with a, b, x, exp, log
    domain: str
    piece: Callable[..., object] | None = None
    exponent: float | None = None  # only for the pow family

    @property
    def arity(self) -> int:
        return len(self.local)

    @property
    def operands(self) -> tuple[str, ...]:
        return OPERAND_NAMES[: self.arity]

    @property
    def rule(self) -> str:
        """The rule as the slides write it: ``x = a * b  ->  da = b * dx, db = a * dx``."""
        steps = ", ".join(f"d{v} = {d} * dx" for v, d in zip(self.operands, self.local))
        return f"x = {self.expr}  ->  {steps}"

    def __repr__(self) -> str:
        return f"<gate {self.name}: {self.rule}>"


# -- forward functions that guard their domain ------------------------------------------


def _div(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("division by zero: the divisor b is 0")
    return a / b


def _exp(a: float) -> float:
    try:
        return math.exp(a)
    except OverflowError:
        raise OverflowError("exp(a) overflows a float for a > 709.78") from None


def _log(a: float) -> float:
    if a <= 0:
        raise DomainError("log is defined only for a > 0")
    return math.log(a)


def _pow_value(a: float, b: float) -> float:
    # A Value exponent gets a gradient d/db = x * log(a), which needs a > 0.
    if a <= 0:
        raise DomainError(
            "a ** b with a Value exponent b needs a positive base a (d/db = x * log(a)); "
            "use a number exponent for a <= 0"
        )
    try:
        return a**b
    except OverflowError:
        raise OverflowError("a ** b overflows a float") from None


def _max_piece(a: float, b: float) -> int:
    return (a > b) - (a < b)


# -- the table -----------------------------------------------------------------------------

_ALL = "all real a, b"

GATES: dict[str, Gate] = {
    g.name: g
    for g in (
        Gate(
            name="add",
            symbol="+",
            expr="a + b",
            forward=lambda a, b: a + b,
            partials=lambda a, b, x: (1.0, 1.0),
            local=("1", "1"),
            domain=_ALL,
        ),
        Gate(
            name="mul",
            symbol="*",
            expr="a * b",
            forward=lambda a, b: a * b,
            partials=lambda a, b, x: (b, a),
            local=("b", "a"),
            domain=_ALL,
        ),
        Gate(
            name="div",
            symbol="/",
            expr="a / b",
            forward=_div,
            partials=lambda a, b, x: (1.0 / b, -x / b),
            local=("1 / b", "-a / (b * b)"),
            domain="all real a; b != 0",
            # The sign of b: a stencil that jumps over the pole at b = 0 is seen as leaving the piece.
            piece=lambda a, b: (b > 0) - (b < 0),
        ),
        Gate(
            name="pow",
            symbol="**",
            expr="a ** b",
            forward=_pow_value,
            partials=lambda a, b, x: (b * x / a, x * math.log(a)),
            local=("b * a ** (b - 1)", "x * log(a)"),
            domain="a > 0 (a Value exponent); for a number exponent see pow_gate",
        ),
        Gate(
            name="max",
            symbol="max",
            expr="max(a, b)",
            forward=lambda a, b: a if a >= b else b,
            # A tie splits dx evenly: what central differences see, and PyTorch's rule.
            partials=lambda a, b, x: (1.0, 0.0) if a > b else (0.0, 1.0) if a < b else (0.5, 0.5),
            local=("(1 if a > b else 1/2 if a == b else 0)", "(1 if b > a else 1/2 if a == b else 0)"),
            domain=_ALL + "; not differentiable where a == b (the gradient splits in half)",
            piece=_max_piece,
        ),
        Gate(
            name="relu",
            symbol="relu",
            expr="max(0, a)",
            forward=lambda a: a if a > 0 else 0.0,
            # The slides' rule, relu'(0) = 0: its own gate, since a max gate would split the tie.
            partials=lambda a, x: (1.0 if a > 0 else 0.0,),
            local=("(1 if a > 0 else 0)",),
            domain="all real a; not differentiable at a == 0 (the slides take 0 there)",
            piece=lambda a: (a > 0) - (a < 0),
        ),
        Gate(
            name="exp",
            symbol="exp",
            expr="exp(a)",
            forward=_exp,
            partials=lambda a, x: (x,),
            local=("x",),
            domain="all real a; overflows for a > 709.78",
        ),
        Gate(
            name="arctan",
            symbol="arctan",
            expr="arctan(a)",
            forward=math.atan,
            # Cannot be composed from the other gates, so it is a gate of its own.
            partials=lambda a, x: (1.0 / (1.0 + a * a),),
            local=("1 / (1 + a * a)",),
            domain="all real a",
        ),
        Gate(
            name="log",
            symbol="log",
            expr="log(a)",
            forward=_log,
            partials=lambda a, x: (1.0 / a,),
            local=("1 / a",),
            domain="a > 0",
        ),
    )
}


def _format_number(k: float) -> str:
    # Whole exponents read as integers (a ** 2), but not as a 301-digit one for 1e300.
    return str(int(k)) if k == int(k) and abs(k) < 1e15 else repr(k)


def pow_gate(k: float) -> Gate:
    """The gate ``x = a ** k`` for a number exponent ``k`` (one shared gate per ``k``)."""
    return _pow_gate(float(k))


@lru_cache(maxsize=1024)  # bounded: a program may raise to many different float exponents
def _pow_gate(k: float) -> Gate:
    integral = k == int(k)

    def forward(a: float) -> float:
        if a == 0 and k < 0:
            raise ZeroDivisionError(f"0 cannot be raised to the negative power {_format_number(k)}")
        if a < 0 and not integral:
            raise DomainError(
                f"a negative base to the fractional power {_format_number(k)} is not a real number"
            )
        try:
            return a**k
        except OverflowError:
            raise OverflowError(f"a ** {_format_number(k)} overflows a float") from None

    def partials(a: float, x: float) -> tuple[float]:
        if a == 0:
            # k * 0 ** (k - 1): 0 for k > 1 or k == 0, 1 for k == 1, infinite for 0 < k < 1.
            return (0.0 if k > 1 or k == 0 else 1.0 if k == 1 else math.inf,)
        return (k * x / a,)

    def piece(a: float) -> int:
        return (a > 0) - (a < 0)

    text = _format_number(k)
    if k == 2:
        local = "2 * a"
    elif k == 1:
        local = "1"
    elif k == 0:
        local = "0"
    else:
        power = _format_number(k - 1)
        local = f"{text} * a ** {power}" if k >= 1 else f"{text} * a ** ({power})"
    if k < 0:
        domain = "a != 0" + ("" if integral else "; a > 0 (fractional power)")
    elif integral:
        domain = "all real a"
    else:
        domain = "a >= 0 (fractional power)" + ("; not differentiable at 0" if k < 1 else "")
    return Gate(
        name="pow",
        symbol=f"**{text}",
        expr=f"a ** {text}" if k >= 0 else f"a ** ({text})",
        forward=forward,
        partials=partials,
        local=(local,),
        domain=domain,
        piece=None if integral and k >= 1 else piece,
        exponent=k,
    )


def gate_examples() -> list[Gate]:
    """Every gate in the table, with the pow family shown at representative exponents.

    Tests parametrize over this list, so a gate added to the table is checked the day it is added.
    """
    return [*GATES.values(), *(pow_gate(k) for k in (2, 3, 1, 0, -1, -2, 0.5, 1.5, -0.5))]
