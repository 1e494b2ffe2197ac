"""Formulas: the one expression tree of the library, its parser, its printers and its compiler.

Everything that is written down -- an expression typed at the command line, a gate's forward
``a * b``, its local derivative ``x * (1 - x)``, its domain ``b != 0``, a composite's
composition, a random expression from the hypothesis strategies, a line of the derivation
trace -- is an ``Expr``: a frozen, hashable node ``Expr(op, args, param)`` where ``op`` is

* ``"var"`` (``param`` is the name) or ``"const"`` (``param`` is the float);
* the name of an op of the gate table (``"add"``, ``"sigmoid"``, ...; ``"powk"`` is the
  number-exponent power, ``param`` its exponent);
* in rule texts only: ``"if"`` (``then if test else otherwise``), the comparisons
  ``"lt" "le" "gt" "ge" "eq" "ne"``, and ``"and"``/``"or"``.

The language is a small, Python-like whitelist with Python's precedence: numbers, names, the
constants ``e`` and ``pi``, ``+ - * / **``, unary ``-``, parentheses and calls of the table's
functions. ``parse(text)`` reads it (never evaluating anything); ``str(expr)`` prints it with
the fewest parentheses Python needs, so ``parse(str(expr)) == expr`` for every tree; ``latex``
prints it for slides; ``python_source`` compiles it to Python over floats or numpy arrays.

Which names are functions, and how an op is written, comes from the gate table
(``table.GATES``), so an op added to the table is read, printed and compiled the day it is added.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from .arguments import finite_float
from .table import FAMILIES, GATES, Gate, find_function

__all__ = [
    "Expr",
    "ExpressionError",
    "parse",
    "parse_rule",
    "parse_with_spans",
    "var",
    "const",
    "call",
    "substitute",
    "format_formula",
    "latex",
    "python_source",
    "evaluate",
    "latex_name",
    "latex_number",
    "latex_text",
    "printable",
    "repr_number",
    "comparisons",
    "RESERVED",
    "CONSTANTS",
    "MAX_LENGTH",
    "MAX_DEPTH",
]

MAX_LENGTH = 10_000  # characters in an expression
MAX_DEPTH = 100  # nested parentheses, calls, unary signs and conditionals
CARET_WIDTH = 72  # characters of the expression an error shows around the fault

CONSTANTS = {"e": math.e, "pi": math.pi}
KEYWORDS = ("if", "else", "and", "or", "not", "lambda")
# Names an expression cannot use for a variable (nor a registered gate for its name).
RESERVED = frozenset({*CONSTANTS, *KEYWORDS, "identity", "var", "const", "powk"})

# Binding strength, Python's order: a child binding less tightly than its parent is parenthesized.
IF, OR, AND, COMPARE, SUM, PRODUCT, UNARY, POWER, ATOM = 1, 2, 3, 5, 6, 7, 8, 9, 10
_COMPARE = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_COMPARE_OPS = {text: op for op, text in _COMPARE.items()}
_LOGIC = {"and": AND, "or": OR}
# The Python operators the table's ops may use, with their binding strength.
_INFIX_PRECEDENCE = {"+": SUM, "-": SUM, "*": PRODUCT, "/": PRODUCT, "**": POWER}
RULE_OPS = frozenset({"if", "and", "or", *_COMPARE})  # allowed in rule texts, not in expressions
_BINARY = {
    "or": (OR, "or"),
    "and": (AND, "and"),
    **{text: (COMPARE, op) for op, text in _COMPARE.items()},
    "+": (SUM, "add"),
    "-": (SUM, "sub"),
    "*": (PRODUCT, "mul"),
    "/": (PRODUCT, "div"),
}


# -- errors ------------------------------------------------------------------------------------


class ExpressionError(ValueError):
    """Text that cannot be read or built; ``position`` is the 0-based offset of the fault."""

    def __init__(self, message: str, expression: str, position: int, length: int = 1) -> None:
        self.message = message
        self.expression = expression
        self.position = max(0, min(position, len(expression)))
        self.length = max(1, length)
        super().__init__(f"{message} (at position {self.position})\n{self.caret()}")

    __module__ = "autograd_gates"  # shown by the name users import it by

    def caret(self) -> str:
        """The expression, and under it a caret marking the fault (cut around it if long)."""
        # Tabs, newlines and control characters (a terminal would act on them) become spaces.
        line = "".join(ch if ch.isprintable() else " " for ch in self.expression)
        start = max(0, min(self.position - CARET_WIDTH // 2, len(line) - CARET_WIDTH))
        shown = line[start : start + CARET_WIDTH]
        before = "..." if start > 0 else ""
        after = "..." if start + CARET_WIDTH < len(line) else ""
        at = self.position - start
        marks = "^" * max(1, min(self.length, len(shown) - at))
        return f"{before}{shown}{after}\n{' ' * (len(before) + at)}{marks}"


# -- the tree ------------------------------------------------------------------------------------


class Expr:
    """A node: ``op`` applied to ``args`` (Exprs), with ``param`` (a name, a number or None).

    Immutable and hashable; equal trees compare equal (iteratively, so a sum of 5,000 terms is
    no problem). ``str(e)`` is its text, ``repr(e)`` a line that rebuilds it.
    """

    __slots__ = ("op", "args", "param", "_hash")

    op: str
    args: tuple[Expr, ...]
    param: float | str | None

    def __init__(self, op: str, args: tuple[Expr, ...] = (), param: float | str | None = None) -> None:
        if op == "const":
            param = finite_float(param, "a constant", "a number") + 0.0  # -0.0 reads as 0
        elif op == "powk":
            param = finite_float(param, "the exponent", "a number") + 0.0
        elif op == "var" and not (isinstance(param, str) and param):
            raise ValueError(f"a variable needs a name, got {param!r}")  # parse() only makes identifiers
        args = tuple(args)
        for a in args:
            if not isinstance(a, Expr):
                raise TypeError(f"{op}: operands must be Exprs, got {type(a).__name__} {a!r}")
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "param", param)
        object.__setattr__(self, "_hash", hash((op, param, tuple(hash(a) for a in args))))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("an Expr is immutable")

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expr):
            return NotImplemented
        stack = [(self, other)]
        while stack:
            p, q = stack.pop()
            if p is q:
                continue
            if p._hash != q._hash or p.op != q.op or p.param != q.param or len(p.args) != len(q.args):
                return False
            stack.extend(zip(p.args, q.args))
        return True

    def __reduce__(self) -> tuple[object, ...]:
        return (parse_any, (str(self),))

    def __str__(self) -> str:
        return format_formula(self)

    def __repr__(self) -> str:
        return f"parse({str(self)!r})"

    # -- building trees with Python operators (tests and strategies use these) -------------

    def __add__(self, other: Expr | float) -> Expr:
        return Expr("add", (self, lift(other)))

    def __radd__(self, other: float) -> Expr:
        return Expr("add", (lift(other), self))

    def __sub__(self, other: Expr | float) -> Expr:
        return Expr("sub", (self, lift(other)))

    def __rsub__(self, other: float) -> Expr:
        return Expr("sub", (lift(other), self))

    def __mul__(self, other: Expr | float) -> Expr:
        return Expr("mul", (self, lift(other)))

    def __rmul__(self, other: float) -> Expr:
        return Expr("mul", (lift(other), self))

    def __truediv__(self, other: Expr | float) -> Expr:
        return Expr("div", (self, lift(other)))

    def __rtruediv__(self, other: float) -> Expr:
        return Expr("div", (lift(other), self))

    def __pow__(self, exponent: Expr | float) -> Expr:
        if isinstance(exponent, Expr):
            return Expr("pow", (self, exponent))
        return Expr("powk", (self,), exponent)

    def __rpow__(self, base: float) -> Expr:
        return Expr("pow", (lift(base), self))

    def __neg__(self) -> Expr:
        return Expr("neg", (self,))

    # -- reading the tree -------------------------------------------------------------------

    def nodes(self) -> Iterator[Expr]:
        """Every distinct subtree once, operands before the trees using them."""
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
            stack.extend((child, False) for child in reversed(node.args) if child not in seen)

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables' names, in order of first use from the left."""
        names: dict[str, None] = {}
        stack = [self]
        while stack:
            node = stack.pop()
            if node.op == "var":
                names[node.param] = None  # type: ignore[index]
            stack.extend(reversed(node.args))
        return tuple(names)

    @property
    def size(self) -> int:
        """The number of distinct subtrees (shared subexpressions counted once)."""
        return sum(1 for _ in self.nodes())


