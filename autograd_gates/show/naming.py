"""What the trace and the drawing call each node of a circuit.

Leaves are named by their labels; an unlabelled leaf is a constant, written as its number, and
so is an unlabelled gate fed only by constants (the ``-1`` of ``a * (-1)``). The output is its
label, else ``x`` (or ``f``, ``y``, ``out`` if a label took ``x``). Other gates are their label,
else ``x1, x2, ...`` in topological order -- in a family no label belongs to: with inputs
``x0`` and ``x1`` the intermediates are ``t1, t2, ...``, so ``dx1 = w1 * dt2`` cannot read as a
chain step between two inputs.

With ``inline_sums``, an unlabelled node used once, by a gate whose local derivative for it is
``1`` (a sum), is *folded* into that gate's line, as the slides write ``x1 = a * b + c``.
"""

from __future__ import annotations

import re
from collections import Counter

from ..engine.formula import const
from ..engine.value import Value, topological_order

__all__ = ["circuit_names", "naming", "MAX_FOLDED"]

MAX_FOLDED = 8  # gates written on one line when sums are folded
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_PREFIXES = ("x", "t", "h", "u", "v", "z", "q", "s")  # families tried for intermediate names
_ONE = const(1.0)


def circuit_names(root: Value, *, inline_sums: bool = False) -> tuple[dict[Value, str], set[Value]]:
    """The name of every named node of ``root``'s circuit, and the set of folded nodes."""
    return naming(root, topological_order(root), inline_sums)


def naming(root: Value, order: list[Value], inline_sums: bool) -> tuple[dict[Value, str], set[Value]]:
    uses: Counter[Value] = Counter()
    consumer: dict[Value, tuple[Value, int]] = {}
    for node in order:
        for i, p in enumerate(node.parents):
            uses[p] += 1
            consumer[p] = (node, i)
    constants: set[Value] = set()
    for node in order:
        if node is not root and not node.label and all(p in constants for p in node.parents):
            constants.add(node)
    folded = _folded(root, order, uses, consumer, constants) if inline_sums else set()

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
    prefix = _family(names[root], taken)
    k = 1
    for node in order:
        if node.gate is not None and node not in names and node not in folded and node not in constants:
            while not free(f"{prefix}{k}"):
                k += 1
            claim(node, f"{prefix}{k}")
    return names, folded


def _family(root_name: str, labels: set[str]) -> str:
    """A prefix for intermediate names that no label shares (``x1`` beside an input ``x0`` would)."""
    wanted = root_name if _IDENTIFIER.fullmatch(root_name) and not root_name[-1].isdigit() else "x"
    for prefix in (wanted, *_PREFIXES):
        family = re.compile(rf"d?{re.escape(prefix)}_?\d+(_\d+)?")
        if not any(family.fullmatch(label) for label in labels if label != root_name):
            return prefix
    return "node"


def _folded(
    root: Value,
    order: list[Value],
    uses: Counter[Value],
    consumer: dict[Value, tuple[Value, int]],
    constants: set[Value],
) -> set[Value]:
    # A line holds at most MAX_FOLDED gates: a sum of 5,000 terms is written in readable
    # pieces (and nothing downstream recurses 5,000 levels deep).
    folded: set[Value] = set()
    size: dict[Value, int] = {}
    for node in order:
        if node.gate is None:
            continue
        size[node] = 1 + sum(size[p] for p in node.parents if p in folded)
        if node is root or node.label or uses[node] != 1 or node in constants:
            continue
        user, i = consumer[node]
        if user.gate.local_trees[i] == _ONE and size[node] < MAX_FOLDED:  # type: ignore[union-attr]
            folded.add(node)
    return folded
