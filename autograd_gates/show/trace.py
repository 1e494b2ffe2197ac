"""The derivation trace: a circuit written out the way the slides write it.

``explain(root)`` names the intermediates (``x1, x2, ...``; the output is ``x``),
writes the forward pass as one line per named node and the backward pass as one
line per gradient, each with its numbers::

    x1 = a * b + c   = 2 * (-3) + 10 = 4
    x2 = x1 * d      = 4 * (-2)      = -8
    x  = x2 ** 2     = (-8) ** 2     = 64
    dx2 = 2 * x2 * dx = 2 * (-8) * 1 = -16
    dx1 = d * dx2     = (-2) * (-16) = 32
    ...

Every formula comes from the gate table (``gate.expr`` for the forward,
``gate.local`` for the backward) with the operand names ``a, b, x`` replaced by the
names in this circuit; every number comes from the graph: node values, and local
derivatives from ``gate.partials``. Nothing here restates a rule.

Like the slides, the trace folds a node into the sum that consumes it
(``x1 = a * b + c`` rather than ``q = a * b; x1 = q + c``): a sum passes its gradient
on unchanged (its local derivative is ``1``), so ``da = b * dx1`` is exact. A node
used twice, a labelled node and the output are never folded; ``inline_sums=False``
names every gate. Leaves are named by their labels; an unlabelled leaf is a constant
and is written as its number.
"""

from __future__ import annotations

import ast
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from ..engine.gates import Gate
from ..engine.value import Value, topological_order
from .escape import latex_text, markdown_code, printable

__all__ = [
    "explain",
    "Derivation",
    "ForwardStep",
    "BackwardStep",
    "Term",
    "gate_term",
    "format_number",
    "circuit_names",
    "node_names",
]


# -- numbers --------------------------------------------------------------------------------