_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def var(name: str | int) -> Expr:
    """The variable ``name``; an int ``i`` names ``x{i}`` (the strategies' convention)."""
    return Expr("var", (), f"x{name}" if isinstance(name, int) and not isinstance(name, bool) else name)


def const(value: float) -> Expr:
    """A constant: a leaf of the circuit that is not an input."""
    return Expr("const", (), value)


def lift(x: Expr | float) -> Expr:
    return x if isinstance(x, Expr) else const(x)


def call(op: str, *args: Expr | float) -> Expr:
    """``op(args)`` for an op of the table, e.g. ``call("sigmoid", x)``."""
    gate = GATES.get(op)
    if gate is None:
        raise ValueError(f"unknown op {op!r}; the table has: {', '.join(sorted(GATES))}")
    if len(args) != gate.arity:
        raise TypeError(f"{op} takes {gate.arity} operand(s), got {len(args)}")
    return Expr(op, tuple(lift(a) for a in args))


def substitute(expr: Expr, values: Mapping[str, Expr]) -> Expr:
    """A new tree: every variable named in ``values`` replaced by its tree."""
    done: dict[Expr, Expr] = {}
    for node in expr.nodes():
        if node.op == "var":
            done[node] = values.get(node.param, node)  # type: ignore[arg-type]
        elif node.args:
            done[node] = Expr(node.op, tuple(done[a] for a in node.args), node.param)
        else:
            done[node] = node
    return done[expr]


