"""The derivation trace: a circuit written out the way the slides write it.

``explain(root)`` writes the forward pass as one line per named node and the backward pass as
one line per gradient, each with its numbers::

    x1 = a * b + c   = 2 * (-3) + 10 = 4
    x2 = x1 * d      = 4 * (-2)      = -8
    x  = x2 ** 2     = (-8) ** 2     = 64
    dx2 = 2 * x2 * dx = 2 * (-8) * 1 = -16
    dx1 = d * dx2     = -2 * (-16)   = 32
    ...

Every formula comes from the op table (a gate's ``expr_tree`` for the forward, its
``local_trees`` for the backward) with the operand names ``a, b, x`` replaced by the names in
this circuit (see ``naming.py``), and is printed by the one printer of ``engine/formula.py``;
every number comes from the graph. Nothing here restates a rule. A composite gate (sigmoid,
tanh, ``a - b``) is one line with its own rule (``dx1 = x2 * (1 - x2) * dx2``);
``explain(root, expand=True)`` writes its composition from other gates instead.

Like the slides, the trace folds a node into the sum that consumes it (``x1 = a * b + c``
rather than ``q = a * b; x1 = q + c``): a sum passes its gradient on unchanged (its local
derivative is ``1``), so ``da = b * dx1`` is exact. ``inline_sums=False`` names every gate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..engine.circuit import expand as expand_composites
from ..engine.formula import Expr, const, format_formula, latex, latex_name, latex_number, substitute, var
from ..engine.table import Gate
from ..engine.value import Value, topological_order
from .escape import markdown_code, printable
from .naming import MAX_FOLDED, circuit_names, naming

__all__ = [
    "explain",
    "Derivation",
    "ForwardStep",
    "BackwardStep",
    "Term",
    "format_number",
    "formula_text",
    "formula_latex",
    "circuit_names",
    "node_names",
    "MAX_FOLDED",
]


# -- numbers and formulas ----------------------------------------------------------------------


def format_number(v: float, digits: int = 6) -> str:
    """A float as a person writes it: ``4``, ``-0.5``, ``0.333333``, ``1e-08``."""
    if math.isnan(v) or math.isinf(v):
        return repr(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.{digits}g}"


def formula_text(expr: Expr, numbers: bool = False) -> str:
    """A formula of the trace as text, its numbers to 6 significant digits; ``numbers`` for a
    line of numbers, whose negative operands are bracketed: ``(-3) * 32``."""
    return format_formula(expr, number=format_number, bracket_negatives=numbers, readable=True)


def formula_latex(expr: Expr, numbers: bool = False) -> str:
    """A formula of the trace as LaTeX math."""
    return latex(expr, number=latex_number, name=latex_name, bracket_negatives=numbers)


def _number(v: float) -> Expr:
    """A number in a formula; a non-finite one (never made by the engine) is shown by name."""
    if math.isfinite(v):
        return const(v)
    return var("nan") if math.isnan(v) else var("inf") if v > 0 else -var("inf")


def _times(left: Expr, right: Expr) -> Expr:
    return Expr("mul", (left, right))


# -- the steps ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForwardStep:
    """``name = expression = numbers = value``; ``gates`` are the gates folded into the line."""

    name: str
    expression: Expr
    numbers: Expr
    value: float
    gates: tuple[Gate, ...]
    node: Value | None = field(default=None, repr=False, compare=False)

    @property
    def rule(self) -> str:
        return f"{self.name} = {formula_text(self.expression)}"

    @property
    def numbers_text(self) -> str:
        return formula_text(self.numbers, numbers=True)

    def latex(self) -> tuple[str, str]:
        """The formula and the numbers as LaTeX."""
        return formula_latex(self.expression), formula_latex(self.numbers, numbers=True)

    def text(self) -> str:
        return f"{self.rule} = {self.numbers_text} = {format_number(self.value)}"


@dataclass(frozen=True)
class Term:
    """One path's contribution to a gradient: ``local * upstream`` (``b * dx1``) and its value.

    ``target`` is the gradient it adds to (``da``); ``node`` is the gate's output node and
    ``index`` the operand's position, which is the edge a drawing labels with this term.
    """

    gate: Gate
    operand: str  # which operand of the gate ("a" or "b")
    local: Expr
    local_numbers: Expr
    upstream: str
    upstream_value: float
    value: float
    node: Value | None = field(default=None, repr=False, compare=False)
    target: str = ""
    index: int = 0

    @property
    def formula(self) -> Expr:
        return _times(self.local, var(self.upstream))

    @property
    def numbers(self) -> Expr:
        return _times(self.local_numbers, _number(self.upstream_value))

    def text(self) -> str:
        """``dd = x1 * dx2 = 4 * (-16) = -64``: the term as a line of its own."""
        return (
            f"{self.target} = {formula_text(self.formula)} = {formula_text(self.numbers, numbers=True)} = "
            f"{format_number(self.value)}"
        )


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
        return f"{self.name} = " + " + ".join(formula_text(t.formula) for t in self.terms)

    @property
    def numbers_text(self) -> str:
        return " + ".join(formula_text(t.numbers, numbers=True) for t in self.terms)

    def latex(self) -> tuple[str, str]:
        """The formula and the numbers as LaTeX."""
        formula = " + ".join(formula_latex(t.formula) for t in self.terms)
        return formula, " + ".join(formula_latex(t.numbers, numbers=True) for t in self.terms)

    def text(self) -> str:
        return f"{self.rule} = {self.numbers_text} = {format_number(self.value)}"


@dataclass(frozen=True)
class Derivation:
    """The forward decomposition and the backward steps of one circuit, with numbers.

    ``str(d)`` is plain text; ``d.markdown()`` and ``d.latex()`` the same for notebooks and
    slides. ``d.gradients`` maps each input's name to its gradient; ``d.edge_terms`` maps each
    edge ``(gate's output node, operand index)`` to the term written for it.
    """

    output: str
    seed: float
    forward: tuple[ForwardStep, ...]
    backward: tuple[BackwardStep, ...]
    inputs: tuple[tuple[str, float], ...]  # (name, value) of each named leaf, first use first
    edge_terms: dict[tuple[Value, int], Term] = field(default_factory=dict, repr=False, compare=False)

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
            return rf"{latex_name(s.name)} &= {formula} = {numbers} = {latex_number(s.value)}"

        rows = [row(s) for s in self.forward]
        gap = len(rows) - 1  # the last forward row: a gap follows it
        rows.append(rf"{latex_name(self.seed_name)} &= {latex_number(self.seed)}")
        rows += [row(s) for s in self.backward]
        ends = [r" \\[6pt]" if i == gap else r" \\" if i < len(rows) - 1 else "" for i in range(len(rows))]
        body = [line + end for line, end in zip(rows, ends)]
        return "\n".join([r"\begin{align*}", *body, r"\end{align*}"])


def _columns(rows: list[tuple[str, str, str]]) -> list[str]:
    # Align the columns, unless one long line would push every other far to the right.
    w0, w1 = (max((len(r[i]) for r in rows if len(r[i]) <= 40), default=0) for i in (0, 1))
    return [f"  {a:<{w0}} = {b:<{w1}} = {c}" for a, b, c in rows]


# -- the derivation -----------------------------------------------------------------------------


def explain(root: Value, *, inline_sums: bool = True, seed: float = 1.0, expand: bool = False) -> Derivation:
    """The derivation of ``root`` in the slides' notation, with numbers from the graph.

    Reads the graph only: no ``.grad`` is changed (the gradients shown are those one
    ``root.backward(seed)`` would give a fresh graph). ``inline_sums=False`` gives one line per
    gate; ``expand=True`` opens every composite gate (sigmoid, tanh, ``a - b``, ...) into its
    composition from other gates.
    """
    if not isinstance(root, Value):
        raise TypeError(f"explain() needs a Value, got {type(root).__name__} {root!r}")
    if expand:
        root = expand_composites(root)
    order = topological_order(root)
    names, folded = naming(root, order, inline_sums)
    symbol, numeric, forward = _forward(order, names, folded)

    grad: dict[Value, float] = {root: float(seed)}
    contributions: list[list[tuple[Value, Term]]] = []
    edge_terms: dict[tuple[Value, int], Term] = {}

    def term(node: Value, i: int, target: str, upstream: str, upstream_value: float) -> Term:
        gate = node.gate
        assert gate is not None
        written = dict(zip(gate.operands, (symbol[p] for p in node.parents)), x=symbol[node])
        numbers = dict(zip(gate.operands, (numeric[p] for p in node.parents)), x=numeric[node])
        partial = gate.partials(*(p.data for p in node.parents), node.data)[i]
        found = Term(
            gate,
            gate.operands[i],
            substitute(gate.local_trees[i], written),
            substitute(gate.local_trees[i], numbers),
            upstream,
            upstream_value,
            partial * upstream_value if upstream_value else 0.0,  # nothing flows back from a zero
            node,
            target,
            i,
        )
        edge_terms[(node, i)] = found
        return found

    def walk(node: Value, upstream: str, upstream_value: float, found: list[tuple[Value, Term]]) -> None:
        for i, p in enumerate(node.parents):
            if p in folded:  # a sum's operand: its gradient is 1 * upstream, so hand the upstream down
                term(node, i, f"d({formula_text(symbol[p])})", upstream, upstream_value)
                walk(p, upstream, upstream_value, found)
            elif p in names:  # (a constant has no gradient to write)
                t = term(node, i, "d" + names[p], upstream, upstream_value)
                grad[p] = grad.get(p, 0.0) + t.value
                found.append((p, t))

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
        for j, (target, t) in enumerate(found):
            if last.get(target, (-1,))[0] != u:
                last[target] = (u, j)  # its last unit so far, and where it first appears there
            terms.setdefault(target, []).append(t)
    backward = [
        BackwardStep("d" + names[t], names[t], tuple(terms[t]), grad[t], t)
        for t in sorted(last, key=last.__getitem__)
    ]
    inputs = tuple((names[n], n.data) for n in order if n.gate is None and n in names)
    return Derivation(names[root], float(seed), tuple(forward), tuple(backward), inputs, edge_terms)


def _forward(
    order: list[Value], names: dict[Value, str], folded: set[Value]
) -> tuple[dict[Value, Expr], dict[Value, Expr], list[ForwardStep]]:
    """How each node is written (its name, its folded expression, or its number), and the forward lines."""
    symbol: dict[Value, Expr] = {}
    numeric: dict[Value, Expr] = {}
    forward: list[ForwardStep] = []
    for node in order:
        if node.gate is None or (node not in names and node not in folded):  # a leaf or a constant
            symbol[node] = var(names[node]) if node in names else _number(node.data)
            numeric[node] = _number(node.data)
            continue
        gate = node.gate
        expression = substitute(gate.expr_tree, dict(zip(gate.operands, (symbol[p] for p in node.parents))))
        numbers = substitute(gate.expr_tree, dict(zip(gate.operands, (numeric[p] for p in node.parents))))
        if node in folded:
            symbol[node], numeric[node] = expression, numbers
            continue
        forward.append(
            ForwardStep(names[node], expression, numbers, node.data, _gates_in(node, folded), node)
        )
        symbol[node], numeric[node] = var(names[node]), _number(node.data)
    return symbol, numeric, forward


def node_names(root: Value, *, inline_sums: bool = True) -> dict[Value, str]:
    """What the trace calls each node: its name, or for a folded node its expression (``a * b``).

    Constants (unlabelled leaves) are left out. The drawing labels its boxes with these.
    """
    order = topological_order(root)
    names, folded = naming(root, order, inline_sums)
    symbol, _, _ = _forward(order, names, folded)
    return {
        node: names[node] if node in names else formula_text(symbol[node])
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