def format_number(v: float, digits: int = 6) -> str:
    """A float as a person writes it: ``4``, ``-0.5``, ``0.333333``, ``1e-08``."""
    if math.isnan(v) or math.isinf(v):
        return repr(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


# -- formulas: the gate table's texts are Python expressions in a, b, x -------------------


@cache
def _formula(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def _substitute(text: str, env: dict[str, ast.expr]) -> ast.expr:
    """A new tree: the cached formula with its names ``a, b, x`` replaced (never mutated)."""
    return _replace(_formula(text), env)


def _replace(node: ast.expr, env: dict[str, ast.expr]) -> ast.expr:
    if isinstance(node, ast.Name):
        return env.get(node.id, node)
    if isinstance(node, ast.BinOp):
        return ast.BinOp(left=_replace(node.left, env), op=node.op, right=_replace(node.right, env))
    if isinstance(node, ast.UnaryOp):
        return ast.UnaryOp(op=node.op, operand=_replace(node.operand, env))
    if isinstance(node, ast.Call):  # the function's own name (exp, max) is not an operand
        return ast.Call(func=node.func, args=[_replace(a, env) for a in node.args], keywords=[])
    if isinstance(node, ast.IfExp):
        return ast.IfExp(
            test=_replace(node.test, env), body=_replace(node.body, env), orelse=_replace(node.orelse, env)
        )
    if isinstance(node, ast.Compare):
        return ast.Compare(
            left=_replace(node.left, env),
            ops=node.ops,
            comparators=[_replace(c, env) for c in node.comparators],
        )
    return node


_BINARY_PRECEDENCE = {ast.Add: 10, ast.Sub: 10, ast.Mult: 11, ast.Div: 11, ast.Pow: 13}
_UNARY = 12
_ATOM = 15
_TEXT_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARE = {
    ast.Gt: (">", ">"),
    ast.Lt: ("<", "<"),
    ast.GtE: (">=", r"\ge"),
    ast.LtE: ("<=", r"\le"),
    ast.Eq: ("==", "="),
    ast.NotEq: ("!=", r"\ne"),
}


def _precedence(node: ast.expr, latex: bool = False) -> int:
    if isinstance(node, ast.IfExp):
        return _ATOM if latex else 1  # LaTeX's cases environment brackets itself
    if isinstance(node, ast.Compare):
        return 5
    if isinstance(node, ast.BinOp):
        if latex and isinstance(node.op, ast.Div):
            return _ATOM  # \frac{..}{..} groups itself
        return _BINARY_PRECEDENCE[type(node.op)]
    if isinstance(node, ast.UnaryOp):
        return _UNARY
    if isinstance(node, ast.Constant) and node.value < 0:
        return _UNARY
    return _ATOM


def _operands(node: ast.BinOp, latex: bool) -> tuple[bool, bool]:
    """Whether the left and right operands of a binary operation need parentheses."""
    p = _BINARY_PRECEDENCE[type(node.op)]
    left, right = _precedence(node.left, latex), _precedence(node.right, latex)
    if isinstance(node.op, ast.Pow):
        return left <= 13, right <= _UNARY
    # A negative number or a negation on the right reads better in parentheses: 2 * (-8).
    negative_number = isinstance(node.left, ast.Constant) and node.left.value < 0
    return left < p or negative_number, right <= p or right == _UNARY


def render_text(node: ast.expr) -> str:
    """A formula as Python-like text with only the parentheses it needs."""
    if isinstance(node, ast.Constant):
        return format_number(float(node.value))
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.BinOp):
        wrap_left, wrap_right = _operands(node, latex=False)
        left, right = render_text(node.left), render_text(node.right)
        return f"{_paren(left, wrap_left)} {_TEXT_OPS[type(node.op)]} {_paren(right, wrap_right)}"
    if isinstance(node, ast.UnaryOp):
        operand = render_text(node.operand)
        return "-" + _paren(operand, _precedence(node.operand) <= _UNARY)
    if isinstance(node, ast.Call):
        return f"{node.func.id}({', '.join(render_text(a) for a in node.args)})"
    if isinstance(node, ast.IfExp):
        body, test = render_text(node.body), render_text(node.test)
        return f"{_paren(body, _precedence(node.body) <= 1)} if {test} else {render_text(node.orelse)}"
    if isinstance(node, ast.Compare):
        op = _COMPARE[type(node.ops[0])][0]
        return f"{render_text(node.left)} {op} {render_text(node.comparators[0])}"
    raise TypeError(f"cannot render {ast.dump(node)}")  # pragma: no cover - the table uses none


def _paren(text: str, wrap: bool, latex: bool = False) -> str:
    if not wrap:
        return text
    return rf"\left({text}\right)" if latex else f"({text})"


_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "tau", "phi"}


def latex_name(name: str) -> str:
    """``x1 -> x_{1}``, ``dx2 -> dx_{2}``, ``w_in -> w_{in}``, ``alpha -> \\alpha``; else ``\\text{...}``."""
    m = re.fullmatch(r"(d?)([A-Za-z]+)_?([0-9A-Za-z]*)", name)
    if not m:  # any other label is text: every LaTeX special character escaped
        return latex_text(name)
    d, base, sub = m.groups()
    if base in _GREEK:
        base = "\\" + base
    elif len(base) > 1:
        base = r"\mathit{" + base + "}"
    return d + base + (f"_{{{sub}}}" if sub else "")