def comparisons(expr: Expr) -> list[tuple[Expr, Expr]]:
    """Every comparison ``left op right`` in the tree, as ``(left, right)`` pairs, first one first."""
    found = []
    for node in expr.nodes():
        if node.op in _COMPARE:
            found.append((node.args[0], node.args[1]))
    return found


# -- tokens ------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|<=|>=|==|!=|[-+*/(),<>])"
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
        if m.lastgroup != "space":
            tokens.append(_Token(m.lastgroup, m.group(), pos))  # type: ignore[arg-type]
        pos = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# -- the parser --------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over Python's grammar for the operators the language has.

    ``rules`` allows what only rule texts need: conditionals, comparisons, ``and``/``or``.
    ``spans`` records where each node was read, for errors raised while building it.
    """

    def __init__(self, text: str, rules: bool) -> None:
        self.text = text
        self.rules = rules
        self.tokens = _tokens(text)
        self.i = 0
        self.depth = 0
        self.spans: dict[Expr, tuple[int, int]] = {}

    @property
    def token(self) -> _Token:
        return self.tokens[self.i]

    def fail(self, message: str, token: _Token | None = None) -> ExpressionError:
        token = token or self.token
        return ExpressionError(message, self.text, token.start, len(token.text))

    def at(self, *texts: str) -> bool:
        token = self.token
        return token.kind in ("op", "name") and token.text in texts

    def take(self, text: str) -> bool:
        if self.at(text):
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

    def node(self, op: str, args: tuple[Expr, ...], start: int, end: int, param: object = None) -> Expr:
        made = Expr(op, args, param)  # type: ignore[arg-type]
        self.spans.setdefault(made, (start, end))
        return made

    def span(self, e: Expr) -> tuple[int, int]:
        return self.spans.get(e, (0, len(self.text)))

    def rule_only(self, token: _Token) -> None:
        if not self.rules:
            raise self.fail(f"{token.text!r} is only allowed in rule texts, not in expressions", token)

    # expression := binary ['if' binary 'else' expression]
    def expression(self) -> Expr:
        body = self.binary(OR)
        if self.at("if"):
            self.rule_only(self.token)
            self.i += 1
            self.nested()
            test = self.binary(OR)
            self.expect("else", "after the test of a conditional")
            otherwise = self.expression()
            self.depth -= 1
            return self.node("if", (body, test, otherwise), self.span(body)[0], self.span(otherwise)[1])
        return body

    def binary(self, least: int) -> Expr:
        """Operators binding at least as tightly as ``least``, grouped from the left (precedence
        climbing: one frame per level of parentheses, not one per precedence level)."""
        left = self.unary()
        while True:
            token = self.token
            found = _BINARY.get(token.text) if token.kind in ("op", "name") else None
            if found is None or found[0] < least:
                return left
            strength, op = found
            if op in RULE_OPS:
                self.rule_only(token)
            if op in _COMPARE and left.op in _COMPARE:
                raise self.fail("chained comparisons are not supported; use 'and'")
            self.i += 1
            right = self.binary(strength + 1)
            left = self.node(op, (left, right), self.span(left)[0], self.span(right)[1])

    def unary(self) -> Expr:
        token = self.token
        if token.kind == "op" and token.text in ("+", "-"):
            self.i += 1
            self.nested()
            literal = self.token.kind == "number"
            operand = self.unary()
            self.depth -= 1
            if token.text == "+":
                return operand
            if literal and operand.op == "const":
                # -3 is a number, as in Python; -(3) and -3 ** 2 are a negation.
                return self.node("const", (), token.start, self.span(operand)[1], -operand.param)  # type: ignore[operator]
            return self.node("neg", (operand,), token.start, self.span(operand)[1])
        return self.power()

    def power(self) -> Expr:
        base = self.primary()
        if self.take("**"):
            self.nested()
            exponent = self.unary()  # right-associative, and a ** -b is allowed, as in Python
            self.depth -= 1
            start, end = self.span(base)[0], self.span(exponent)[1]
            if exponent.op == "const":  # a number exponent: the a ** k gate
                return self.node("powk", (base,), start, end, exponent.param)
            return self.node("pow", (base, exponent), start, end)
        return base

    def primary(self) -> Expr:
        token = self.token
        if token.kind == "number":
            self.i += 1
            value = float(token.text)
            if not math.isfinite(value):
                raise self.fail(f"number {token.text} is too large for a float", token)
            self.after_operand()
            return self.node("const", (), token.start, token.end, value)
        if token.kind == "name":
            self.i += 1
            if self.at("("):
                return self.call(token)
            if token.text in CONSTANTS:
                self.after_operand()
                return self.node("const", (), token.start, token.end, CONSTANTS[token.text])
            if token.text in KEYWORDS:
                raise self.fail(f"unexpected {token.text!r}", token)
            if find_function(token.text) is not None or token.text == "identity":
                raise self.fail(f"{token.text} is a function: call it, e.g. {token.text}(a)", token)
            self.after_operand()
            return self.node("var", (), token.start, token.end, token.text)
        if self.take("("):
            self.nested()
            inner = self.expression()
            close = self.expect(")", f"to close the '(' at position {token.start}")
            self.depth -= 1
            self.after_operand()
            self.spans[inner] = (token.start, close.end)
            return inner
        if token.kind == "end":
            raise self.fail("the expression ends where a number, a name or '(' was expected")
        raise self.fail(f"expected a number, a name or '(', found {token.text!r}")

    def call(self, name: _Token) -> Expr:
        gate = find_function(name.text)
        if gate is None and name.text != "identity":
            allowed = ", ".join(sorted({*_function_names(), "identity"}))
            raise self.fail(f"unknown function {name.text!r}; the functions are: {allowed}", name)
        self.expect("(", "")
        self.nested()
        args: list[Expr] = []
        if not self.at(")"):
            args.append(self.expression())
            while self.take(","):
                args.append(self.expression())
        close = self.expect(")", f"to close the call to {name.text}")
        self.depth -= 1
        if gate is None:  # identity(a) is a itself: no gate is added
            if len(args) != 1:
                raise ExpressionError(
                    f"identity() takes 1 argument, got {len(args)}",
                    self.text,
                    name.start,
                    close.end - name.start,
                )
            self.after_operand()
            return args[0]
        least = gate.arity - len(gate.defaults)
        if not least <= len(args) <= gate.arity:
            want = str(gate.arity) if least == gate.arity else f"{least} to {gate.arity}"
            raise ExpressionError(
                f"{name.text}() takes {want} argument(s), got {len(args)}",
                self.text,
                name.start,
                close.end - name.start,
            )
        args += [const(d) for d in gate.defaults[len(args) - least :]]
        self.after_operand()
        return self.node(gate.name, tuple(args), name.start, close.end)

    def after_operand(self) -> None:
        """Two operands in a row (``2a``, ``a b``, ``f(a)(b)``) need an operator between them."""
        token = self.token
        if token.kind in ("number",) or (token.kind == "name" and token.text not in KEYWORDS) or self.at("("):
            raise self.fail(f"expected an operator (+ - * / **) before {token.text!r}")


def _function_names() -> list[str]:
    return [name for gate in GATES.values() if gate.operator is None for name in (gate.name, *gate.aliases)]


def _parse(text: str, rules: bool) -> tuple[Expr, dict[Expr, tuple[int, int]]]:
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is longer than {MAX_LENGTH} characters", text, MAX_LENGTH)
    parser = _Parser(text, rules)
    tree = parser.expression()
    if parser.token.kind != "end":
        token = parser.token
        if token.kind == "op" and token.text == ")":
            raise parser.fail("unmatched ')'")
        raise parser.fail(f"unexpected {token.text!r} after a complete expression")
    return tree, parser.spans


def parse(text: str) -> Expr:
    """Read an expression (``"((a*b + c)*d)**2"``) into its tree; never runs anything.

    Raises ``ExpressionError`` naming the position of the fault, with a caret under it.
    """
    return _parse(text, rules=False)[0]


def parse_rule(text: str) -> Expr:
    """Read a rule text: an expression that may also use ``x if test else y``, comparisons and
    ``and``/``or`` (a local derivative such as ``(1 if a > 0 else 0)``, a domain ``b != 0``)."""
    return _parse(text, rules=True)[0]


def parse_any(text: str) -> Expr:
    """``parse_rule``: every printed tree reads back, rule-only ops included (used by pickling)."""
    return parse_rule(text)


def parse_with_spans(text: str) -> tuple[Expr, dict[Expr, tuple[int, int]]]:
    """``parse(text)`` and where each node was read: ``{node: (start, end)}``, first occurrence."""
    return _parse(text, rules=False)


# -- printing ----------------------------------------------------------------------------------


def repr_number(v: float) -> str:
    """A number as the printer writes it to be read back exactly: ``2``, ``-0.5``, ``1e-300``."""
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _strength(e: Expr, latex: bool = False) -> int:
    op = e.op
    if latex and (op == "if" or op == "div"):  # cases and \frac bracket themselves
        return ATOM
    if op == "var":
        return ATOM
    if op == "const":
        return UNARY if e.param < 0 else ATOM  # type: ignore[operator]
    if op == "powk":
        return POWER
    if op == "if":
        return IF
    if op in _COMPARE:
        return COMPARE
    if op in _LOGIC:
        return _LOGIC[op]
    gate = GATES.get(op)
    if gate is None or gate.operator is None:
        return ATOM
    if gate.arity == 1:
        return UNARY
    return _INFIX_PRECEDENCE[gate.operator]


def _negative(e: Expr) -> bool:
    """A negative number or a negation: parenthesized as an operand for readability, ``2 * (-8)``."""
    return (e.op == "const" and e.param < 0) or _strength(e) == UNARY  # type: ignore[operator]


@dataclass(frozen=True)
class _Style:
    """What differs between the text and the LaTeX printer."""

    number: Callable[[float], str]
    name: Callable[[str], str]
    latex: bool = False
    bracket_negatives: bool = False  # (-3) * 32 in a line of numbers
    readable: bool = False  # for people, not for parse(): the negation of 2 reads -2, not -(2)


def _pieces(expr: Expr, style: _Style) -> Iterator[str]:
    """The printed text in pieces, with an explicit stack: a sum of 5,000 terms is 5,000 deep."""
    stack: list[object] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
            continue
        e: Expr = item  # type: ignore[assignment]
        parts = _layout(e, style)
        stack.extend(reversed(parts))


def _wrap(child: Expr, wrap: bool, style: _Style) -> list[object]:
    if not wrap:
        return [child]
    return [r"\left(", child, r"\right)"] if style.latex else ["(", child, ")"]


def _layout(e: Expr, style: _Style) -> list[object]:
    """One node's pieces: strings and child Exprs, in order."""

    def s(child: Expr) -> int:
        return _strength(child, style.latex)

    op, args = e.op, e.args
    if op == "var":
        return [style.name(e.param)]  # type: ignore[arg-type]
    if op == "const":
        return [style.number(e.param)]  # type: ignore[arg-type]
    if op == "powk":
        (base,) = args
        k: float = e.param  # type: ignore[assignment]
        exponent = style.number(k)
        if style.latex:
            return [
                "{",
                *_wrap(base, s(base) <= POWER or _negative(base), style),
                "}^{",
                exponent,
                "}",
            ]
        if k < 0:
            exponent = f"({exponent})"
        return [*_wrap(base, s(base) <= POWER or _negative(base), style), f" ** {exponent}"]
    if op == "if":
        then, test, otherwise = args
        if style.latex:
            rows: list[object] = [r"\begin{cases} ", then, " & ", test]
            while otherwise.op == "if":
                then, test, otherwise = otherwise.args
                rows += [r" \\ ", then, " & ", test]
            return [*rows, r" \\ ", otherwise, r" & \text{otherwise} \end{cases}"]
        return [
            *_wrap(then, s(then) <= IF, style), " if ",
            *_wrap(test, s(test) <= IF, style), " else ",
            *_wrap(otherwise, s(otherwise) < IF, style),
        ]  # fmt: skip
    if op in _COMPARE:
        left, right = args
        text = (
            {"ge": r"\ge", "le": r"\le", "eq": "=", "ne": r"\ne"}.get(op, _COMPARE[op])
            if style.latex
            else _COMPARE[op]
        )
        return [*_wrap(left, s(left) <= COMPARE, style), f" {text} ",
                *_wrap(right, s(right) <= COMPARE, style)]  # fmt: skip
    if op in _LOGIC:
        left, right = args
        strength = _LOGIC[op]
        word = {"and": r" \land ", "or": r" \lor "}[op] if style.latex else f" {op} "
        return [*_wrap(left, s(left) < strength, style), word,
                *_wrap(right, s(right) <= strength, style)]  # fmt: skip
    gate = GATES.get(op)
    if gate is None:
        raise ValueError(f"cannot print op {op!r}: it is not in the gate table")
    if gate.operator is None:
        return _call_layout(gate, args, style)
    if gate.arity == 1:  # a prefix operator: -a
        (a,) = args
        bare = style.readable and a.op == "const" and a.param >= 0  # type: ignore[operator]
        return [gate.operator, *_wrap(a, s(a) <= UNARY or (a.op == "const" and not bare), style)]
    left, right = args
    strength = _INFIX_PRECEDENCE[gate.operator]
    if style.latex and gate.operator == "/":
        return [r"\frac{", left, "}{", right, "}"]
    if gate.operator == "**":
        wrap_left = s(left) <= POWER or _negative(left)
        wrap_right = s(right) < UNARY
        if right.op == "const":  # a Value exponent that is a constant leaf: pow(a, 2), not a ** 2
            return _call_layout(gate, args, style, name="pow")
        if style.latex:
            return ["{", *_wrap(left, wrap_left, style), "}^{", right, "}"]
        return [*_wrap(left, wrap_left, style), " ** ", *_wrap(right, wrap_right, style)]
    symbol = r" \cdot " if style.latex and gate.operator == "*" else f" {gate.operator} "
    # A negative number opening a product reads as one (-1 * dx), but not inside a sum: a + (-3) * b.
    # A negative number opening a product reads as one in a rule (-1 * dx); in a line of numbers
    # every negative operand is bracketed, (-3) * (-2) + 1.
    negative = left.op == "const" and left.param < 0  # type: ignore[operator]
    wrap_left = s(left) < strength or (negative and style.bracket_negatives)
    wrap_right = s(right) <= strength or _negative(right)
    return [*_wrap(left, wrap_left, style), symbol, *_wrap(right, wrap_right, style)]


