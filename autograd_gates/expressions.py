"""Expressions as data: a frozen, hashable AST over every gate and composed function.

An ``Expr`` is what a property test generates and what a report prints. It can

* print itself as readable infix (``str(expr)``) that is also valid Python with the names
  this module exports, so a failing example can be pasted back in::

      >>> from autograd_gates.expressions import variables, sigmoid, maximum
      >>> x0, x1 = variables(2)
      >>> e = sigmoid(x0 * x1) + maximum(x0, 2.0) ** 2
      >>> print(e)
      sigmoid(x0 * x1) + maximum(x0, 2.0) ** 2
      >>> e.evaluate([1.0, 0.0])
      4.5

* build engine nodes, ``expr.build(values)``, with *structural memoization*: equal
  subexpressions become one shared node, so the circuit is a DAG (what catches
  ordering and accumulation bugs in a backward pass);
* evaluate itself with ``math`` on floats (``evaluate``), test whether a point lies
  comfortably inside every gate's domain (``in_domain``), and compute a reference
  gradient in 60-digit ``decimal`` arithmetic (``reference_grad``) that shares no code
  with the engine.

Operations: the gates ``add mul div pow`` (Value exponent) ``powk`` (number exponent)
``max relu exp log arctan``, and the composed ``sub neg min abs sigmoid tanh``.
"""

from __future__ import annotations

import decimal
import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .engine.gates import GATES
from .engine.value import Value

__all__ = [
    "Expr",
    "ExprFunction",
    "OPS",
    "GATE_OPS",
    "COMPOSED_OPS",
    "var",
    "const",
    "variables",
    "exp",
    "log",
    "arctan",
    "relu",
    "sigmoid",
    "tanh",
    "maximum",
    "minimum",
]

Number = float | int


@dataclass(frozen=True)
class OpSpec:
    """How one operation prints, builds engine nodes, evaluates, and where it is safe."""

    name: str
    arity: int
    build: Callable[..., Value]  # (operands as Values, k) -> Value
    evaluate: Callable[..., float]  # (operands as floats, k) -> float, with math only
    decimal: Callable[..., Decimal]  # (operands as Decimals, k) -> Decimal
    infix: str = ""  # "+" for an infix operator, "" for a call
    precedence: int = 5  # Python's binding strength: 1 (+ -), 2 (* /), 3 (unary -), 4 (**), 5 (atoms)


def _dsigmoid(a: Decimal) -> Decimal:
    return 1 / (1 + (-a).exp())


def _dtanh(a: Decimal) -> Decimal:
    e = (2 * a).exp()
    return (e - 1) / (e + 1)


def _datan(a: Decimal) -> Decimal:
    # arctan(a) = 2 arctan(a / (1 + sqrt(1 + a^2))) until |a| < 0.05, then the Taylor series.
    doublings = 0
    while abs(a) >= Decimal("0.05"):
        a = a / (1 + (1 + a * a).sqrt())
        doublings += 1
    term, total, n, a2 = a, a, 1, a * a
    tiny = Decimal(10) ** (-decimal.getcontext().prec - 2)
    while abs(term) > tiny:
        term *= -a2
        n += 2
        total += term / n
    return total * (2**doublings)


def _fsigmoid(a: float) -> float:
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _fpow(a: float, b: float) -> float:
    if a <= 0:
        raise ValueError(f"a ** b with an expression exponent needs a > 0, got a = {a!r}")
    return a**b


def _fpowk(a: float, k: float) -> float:
    if a == 0 and k < 0:
        raise ZeroDivisionError(f"0 ** {k!r}")
    if a < 0 and k != int(k):
        raise ValueError(f"negative base {a!r} to the fractional power {k!r}")
    return a**k


def _dpowk(a: Decimal, k: float) -> Decimal:
    if k == 0:
        return Decimal(1)  # decimal calls 0 ** 0 undefined; floats and the engine give 1
    if k == int(k):
        return a ** int(k)
    return a ** Decimal(k)