def _latex_number(v: float) -> str:
    text = format_number(v)
    if "e" in text and "inf" not in text and "nan" not in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def render_latex(node: ast.expr) -> str:
    """A formula as LaTeX math: ``\\cdot`` for products, ``\\frac`` for quotients, cases for tests."""
    if isinstance(node, ast.Constant):
        return _latex_number(float(node.value))
    if isinstance(node, ast.Name):
        return latex_name(node.id)
    if isinstance(node, ast.BinOp):
        left, right = render_latex(node.left), render_latex(node.right)
        if isinstance(node.op, ast.Div):
            return rf"\frac{{{left}}}{{{right}}}"
        wrap_left, wrap_right = _operands(node, latex=True)
        left, right = _paren(left, wrap_left, True), _paren(right, wrap_right, True)
        if isinstance(node.op, ast.Pow):
            return f"{{{left}}}^{{{right}}}"
        op = {ast.Add: "+", ast.Sub: "-", ast.Mult: r"\cdot"}[type(node.op)]
        return f"{left} {op} {right}"
    if isinstance(node, ast.UnaryOp):
        operand = render_latex(node.operand)
        return "-" + _paren(operand, _precedence(node.operand, True) <= _UNARY, True)
    if isinstance(node, ast.Call):
        name = node.func.id
        fn = (
            rf"\{name}"
            if name in {"exp", "log", "max", "min", "tanh", "arctan"}
            else rf"\operatorname{{{name}}}"
        )
        return fn + r"\left(" + ", ".join(render_latex(a) for a in node.args) + r"\right)"
    if isinstance(node, ast.IfExp):
        rows = []
        while isinstance(node, ast.IfExp):
            rows.append(f"{render_latex(node.body)} & {render_latex(node.test)}")
            node = node.orelse
        rows.append(rf"{render_latex(node)} & \text{{otherwise}}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"
    if isinstance(node, ast.Compare):
        op = _COMPARE[type(node.ops[0])][1]
        return f"{render_latex(node.left)} {op} {render_latex(node.comparators[0])}"
    raise TypeError(f"cannot render {ast.dump(node)}")  # pragma: no cover


def _number(v: float) -> ast.Constant:
    return ast.Constant(value=v)


def _times(left: ast.expr, right: ast.expr) -> ast.expr:
    return ast.BinOp(left=left, op=ast.Mult(), right=right)


def _sum(terms: list[ast.expr]) -> ast.expr:
    total = terms[0]
    for t in terms[1:]:
        total = ast.BinOp(left=total, op=ast.Add(), right=t)
    return total


def local_derivative(gate: Gate, index: int, operands: tuple[ast.expr, ...], output: ast.expr) -> ast.expr:
    """The gate's local derivative for operand ``index``, its names replaced (``b`` -> ``-3``)."""
    env = dict(zip(gate.operands, operands))
    env["x"] = output
    return _substitute(gate.local[index], env)


def forward_expression(gate: Gate, operands: tuple[ast.expr, ...]) -> ast.expr:
    """The gate's forward text with its operands replaced (``a * b`` -> ``x1 * d``)."""
    return _substitute(gate.expr, dict(zip(gate.operands, operands)))


def gate_term(
    node: Value,
    index: int,
    upstream: str,
    upstream_value: float,
    written: tuple[ast.expr, ...] | None = None,
    numbers: tuple[ast.expr, ...] | None = None,
) -> Term:
    """Operand ``index``'s share of the gradient through ``node``'s gate: ``local * upstream``.

    ``written`` and ``numbers`` give the operands, then the output, as the formula and the
    numbers show them; by default the gate's own names ``a, b, x`` and the graph's values.
    """
    gate = node.gate
    if written is None:
        written = tuple(ast.Name(id=name) for name in (*gate.operands, "x"))
    if numbers is None:
        numbers = tuple(_number(n.data) for n in (*node.parents, node))
    partial = gate.partials(*(p.data for p in node.parents), node.data)[index]
    return Term(
        gate,
        gate.operands[index],
        local_derivative(gate, index, written[:-1], written[-1]),
        local_derivative(gate, index, numbers[:-1], numbers[-1]),
        upstream,
        upstream_value,
        partial * upstream_value,
        node,
    )


# -- the derivation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardStep:
    """``name = expression = numbers = value``; ``gates`` are the gates folded into the line."""

    name: str
    expression: ast.expr
    numbers: ast.expr
    value: float
    gates: tuple[Gate, ...]
    node: Value | None = field(default=None, repr=False, compare=False)

    @property
    def rule(self) -> str:
        return f"{self.name} = {render_text(self.expression)}"

    @property
    def numbers_text(self) -> str:
        return render_text(self.numbers)

    def latex(self) -> tuple[str, str]:
        """The formula and the numbers as LaTeX."""
        return render_latex(self.expression), render_latex(self.numbers)

    def text(self) -> str:
        return f"{self.rule} = {self.numbers_text} = {format_number(self.value)}"


@dataclass(frozen=True)
class Term:
    """One path's contribution: ``local * upstream``, e.g. ``b * dx1``, and its value."""

    gate: Gate
    operand: str  # which operand of the gate ("a" or "b")
    local: ast.expr
    local_numbers: ast.expr
    upstream: str
    upstream_value: float
    value: float
    node: Value | None = field(default=None, repr=False, compare=False)  # the gate's output node

    @property
    def formula(self) -> ast.expr:
        return _times(self.local, ast.Name(id=self.upstream))

    @property
    def numbers(self) -> ast.expr:
        return _times(self.local_numbers, _number(self.upstream_value))


@dataclass(frozen=True)
class BackwardStep:
    """``dname = term + term ... = numbers = value``; several terms mean accumulation."""

    name: str  # the gradient, e.g. "da"
    of: str  # the node, e.g. "a"
    terms: tuple[Term, ...]
    value: float
    node: Value | None = field(default=None, repr=False, compare=False)  # the node ``of`` names

    # Terms are products, so joining them with " + " needs no parentheses; joining text
    # (not nesting trees) keeps a leaf used 5,000 times from recursing 5,000 levels deep.
    @property
    def rule(self) -> str:
        return f"{self.name} = " + " + ".join(render_text(t.formula) for t in self.terms)

    @property
    def numbers_text(self) -> str:
        return " + ".join(render_text(t.numbers) for t in self.terms)

    def latex(self) -> tuple[str, str]:
        """The formula and the numbers as LaTeX."""
        formula = " + ".join(render_latex(t.formula) for t in self.terms)
        return formula, " + ".join(render_latex(t.numbers) for t in self.terms)

    def text(self) -> str:
        return f"{self.rule} = {self.numbers_text} = {format_number(self.value)}"


@dataclass(frozen=True)
class Derivation:
    """The forward decomposition and the backward steps of one circuit, with numbers.

    ``str(d)`` is plain text; ``d.markdown()`` and ``d.latex()`` the same for notebooks
    and slides. ``d.gradients`` maps each input's name to its gradient.
    """

    output: str
    seed: float
    forward: tuple[ForwardStep, ...]
    backward: tuple[BackwardStep, ...]
    inputs: tuple[tuple[str, float], ...]  # (name, value) of each named leaf, first use first

    @property
    def seed_name(self) -> str:
        return "d" + self.output

    @property
    def gradients(self) -> dict[str, float]:
        found = {s.of: s.value for s in self.backward}
        return {name: found.get(name, 0.0) for name, _ in self.inputs}

    def lines(self) -> list[str]:
        """The derivation's lines, forward then backward, without headings or numbers."""
        return [s.rule for s in self.forward] + [s.rule for s in self.backward]

    def text(self) -> str:
        # Labels are shown with control characters escaped: a terminal must not obey them.
        out = ["forward:" if self.forward else "forward: (no gates)"]
        out += _columns([(printable(s.rule), s.numbers_text, format_number(s.value)) for s in self.forward])
        out.append(f"backward ({printable(self.seed_name)} = {format_number(self.seed)}):")
        rows = [(printable(s.rule), s.numbers_text, format_number(s.value)) for s in self.backward]
        notes = [f"  <- {len(s.terms)} paths add up" if len(s.terms) > 1 else "" for s in self.backward]
        out += [line + note for line, note in zip(_columns(rows), notes)]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def markdown(self) -> str:
        def table(steps: tuple[ForwardStep, ...] | tuple[BackwardStep, ...]) -> list[str]:
            rows = [
                f"| {markdown_code(s.rule)} | {markdown_code(s.numbers_text)} | {format_number(s.value)} |"
                for s in steps
            ]  # code spans: a label shows as typed, never as HTML or Markdown
            return ["", "| step | numbers | value |", "|---|---|---:|", *rows]

        seed = markdown_code(f"{self.seed_name} = {format_number(self.seed)}")
        backward = f"**Backward** ({seed})"
        return "\n".join(["**Forward**", *table(self.forward), "", backward, *table(self.backward)])

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def latex(self) -> str:
        """An ``align*`` block (amsmath; Beamer loads it) ready to paste into a slide."""

        def row(s: ForwardStep | BackwardStep) -> str:
            formula, numbers = s.latex()
            return rf"{latex_name(s.name)} &= {formula} = {numbers} = {_latex_number(s.value)}"

        rows = [row(s) for s in self.forward]
        gap = len(rows) - 1  # the last forward row: a gap follows it
        rows.append(rf"{latex_name(self.seed_name)} &= {_latex_number(self.seed)}")
        rows += [row(s) for s in self.backward]
        ends = [r" \\[6pt]" if i == gap else r" \\" if i < len(rows) - 1 else "" for i in range(len(rows))]
        body = [line + end for line, end in zip(rows, ends)]
        return "\n".join([r"\begin{align*}", *body, r"\end{align*}"])


def _columns(rows: list[tuple[str, str, str]]) -> list[str]:
    # Align the columns, unless one long line would push every other far to the right.
    w0, w1 = (max((len(r[i]) for r in rows if len(r[i]) <= 40), default=0) for i in (0, 1))
    return [f"  {a:<{w0}} = {b:<{w1}} = {c}" for a, b, c in rows]


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
MAX_FOLDED = 8  # gates written on one line when sums are folded


def circuit_names(root: Value, *, inline_sums: bool = False) -> tuple[dict[Value, str], set[Value]]:
    """The name of every named node of ``root``'s circuit, and the set of folded nodes.

    Leaves are named by their labels; unlabelled leaves, and unlabelled gates fed only by
    them, are constants and get no name;
    the output is its label or ``x``; other gates are their label or ``x1, x2, ...`` in
    topological order. With ``inline_sums``, an unlabelled node used once, by a gate
    whose local derivative for it is ``1`` (a sum), is folded into that gate's line.
    """
    return _naming(root, topological_order(root), inline_sums)


def _naming(root: Value, order: list[Value], inline_sums: bool) -> tuple[dict[Value, str], set[Value]]:
    uses: Counter[Value] = Counter()
    consumer: dict[Value, tuple[Value, int]] = {}
    for node in order:
        for i, p in enumerate(node.parents):
            uses[p] += 1
            consumer[p] = (node, i)
    # Constants: unlabelled leaves, and unlabelled gates fed only by constants (the -1 of a - 1).
    constants: set[Value] = set()
    for node in order:
        if node is not root and not node.label and all(p in constants for p in node.parents):
            constants.add(node)
    folded: set[Value] = set()
    if inline_sums:
        # A line holds at most MAX_FOLDED gates: a sum of 5,000 terms is written in
        # readable pieces (and nothing downstream recurses 5,000 levels deep).
        size: dict[Value, int] = {}
        for node in order:
            if node.gate is None:
                continue
            size[node] = 1 + sum(size[p] for p in node.parents if p in folded)
            if node is root or node.label or uses[node] != 1 or node in constants:
                continue
            user, i = consumer[node]
            if user.gate.local[i] == "1" and size[node] < MAX_FOLDED:
                folded.add(node)

    names: dict[Value, str] = {}
    taken: set[str] = set()

    def claim(node: Value, wanted: str) -> None:
        name, k = wanted, 2
        while name in taken:
            name, k = f"{wanted}_{k}", k + 1
        names[node] = name
        taken.add(name)

    for node in order:  # labels first, so automatic names avoid them
        if node.label:
            claim(node, node.label)

    def free(name: str) -> bool:  # nor may its gradient's name be a label: "da = dx * dx" is ambiguous
        return name not in taken and "d" + name not in taken

    if root not in names:
        claim(root, next((n for n in ("x", "f", "y", "out") if free(n)), "x"))
    prefix = names[root] if _IDENTIFIER.fullmatch(names[root]) else "x"
    k = 1
    for node in order:
        if node.gate is not None and node not in names and node not in folded and node not in constants:
            while not free(f"{prefix}{k}"):
                k += 1
            claim(node, f"{prefix}{k}")
    return names, folded


def explain(root: Value, *, inline_sums: bool = True, seed: float = 1.0) -> Derivation:
    """The derivation of ``root`` in the slides' notation, with numbers from the graph.

    Reads the graph only: no ``.grad`` is changed (the gradients shown are those one
    ``root.backward(seed)`` would give a fresh graph). See the module docstring for
    the naming rules; ``inline_sums=False`` gives one line per gate.
    """
    if not isinstance(root, Value):
        raise TypeError(f"explain() needs a Value, got {type(root).__name__} {root!r}")
    order = topological_order(root)
    names, folded = _naming(root, order, inline_sums)
    symbol, numeric, forward = _forward(order, names, folded)

    grad: dict[Value, float] = {root: float(seed)}
    contributions: list[list[tuple[Value, Term]]] = []

    def walk(node: Value, upstream: str, upstream_value: float, found: list[tuple[Value, Term]]) -> None:
        written = (*(symbol[p] for p in node.parents), symbol[node])
        numbers = (*(numeric[p] for p in node.parents), numeric[node])
        for i, p in enumerate(node.parents):
            if p in folded:  # a sum's operand: its gradient is 1 * upstream, so hand the upstream down
                walk(p, upstream, upstream_value, found)
            elif p in names:  # (a constant has no gradient to write)
                term = gate_term(node, i, upstream, upstream_value, written, numbers)
                grad[p] = grad.get(p, 0.0) + term.value
                found.append((p, term))

    for node in reversed(order):
        if node not in names or node.gate is None:  # leaves, constants and folded nodes
            continue
        found: list[tuple[Value, Term]] = []
        walk(node, "d" + names[node], grad.get(node, 0.0), found)
        contributions.append(found)

    # A gradient's line is written once all its terms are known: with the last unit that
    # contributes to it, in the order it first appears in that unit.
    last: dict[Value, tuple[int, int]] = {}
    terms: dict[Value, list[Term]] = {}
    for u, found in enumerate(contributions):
        for j, (target, term) in enumerate(found):
            if last.get(target, (-1,))[0] != u:
                last[target] = (u, j)  # its last unit so far, and where it first appears there
            terms.setdefault(target, []).append(term)
    backward = [
        BackwardStep("d" + names[t], names[t], tuple(terms[t]), grad[t], t)
        for t in sorted(last, key=last.__getitem__)
    ]
    inputs = tuple((names[n], n.data) for n in order if n.gate is None and n in names)
    return Derivation(names[root], float(seed), tuple(forward), tuple(backward), inputs)


def _forward(
    order: list[Value], names: dict[Value, str], folded: set[Value]
) -> tuple[dict[Value, ast.expr], dict[Value, ast.expr], list[ForwardStep]]:
    """How each node is written (its name, its folded expression, or its number), and the forward lines."""
    symbol: dict[Value, ast.expr] = {}
    numeric: dict[Value, ast.expr] = {}
    forward: list[ForwardStep] = []
    for node in order:
        if node.gate is None or (node not in names and node not in folded):  # a leaf or a constant
            symbol[node] = ast.Name(id=names[node]) if node in names else _number(node.data)
            numeric[node] = _number(node.data)
            continue
        expression = forward_expression(node.gate, tuple(symbol[p] for p in node.parents))
        numbers = forward_expression(node.gate, tuple(numeric[p] for p in node.parents))
        if node in folded:
            symbol[node], numeric[node] = expression, numbers
            continue
        forward.append(
            ForwardStep(names[node], expression, numbers, node.data, _gates_in(node, folded), node)
        )
        symbol[node], numeric[node] = ast.Name(id=names[node]), _number(node.data)
    return symbol, numeric, forward


def node_names(root: Value, *, inline_sums: bool = True) -> dict[Value, str]:
    """What the trace calls each node: its name, or for a folded node its expression (``a * b``).

    Constants (unlabelled leaves) are left out. The drawing labels its boxes with these.
    """
    order = topological_order(root)
    names, folded = _naming(root, order, inline_sums)
    symbol, _, _ = _forward(order, names, folded)
    return {
        node: names[node] if node in names else render_text(symbol[node])
        for node in symbol
        if node in names or node in folded
    }


def _gates_in(node: Value, folded: set[Value]) -> tuple[Gate, ...]:
    gates, stack = [], [node]
    while stack:
        n = stack.pop()
        gates.append(n.gate)
        stack.extend(p for p in reversed(n.parents) if p in folded)
    return tuple(gates)