_LATEX_OPERATORS = frozenset({"exp", "log", "sin", "cos", "tan", "tanh", "arctan", "max", "min"})


def _call_layout(gate: Gate, args: tuple[Expr, ...], style: _Style, name: str | None = None) -> list[object]:
    name = name or gate.name
    if style.latex:
        if gate.latex and len(args) == 1:
            before, _, after = gate.latex.partition("#")
            return [before, args[0], after]
        escaped = name.replace("_", r"\_")
        head = rf"\{name}" if name in _LATEX_OPERATORS else rf"\operatorname{{{escaped}}}"
        parts: list[object] = [head + r"\left("]
    else:
        parts = [f"{name}("]
    for i, a in enumerate(args):
        if i:
            parts.append(", ")
        parts.append(a)
    parts.append(r"\right)" if style.latex else ")")
    return parts


_TEXT = _Style(number=repr_number, name=str)


def format_formula(
    expr: Expr,
    *,
    number: Callable[[float], str] = repr_number,
    name: Callable[[str], str] = str,
    bracket_negatives: bool = False,
    readable: bool = False,
) -> str:
    """The tree as text with the fewest parentheses Python needs (and a few for readability).

    By default ``parse(format_formula(e)) == e``. The trace asks for ``readable`` text (a
    negated number reads ``-2``), numbers rounded to 6 significant digits, and
    ``bracket_negatives`` in its lines of numbers, where a negative operand reads better
    bracketed: ``(-3) * 32``.
    """
    if number is repr_number and name is str and not bracket_negatives and not readable:
        return "".join(_pieces(expr, _TEXT))
    style = _Style(number=number, name=name, bracket_negatives=bracket_negatives, readable=readable)
    return "".join(_pieces(expr, style))


