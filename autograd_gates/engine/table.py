"""The op table: what a gate is, and the one dictionary that holds every gate.

A ``Gate`` is one op's whole story. Written by hand (in ``gates.py``, or by a user through
``register_gate``):

* ``expr``, how its forward is written (``a * b``, ``sigmoid(a)``), and ``operator`` if it is a
  Python operator (``*``), else it is a function called by its ``name`` (or an ``alias``);
* ``local``, its local derivatives as text in the slides' notation, one per operand: the
  operands are ``a`` and ``b``, the output ``x`` (``("b", "a")`` for ``a * b``; sigmoid's
  ``x * (1 - x)``);
* ``conditions``, its domain: each a condition text (``b != 0``) and what to say when it fails;
* for a **composite** gate, ``composition``: how the same function is built from other gates
  (``exp(min(a, 0)) / (1 + exp(-abs(a)))`` for sigmoid). A composite is one node, one trace
  line and one drawn op; ``expand=True`` in the trace and the drawing shows its composition;
* ``definition``, the mathematics (``1 / (1 + exp(-a))``), used by the docs and as the
  high-precision reference of the checks.

Derived from those texts when the gate is made (``gates.make_gate``): the float functions
``forward`` and ``partials`` (the backward pass multiplies the partials by the upstream ``dx``
and accumulates: the chain rule, written once, in ``value.py``), the numpy ``array_forward``,
``array_partials`` and ``array_defined`` (the tape's), and ``piece``, the smooth piece an
input lies on, read off the comparisons in the texts (the gradient checker uses it to tell a
kink from a bug).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the trees are made by formula.py, which reads this table
    from .formula import Expr

__all__ = ["Gate", "Condition", "GATES", "FAMILIES", "OPERAND_NAMES", "find_function", "gate_named"]

OPERAND_NAMES = ("a", "b")


@dataclass(frozen=True)
class Condition:
    """One condition of a gate's domain: ``text`` must hold, else the gate says ``message``.

    ``kind`` is ``"domain"`` (a ``ValueError``) or ``"zero division"`` (a ``ZeroDivisionError``).
    """

    text: str
    message: str
    kind: str = "domain"


@dataclass(frozen=True, eq=False)
class Gate:
    name: str
    arity: int
    expr: str  # the forward as text, in a and b
    local: tuple[str, ...]  # each operand's local derivative, as text in a, b, x
    symbol: str  # what the drawing shows on the op node
    forward: Callable[..., float] = field(repr=False)
    partials: Callable[..., tuple[float, ...]] = field(repr=False)
    array_forward: Callable[..., object] = field(repr=False)
    array_partials: Callable[..., tuple[object, ...]] = field(repr=False)
    array_defined: Callable[..., object] | None = field(repr=False)
    piece: Callable[..., tuple[int, ...]] | None = field(repr=False)
    expr_tree: Expr = field(repr=False)
    local_trees: tuple[Expr, ...] = field(repr=False)
    rule: str = ""  # x = a * b  ->  da = b * dx, db = a * dx (printed from the trees)
    operator: str | None = None  # "+", "-", "*", "/", "**" for the operators, else a function
    aliases: tuple[str, ...] = ()  # other names a formula may call it by
    defaults: tuple[float, ...] = ()  # values of trailing operands a call may leave out
    conditions: tuple[Condition, ...] = ()
    definition: str = ""
    composition: str = ""
    composition_tree: Expr | None = field(default=None, repr=False)
    definition_tree: Expr | None = field(default=None, repr=False)
    note: str = ""  # what it does at its kinks, in words
    latex: str = ""  # a LaTeX template for one operand, '#' marking it (r"\sqrt{#}")
    exponent: float | None = None  # only for the a ** k family
    builtin: bool = True

    @property
    def operands(self) -> tuple[str, ...]:
        return OPERAND_NAMES[: self.arity]

    @property
    def domain(self) -> str:
        """Where the gate is defined, as one condition text (``""``: every real operand)."""
        return " and ".join(c.text for c in self.conditions)

    @property
    def is_composite(self) -> bool:
        return bool(self.composition)

    def at_kink(self, *operands: float) -> bool:
        """True where two smooth pieces meet (relu at 0, a tie of max, the pole of a / b)."""
        return self.piece is not None and 0 in self.piece(*operands)

    def __repr__(self) -> str:
        return f"<gate {self.name}: {self.rule}>"

    def __reduce__(self) -> tuple[object, ...]:
        # A gate pickles as its name (and exponent), so a pickled circuit holds no code.
        return (gate_named, (self.name, self.exponent))


GATES: dict[str, Gate] = {}  # filled by gates.py (built-in) and registry.py (register_gate)
FAMILIES: dict[str, Callable[[float], Gate]] = {}  # parametrized gates: "pow" -> pow_gate(k)


def gate_named(name: str, exponent: float | None = None) -> Gate:
    """The gate called ``name`` (with ``exponent``, the member of a family such as ``a ** k``)."""
    if exponent is not None and name in FAMILIES:
        return FAMILIES[name](exponent)
    gate = GATES.get(name)
    if gate is None:
        raise LookupError(
            f"no gate named {name!r} in the table; a gate added with register_gate must be "
            "registered again before a circuit that uses it is loaded"
        )
    return gate


def find_function(name: str) -> Gate | None:
    """The gate a formula calls ``name(...)``: a function by its name or alias, an operator by alias."""
    gate = GATES.get(name)
    if gate is not None and gate.operator is None:
        return gate
    for gate in GATES.values():
        if name in gate.aliases:
            return gate
    return None
