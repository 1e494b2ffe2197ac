"""A safe reader for circuit expressions such as ``((a*b + c)*d)**2``: parsed, never evaluated.

The language is a small, Python-like whitelist:

* numbers (``2``, ``-3.5``, ``1e-3``), names (``a``, ``w1``, ``x_0``);
* ``+ - * / **``, unary ``-`` and ``+``, parentheses, with Python's precedence
  (``-a**2`` is ``-(a**2)``, ``a**b**c`` is ``a**(b**c)``);
* calls to the functions in ``FUNCTIONS``: the gates and activations of this library
  (``exp log relu sigmoid tanh abs arctan max min maximum minimum``, and from
  ``autograd_gates.activations`` ``identity binary_step softplus elu leaky_relu``).

Anything else -- attribute access, other calls, strings, subscripts, a number too large
for a float, nesting deeper than ``MAX_DEPTH``, more than ``MAX_LENGTH`` characters --
raises ``ExpressionError`` naming the position. Numbers are floats, so no operation can
take long or grow without bound (``9 ** 9 ** 9`` is an overflow, not a huge integer).
Nothing is executed: a hand-written tokenizer and recursive-descent parser build a small
tree, and ``build`` turns that tree into ``Value`` operations, exactly as the same
expression written in Python would.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

from .engine.errors import GateError
from .engine.value import Value, as_value, maximum, minimum
from .models import activations

__all__ = [
    "ExpressionError",
    "Expression",
    "Function",
    "FUNCTIONS",
    "parse",
    "MAX_LENGTH",
    "MAX_DEPTH",
    "CARET_WIDTH",
]

MAX_LENGTH = 10_000  # characters in an expression
MAX_DEPTH = 100  # nested parentheses, calls and unary signs
CARET_WIDTH = 72  # characters of the expression an error shows around the fault


class ExpressionError(ValueError):
    """An expression that cannot be read or built; ``position`` is the 0-based offset of the fault."""

    def __init__(self, message: str, expression: str, position: int, length: int = 1) -> None:
        self.message = message
        self.expression = expression
        self.position = max(0, min(position, len(expression)))
        self.length = max(1, length)
        super().__init__(self._text())

    def caret(self) -> str:
        """The expression, and under it a caret marking the fault.

        A long expression is cut to the ``CARET_WIDTH`` characters around the fault (``...``
        marks a cut), so the caret stays under it on a terminal line.
        """
        # Tabs, newlines and control characters (a terminal would act on them) become spaces.
        line = "".join(ch if ch.isprintable() else " " for ch in self.expression)
        start = max(0, min(self.position - CARET_WIDTH // 2, len(line) - CARET_WIDTH))
        shown = line[start : start + CARET_WIDTH]
        before = "..." if start > 0 else ""
        after = "..." if start + CARET_WIDTH < len(line) else ""
        at = self.position - start
        marks = "^" * max(1, min(self.length, len(shown) - at))
        return f"{before}{shown}{after}\n{' ' * (len(before) + at)}{marks}"

    def _text(self) -> str:
        return f"{self.message} (at position {self.position})\n{self.caret()}"


# -- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    start: int
    end: int


@dataclass(frozen=True)
class Number(Node):
    value: float


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "-" or "+"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # "+", "-", "*", "/", "**"
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]


# -- the functions an expression may call --------------------------------------------------


@dataclass(frozen=True)
class Function:
    """A callable name of the language: ``call(*operands)`` builds the gates."""

    name: str
    call: Callable[..., Value]
    min_args: int = 1
    max_args: int = 1


def _method(name: str) -> Callable[[Value | float], Value]:
    return lambda a: getattr(as_value(a, name), name)()


_METHODS = ("exp", "log", "arctan", "relu", "sigmoid", "tanh", "abs")  # Value's, one operand each

FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        *(Function(name, _method(name)) for name in _METHODS),
        Function("max", maximum, 2, 2),
        Function("min", minimum, 2, 2),
        # The names autograd_gates exports (and expressions.py prints) for the same two.
        Function("maximum", maximum, 2, 2),
        Function("minimum", minimum, 2, 2),
        Function("identity", activations.identity),
        Function("binary_step", activations.binary_step),
        Function("softplus", activations.softplus),
        Function("elu", activations.elu, 1, 2),  # elu(a, alpha)
        Function("leaky_relu", activations.leaky_relu, 1, 2),  # leaky_relu(a, alpha)
    )
}


# -- tokens ----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/(),])"
)

_HINTS = {
    ".": "attribute access ('.') is not allowed; call functions by name, e.g. exp(a)",
    "[": "subscripts ('[') are not allowed",
    "=": "'=' is not part of an expression; give values as separate arguments (a=2)",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "^": "'^' is not a power here; write a ** b",
    "%": "'%' is not supported; use + - * / **",
    "@": "'@' is not supported; use + - * / **",
    ";": "only one expression is allowed",
    ":": "':' is not part of an expression",
    "<": "comparisons are not supported",
    ">": "comparisons are not supported",
}


@dataclass(frozen=True)
class _Token:
    kind: str  # number, name, op, end
    text: str
    start: int

    @property
    def end(self) -> int:
        return self.start + max(1, len(self.text))


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = _HINTS.get(ch, f"unexpected character {ch!r}; allowed: numbers, names, + - * / ** ( ) ,")
            raise ExpressionError(hint, text, pos)
        kind = m.lastgroup
        if kind != "space":
            tokens.append(_Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# -- the parser ------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.i]

    def fail(self, message: str, token: _Token | None = None) -> ExpressionError:
        token = token or self.token
        return ExpressionError(message, self.text, token.start, len(token.text))

    def take(self, text: str) -> bool:
        if self.token.kind == "op" and self.token.text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str, why: str) -> _Token:
        token = self.token
        if not self.take(text):
            found = "the end" if token.kind == "end" else repr(token.text)
            raise self.fail(f"expected {text!r} {why}, found {found}")
        return token

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the expression is nested more than {MAX_DEPTH} levels deep")

    def expression(self) -> Node:
        return self.left_to_right(("+", "-"), self.term)

    def term(self) -> Node:
        return self.left_to_right(("*", "/"), self.unary)

    def left_to_right(self, ops: tuple[str, ...], operand: Callable[[], Node]) -> Node:
        """``operand (op operand)*``, grouped from the left: ``a - b - c`` is ``(a - b) - c``."""
        node = operand()
        while self.token.kind == "op" and self.token.text in ops:
            op = self.token.text
            self.i += 1
            right = operand()
            node = Binary(node.start, right.end, op, node, right)
        return node

    def unary(self) -> Node:
        token = self.token
        if token.kind == "op" and token.text in ("+", "-"):
            self.i += 1
            self.nested()
            operand = self.unary()
            self.depth -= 1
            if token.text == "-" and isinstance(operand, Number):
                return Number(token.start, operand.end, -operand.value)  # -3 is a number, as in Python
            return Unary(token.start, operand.end, token.text, operand)
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.take("**"):
            self.nested()
            exponent = self.unary()  # right-associative, and a ** -b is allowed, as in Python
            self.depth -= 1
            return Binary(base.start, exponent.end, "**", base, exponent)
        return base

    def primary(self) -> Node:
        token = self.token
        if token.kind == "number":
            self.i += 1
            value = float(token.text)
            if not math.isfinite(value):
                raise self.fail(f"number {token.text} is too large for a float", token)
            self.after_operand()
            return Number(token.start, token.end, value)
        if token.kind == "name":
            self.i += 1
            if self.token.kind == "op" and self.token.text == "(":
                return self.call(token)
            if token.text in FUNCTIONS:
                raise self.fail(f"{token.text} is a function: call it, e.g. {token.text}(a)", token)
            self.after_operand()
            return Name(token.start, token.end, token.text)
        if self.take("("):
            self.nested()
            inner = self.expression()
            close = self.expect(")", f"to close the '(' at position {token.start}")
            self.depth -= 1
            self.after_operand()
            return replace(inner, start=token.start, end=close.end)  # the span includes the parentheses
        if token.kind == "end":
            raise self.fail("the expression ends where a number, a name or '(' was expected")
        raise self.fail(f"expected a number, a name or '(', found {token.text!r}")

    def call(self, name: _Token) -> Node:
        function = FUNCTIONS.get(name.text)
        if function is None:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise self.fail(f"unknown function {name.text!r}; the functions are: {allowed}", name)
        self.expect("(", "")
        self.nested()
        args: list[Node] = []
        if not (self.token.kind == "op" and self.token.text == ")"):
            args.append(self.expression())
            while self.take(","):
                args.append(self.expression())
        close = self.expect(")", f"to close the call to {name.text}")
        self.depth -= 1
        if not function.min_args <= len(args) <= function.max_args:
            want = (
                str(function.min_args)
                if function.min_args == function.max_args
                else f"{function.min_args} to {function.max_args}"
            )
            raise ExpressionError(
                f"{name.text}() takes {want} argument(s), got {len(args)}",
                self.text,
                name.start,
                close.end - name.start,
            )
        self.after_operand()
        return Call(name.start, close.end, name.text, tuple(args))

    def after_operand(self) -> None:
        """Two operands in a row (``2a``, ``a b``, ``f(a)(b)``) need an operator between them."""
        token = self.token
        if token.kind in ("number", "name") or (token.kind == "op" and token.text == "("):
            raise self.fail(f"expected an operator (+ - * / **) before {token.text!r}")


# -- the parsed expression --------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A parsed expression: ``.text``, ``.tree``, ``.variables`` (names, first use first)."""

    text: str
    tree: Node

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(node.id for node in _names(self.tree)))

    def build(self, values: Mapping[str, Value | float]) -> Value:
        """The circuit: each name becomes ``values[name]`` (a number becomes ``Value(n, name)``).

        Gates refusing their operands (``log(-1)``) raise ``ExpressionError`` pointing at the
        call; the original ``GateError`` is its ``__cause__``. A constant result (no names)
        is returned as a constant ``Value``.
        """
        leaves: dict[str, Value] = {}
        for name in self.variables:
            if name not in values:
                node = next(node for node in _names(self.tree) if node.id == name)
                raise ExpressionError(f"no value for {name!r}", self.text, node.start, len(name))
            given = values[name]
            leaves[name] = given if isinstance(given, Value) else Value(given, name)
        result = self._build(self.tree, leaves)
        return as_value(result)

    def _build(self, tree: Node, leaves: dict[str, Value]) -> Value | float:
        # Iterative post-order walk: a sum of 5,000 terms is a tree 5,000 deep.
        results: dict[int, Value | float] = {}
        stack: list[tuple[Node, bool]] = [(tree, False)]
        while stack:
            node, ready = stack.pop()
            if isinstance(node, Number):
                results[id(node)] = node.value
            elif isinstance(node, Name):
                results[id(node)] = leaves[node.id]
            elif not ready:
                stack.append((node, True))
                stack += [(child, False) for child in reversed(_children(node))]
            else:
                args = [results.pop(id(child)) for child in _children(node)]
                results[id(node)] = self._apply(node, args)
        return results[id(tree)]

    def _apply(self, node: Node, args: list[Value | float]) -> Value | float:
        """One operation; constant operands give a constant (a float), as in Python."""
        try:
            if isinstance(node, Unary):
                (operand,) = args
                if node.op == "+":
                    return operand
                return -operand if isinstance(operand, Value) else _constant(lambda: -as_value(operand))
            if isinstance(node, Binary):
                left, right = args
                op = _OPERATORS[node.op]
                if isinstance(left, Value) or isinstance(right, Value):
                    return op(left, right)
                return _constant(lambda: op(as_value(left), right))
            if isinstance(node, Call):
                call = FUNCTIONS[node.func].call
                if any(isinstance(a, Value) for a in args):
                    return call(*args)
                return _constant(lambda: call(*args))
        except (GateError, ArithmeticError, ValueError, TypeError) as exc:
            raise ExpressionError(str(exc), self.text, node.start, node.end - node.start) from exc
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def _constant(make: Callable[[], Value]) -> float:
    """A constant subexpression, computed by the gates and kept as a float, as Python would."""
    return make().data


_OPERATORS: dict[str, Callable[[Value | float, Value | float], Value]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


def _names(tree: Node) -> Iterator[Name]:
    """The names in ``tree``, left to right (iterative: a long sum is a deep tree)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            yield node
        stack += reversed(_children(node))


def parse(text: str) -> Expression:
    """Read ``text`` into an ``Expression``, or raise ``ExpressionError`` at the faulty position."""
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", text, MAX_LENGTH)
    parser = _Parser(text)
    tree = parser.expression()
    if parser.token.kind != "end":
        token = parser.token
        if token.kind == "op" and token.text == ")":
            raise parser.fail("unmatched ')'")
        raise parser.fail(f"unexpected {token.text!r} after a complete expression")
    return Expression(text, tree)