_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "tau", "phi"}
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Format characters that reorder or hide text (the "Trojan Source" set), plus line separators.
_INVISIBLE = set("\u061c\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def printable(text: str) -> str:
    """``text`` with control, bidi-override and surrogate characters written as ``\\x1b``-style
    escapes (labels are user text: a terminal must not obey them); every other character is kept."""
    if text.isprintable():  # the common case, and fast
        return text
    return "".join(_escaped(ch) if _hidden(ch) else ch for ch in text)


def _hidden(ch: str) -> bool:
    return ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs")


def _escaped(ch: str) -> str:
    if ch in _NAMED_CONTROLS:
        return _NAMED_CONTROLS[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def latex_text(text: str) -> str:
    """``text`` as ``\\text{...}`` (amsmath), every LaTeX special character escaped."""
    return r"\text{" + "".join(_LATEX_SPECIAL.get(ch, ch) for ch in printable(text)) + "}"


def latex_name(name: str) -> str:
    """``x1 -> x_{1}``, ``dx2 -> dx_{2}``, ``w_in -> w_{in}``, ``alpha -> \\alpha``; any other
    label is text, every LaTeX special character escaped (``\\text{...}``)."""
    m = re.fullmatch(r"(d?)([A-Za-z]+)_?([0-9A-Za-z]*)", name)
    if not m:
        return latex_text(name)
    d, base, sub = m.groups()
    if base in _GREEK:
        base = "\\" + base
    elif len(base) > 1:
        base = r"\mathit{" + base + "}"
    return d + base + (f"_{{{sub}}}" if sub else "")


def latex_number(v: float, digits: int = 6) -> str:
    """A number for LaTeX: ``4``, ``-0.5``, ``1.5 \\times 10^{-8}``."""
    text = f"{v:.{digits}g}" if v != int(v) or abs(v) >= 1e15 else str(int(v))
    if "e" in text and "inf" not in text and "nan" not in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def latex(
    expr: Expr,
    *,
    number: Callable[[float], str] = latex_number,
    name: Callable[[str], str] = latex_name,
    bracket_negatives: bool = False,
) -> str:
    """The tree as LaTeX math: ``\\cdot`` for products, ``\\frac`` for quotients, cases for tests."""
    style = _Style(number=number, name=name, latex=True, bracket_negatives=bracket_negatives, readable=True)
    return "".join(_pieces(expr, style))


# -- compiling ---------------------------------------------------------------------------------

FLOAT, ARRAY = "float", "array"


def python_source(expr: Expr, target: str = FLOAT, names: Mapping[str, str] | None = None) -> str:
    """Python source computing ``expr``: over floats (``target="float"``) or numpy arrays.

    Variables become the names in ``names`` (default: their own); calls of table ops become
    calls of the op's function by its name, to be found in the namespace the source runs in
    (``_gate_functions`` there gives each op's float or array forward). Constants are float
    literals, so the result is always a float (or a float array). For arrays, a conditional
    is ``where(test, then, otherwise)`` and ``and``/``or`` are ``&``/``|``.
    """
    names = names or {}

    def source(e: Expr) -> str:  # the trees compiled are rule texts: a few nodes deep
        op = e.op
        if op == "var":
            return names.get(e.param, e.param)  # type: ignore[arg-type, return-value]
        if op == "const":
            return f"({float(e.param)!r})"  # type: ignore[arg-type]
        args = [source(a) for a in e.args]
        if op == "powk":
            return f"({args[0]} ** {float(e.param)!r})"  # type: ignore[arg-type]
        if op == "if":
            then, test, otherwise = args
            if target == ARRAY:
                return f"where({test}, {then}, {otherwise})"
            return f"({then} if {test} else {otherwise})"
        if op in _COMPARE:
            return f"({args[0]} {_COMPARE[op]} {args[1]})"
        if op in _LOGIC:
            word = {"and": "&", "or": "|"}[op] if target == ARRAY else op
            return f"({args[0]} {word} {args[1]})"
        gate = GATES.get(op)
        if gate is None:
            raise ValueError(f"cannot compile op {op!r}: it is not in the gate table")
        if gate.operator is not None and gate.operator != "**":
            if gate.arity == 1:
                return f"({gate.operator}{args[0]})"
            return f"({args[0]} {gate.operator} {args[1]})"
        return f"{_function_name(gate.name)}({', '.join(args)})"

    return source(expr)


def _function_name(op: str) -> str:
    """The name an op's function has in compiled source (never clashes with a variable)."""
    return f"op_{op}"


def evaluate(expr: Expr, values: Mapping[str, float]) -> float:
    """The tree's value over floats, through each gate's own forward (so a gate refuses as it
    does in a circuit: ``log`` of a negative raises). Rule texts evaluate too (tests give 1 or 0)."""
    done: dict[Expr, float] = {}
    for node in expr.nodes():
        op = node.op
        if op == "var":
            if node.param not in values:
                raise KeyError(f"no value for the variable {node.param!r}")
            done[node] = float(values[node.param])  # type: ignore[index]
            continue
        if op == "const":
            done[node] = node.param  # type: ignore[assignment]
            continue
        args = [done[a] for a in node.args]
        if op == "if":
            then, test, otherwise = args
            done[node] = then if test else otherwise
        elif op in _COMPARE:
            left, right = args
            done[node] = float(
                {"lt": left < right, "le": left <= right, "gt": left > right,
                 "ge": left >= right, "eq": left == right, "ne": left != right}[op]
            )  # fmt: skip
        elif op in _LOGIC:
            done[node] = float(
                bool(args[0]) and bool(args[1]) if op == "and" else bool(args[0]) or bool(args[1])
            )
        elif op == "powk":
            done[node] = FAMILIES["pow"](node.param).forward(*args)  # type: ignore[arg-type]
        else:
            done[node] = GATES[op].forward(*args)
    return done[expr]