OPS: dict[str, OpSpec] = {
    s.name: s
    for s in (
        OpSpec("add", 2, lambda a, b, k: a + b, lambda a, b, k: a + b, lambda a, b, k: a + b, "+", 1),
        OpSpec("sub", 2, lambda a, b, k: a - b, lambda a, b, k: a - b, lambda a, b, k: a - b, "-", 1),
        OpSpec("mul", 2, lambda a, b, k: a * b, lambda a, b, k: a * b, lambda a, b, k: a * b, "*", 2),
        OpSpec("div", 2, lambda a, b, k: a / b, lambda a, b, k: a / b, lambda a, b, k: a / b, "/", 2),
        OpSpec("neg", 1, lambda a, k: -a, lambda a, k: -a, lambda a, k: -a, "-", 3),
        OpSpec("pow", 2, lambda a, b, k: a**b, lambda a, b, k: _fpow(a, b), lambda a, b, k: a**b, "**", 4),
        OpSpec("powk", 1, lambda a, k: a**k, _fpowk, _dpowk, "**", 4),
        OpSpec("exp", 1, lambda a, k: a.exp(), lambda a, k: math.exp(a), lambda a, k: a.exp()),
        OpSpec("log", 1, lambda a, k: a.log(), lambda a, k: math.log(a), lambda a, k: a.ln()),
        OpSpec("arctan", 1, lambda a, k: a.arctan(), lambda a, k: math.atan(a), lambda a, k: _datan(a)),
        OpSpec("relu", 1, lambda a, k: a.relu(), lambda a, k: max(a, 0.0), lambda a, k: max(a, Decimal(0))),
        OpSpec("max", 2, lambda a, b, k: a.max(b), lambda a, b, k: max(a, b), lambda a, b, k: max(a, b)),
        OpSpec("min", 2, lambda a, b, k: a.min(b), lambda a, b, k: min(a, b), lambda a, b, k: min(a, b)),
        OpSpec("abs", 1, lambda a, k: a.abs(), lambda a, k: abs(a), lambda a, k: abs(a)),
        OpSpec("sigmoid", 1, lambda a, k: a.sigmoid(), lambda a, k: _fsigmoid(a), lambda a, k: _dsigmoid(a)),
        OpSpec("tanh", 1, lambda a, k: a.tanh(), lambda a, k: math.tanh(a), lambda a, k: _dtanh(a)),
    )
}
# The gates of the table (powk is the number-exponent pow family) and those composed from them.
GATE_OPS = tuple(name for name in OPS if name in GATES or name == "powk")
COMPOSED_OPS = tuple(name for name in OPS if name not in GATE_OPS)
_CALL_NAMES = {"max": "maximum", "min": "minimum"}  # names that do not shadow Python's builtins


@dataclass(frozen=True)
class Expr:
    """A node of an expression: ``op`` with operands ``args`` and a number ``param``.

    ``op`` is ``"var"`` (``param`` is the variable's index), ``"const"`` (``param`` is the
    number), or an operation of ``OPS`` (``param`` is the exponent for ``"powk"``).
    Frozen and hashable; equal trees compare and hash equal.
    """

    op: str
    args: tuple[Expr, ...] = ()
    param: float | int | None = None
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.op == "var":
            if not isinstance(self.param, int) or self.param < 0:
                raise ValueError(f"a variable needs an index >= 0, got {self.param!r}")
        elif self.op == "const":
            object.__setattr__(self, "param", _finite(self.param, "a constant"))
        else:
            spec = OPS.get(self.op)
            if spec is None:
                raise ValueError(f"unknown operation {self.op!r}; known: var, const, {', '.join(OPS)}")
            if len(self.args) != spec.arity or not all(isinstance(a, Expr) for a in self.args):
                raise TypeError(f"{self.op} takes {spec.arity} Expr operand(s), got {self.args!r}")
            if self.op == "powk":
                object.__setattr__(self, "param", _finite(self.param, "the exponent"))
        object.__setattr__(self, "_hash", hash((self.op, self.args, self.param)))

    def __hash__(self) -> int:
        return self._hash

    # -- building expressions with Python operators ---------------------------------------

    def __add__(self, other: Expr | Number) -> Expr:
        return Expr("add", (self, _lift(other)))

    def __radd__(self, other: Number) -> Expr:
        return Expr("add", (_lift(other), self))

    def __sub__(self, other: Expr | Number) -> Expr:
        return Expr("sub", (self, _lift(other)))

    def __rsub__(self, other: Number) -> Expr:
        return Expr("sub", (_lift(other), self))

    def __mul__(self, other: Expr | Number) -> Expr:
        return Expr("mul", (self, _lift(other)))

    def __rmul__(self, other: Number) -> Expr:
        return Expr("mul", (_lift(other), self))

    def __truediv__(self, other: Expr | Number) -> Expr:
        return Expr("div", (self, _lift(other)))

    def __rtruediv__(self, other: Number) -> Expr:
        return Expr("div", (_lift(other), self))

    def __pow__(self, exponent: Expr | Number) -> Expr:
        if isinstance(exponent, Expr):
            return Expr("pow", (self, exponent))
        return Expr("powk", (self,), exponent)

    def __rpow__(self, base: Number) -> Expr:
        return Expr("pow", (_lift(base), self))

    def __neg__(self) -> Expr:
        return Expr("neg", (self,))

    def __abs__(self) -> Expr:
        return Expr("abs", (self,))

    # -- printing ---------------------------------------------------------------------------

    @property
    def precedence(self) -> int:
        if self.op == "const":
            return 3 if self.param < 0 else 5  # type: ignore[operator]
        if self.op == "var":
            return 5
        return OPS[self.op].precedence

    def __str__(self) -> str:
        return _format(self)

    @property
    def n_vars(self) -> int:
        """One more than the largest variable index used (0 for a constant expression)."""
        return 1 + max((n.param for n in self.nodes() if n.op == "var"), default=-1)  # type: ignore[type-var]

    @property
    def size(self) -> int:
        """The number of distinct nodes (shared subexpressions counted once)."""
        return sum(1 for _ in self.nodes())

    def nodes(self) -> Iterator[Expr]:
        """Every distinct subexpression once, operands before the expressions using them."""
        seen: set[Expr] = set()
        stack: list[tuple[Expr, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                yield node
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append((node, True))
            for child in reversed(node.args):
                if child not in seen:
                    stack.append((child, False))

    # -- evaluation -------------------------------------------------------------------------

    def _fold(self, xs: Sequence, constant: Callable[[float], object], kind: str) -> dict[Expr, Any]:
        """Every node's value, operands first: a variable's from ``xs``, a constant's through
        ``constant``, an operation's through its ``OpSpec``'s ``kind`` (build, evaluate, decimal)."""
        values: dict[Expr, Any] = {}
        for node in self.nodes():
            if node.op == "var":
                values[node] = _variable(xs, node.param)  # type: ignore[arg-type]
            elif node.op == "const":
                values[node] = constant(node.param)  # type: ignore[arg-type]
            else:
                values[node] = getattr(OPS[node.op], kind)(*(values[a] for a in node.args), node.param)
        return values

    def build(self, values: Sequence[Value | Number]) -> Value:
        """Engine nodes for this expression; equal subexpressions become one shared node."""
        leaves = [v if isinstance(v, Value) else Value(v, f"x{i}") for i, v in enumerate(values)]
        return self._fold(leaves, Value, "build")[self]

    def as_function(self) -> ExprFunction:
        """``f(*values) -> Value``, ready for ``gradcheck`` and ``numerical_grad``."""
        return ExprFunction(self)

    def evaluate(self, xs: Sequence[Number]) -> float:
        """The value in plain float arithmetic with ``math`` (raises outside the domain)."""
        values = self._float_values(xs)
        return values[self]

    def _float_values(self, xs: Sequence[Number]) -> dict[Expr, float]:
        return self._fold([float(x) for x in xs], float, "evaluate")

    def in_domain(
        self, xs: Sequence[Number], *, margin: float = 1e-3, max_abs: float = 1e8, max_exp: float = 50.0
    ) -> bool:
        """True when ``xs`` lies comfortably inside every operation's domain.

        ``margin`` keeps away from edges and kinks: log and a real-exponent base need
        ``a > margin``; a divisor or the base of a negative power ``|b| > margin``;
        relu and abs ``|a| > margin``; max and min ``|a - b| > margin * max(1, |a|, |b|)``
        unless both operands are the same expression (a permanent tie, smooth). exp needs
        ``a <= max_exp``, and every intermediate value must be finite with ``|v| <= max_abs``.
        """
        try:
            values = self._float_values(xs)
        except (ValueError, ArithmeticError):
            return False
        for node, v in values.items():
            if not math.isfinite(v) or abs(v) > max_abs:
                return False
            if not node.args:
                continue
            a = values[node.args[0]]
            b = values[node.args[1]] if len(node.args) == 2 else 0.0
            op = node.op
            if op == "log" and a <= margin:
                return False
            if op == "div" and abs(b) <= margin:
                return False
            if op == "pow" and a <= margin:
                return False
            if op == "powk":
                k = node.param
                if k != int(k) and a <= margin:  # type: ignore[arg-type]
                    return False
                if k < 0 and abs(a) <= margin:  # type: ignore[operator]
                    return False
            if op == "exp" and a > max_exp:
                return False
            if op in ("relu", "abs") and abs(a) <= margin:
                return False
            if op in ("max", "min") and node.args[0] != node.args[1]:
                if abs(a - b) <= margin * max(1.0, abs(a), abs(b)):
                    return False
        return True

    def reference_grad(self, xs: Sequence[Number], *, digits: int = 60) -> list[float]:
        """The gradient by central differences in ``digits``-digit decimal arithmetic.

        Independent of the engine: only the operations' forward definitions in ``Decimal``
        are used (no derivative rules), with a step of ``1e-25 * max(1, |x|)``, so the
        result is exact to float precision wherever the function is smooth near ``xs``.
        Covers variables ``0 .. len(xs) - 1``.
        """
        with decimal.localcontext() as ctx:
            ctx.prec = digits
            ctx.Emax, ctx.Emin = 999_999, -999_999
            point = [Decimal(float(x)) for x in xs]
            grads = []
            for i in range(len(point)):
                h = Decimal("1e-25") * max(Decimal(1), abs(point[i]))
                up = self._fold([*point[:i], point[i] + h, *point[i + 1 :]], Decimal, "decimal")[self]
                down = self._fold([*point[:i], point[i] - h, *point[i + 1 :]], Decimal, "decimal")[self]
                grads.append(float((up - down) / (2 * h)))
            return grads


class ExprFunction:
    """``f(*values) -> expr.build(values)``: an expression as a function of Values.

    ``description`` is the expression's text and ``setup`` the Python that recreates it,
    which ``gradcheck`` uses for its "reproduce" line.
    """

    def __init__(self, expr: Expr) -> None:
        self.expr = expr
        self.__name__ = "f"

    def __call__(self, *values: Value | Number) -> Value:
        return self.expr.build(values)

    @property
    def description(self) -> str:
        return str(self.expr)

    @property
    def setup(self) -> str:
        n = max(1, self.expr.n_vars)
        names = ", ".join(f"x{i}" for i in range(n))
        return (
            f"from autograd_gates.expressions import *; {names}{',' if n == 1 else ''} = variables({n}); "
            f"f = ({self.expr}).as_function()"
        )

    def __repr__(self) -> str:
        return f"({self.expr}).as_function()"


# -- constructors -----------------------------------------------------------------------------


def var(index: int) -> Expr:
    """The variable ``x{index}``."""
    return Expr("var", (), index)


def const(value: Number) -> Expr:
    """A constant (a leaf of the circuit that is not an input)."""
    return Expr("const", (), value)


def variables(n: int) -> tuple[Expr, ...]:
    """``x0, x1, ... = variables(n)``."""
    return tuple(var(i) for i in range(n))


def exp(a: Expr | Number) -> Expr:
    return Expr("exp", (_lift(a),))


def log(a: Expr | Number) -> Expr:
    return Expr("log", (_lift(a),))


def arctan(a: Expr | Number) -> Expr:
    return Expr("arctan", (_lift(a),))


def relu(a: Expr | Number) -> Expr:
    return Expr("relu", (_lift(a),))


def sigmoid(a: Expr | Number) -> Expr:
    return Expr("sigmoid", (_lift(a),))


def tanh(a: Expr | Number) -> Expr:
    return Expr("tanh", (_lift(a),))


def maximum(a: Expr | Number, b: Expr | Number) -> Expr:
    return Expr("max", (_lift(a), _lift(b)))


def minimum(a: Expr | Number, b: Expr | Number) -> Expr:
    return Expr("min", (_lift(a), _lift(b)))


# -- helpers ----------------------------------------------------------------------------------


def _lift(x: Expr | Number) -> Expr:
    if isinstance(x, Expr):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"an expression operand must be an Expr or a number, got {type(x).__name__} {x!r}")
    return const(x)


def _finite(x: object, what: str) -> float:
    """``x`` as a finite float (numpy scalars included; -0.0 becomes 0.0), or a clear error."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(x).__name__} {x!r}")
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value + 0.0


def _variable(xs: Sequence, index: int):  # noqa: ANN202 - Value, float or Decimal
    if index >= len(xs):
        raise IndexError(f"the expression uses x{index} but only {len(xs)} value(s) were given")
    return xs[index]


def _format(expr: Expr) -> str:
    """Infix text with the fewest parentheses Python needs to read it back."""
    texts: dict[Expr, str] = {}
    for node in expr.nodes():
        op = node.op
        if op == "var":
            texts[node] = f"x{node.param}"
        elif op == "const":
            texts[node] = repr(node.param)
        else:
            spec = OPS[op]
            args = node.args

            def wrapped(child: Expr, at_least: int) -> str:
                text = texts[child]
                return text if child.precedence >= at_least else f"({text})"

            if op == "powk":
                k: float = node.param  # type: ignore[assignment]
                exponent = str(int(k)) if k == int(k) else repr(k)
                if k < 0:
                    exponent = f"({exponent})"
                texts[node] = f"{wrapped(args[0], 5)} ** {exponent}"
            elif op == "pow":
                exponent = texts[args[1]] if args[1].op != "const" else f"const({args[1].param!r})"
                if args[1].op != "const" and args[1].precedence < 3:
                    exponent = f"({exponent})"
                texts[node] = f"{wrapped(args[0], 5)} ** {exponent}"
            elif op == "neg":
                texts[node] = f"-{wrapped(args[0], 4)}"
            elif spec.infix:
                p = spec.precedence
                texts[node] = f"{wrapped(args[0], p)} {spec.infix} {wrapped(args[1], p + 1)}"
            elif op == "abs":
                texts[node] = f"abs({texts[args[0]]})"
            else:
                name = _CALL_NAMES.get(op, op)
                texts[node] = f"{name}({', '.join(texts[a] for a in args)})"
    return texts[expr]
