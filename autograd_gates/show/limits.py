"""How hard a circuit's drawing is to lay out, measured before any renderer runs.

Graphviz's ``dot`` puts every box in a column (a rank) and routes an edge that skips
columns through one invisible node per skipped column. Its time grows with those
invisible nodes far faster than with the boxes themselves: ``a + a + ... + a`` (``a``
feeds a gate at every level) with 60 terms has 119 boxes and gates but 3,422 skipped
columns, and takes Graphviz 2.43 over a minute (1,000 terms took 7 GB), while a chain of
3,000 boxes and gates with no skipped column takes 2 to 4 s.

``drawing_size(root)`` counts boxes and gates, edges, and the columns the edges skip, on
a layering close to the one ``dot`` finds (see ``drawing_size``), and names the node whose
edges skip the most.
``too_large`` compares a size with the limits; the defaults were measured with
``benchmarks/bench_drawing.py`` (the numbers are in docs/drawing.md, "Limits").
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.value import Value, topological_order
from .escape import printable

__all__ = [
    "DrawingSize",
    "drawing_size",
    "too_large",
    "MAX_NODES",
    "MAX_EDGES",
    "MAX_SKIPPED_RANKS",
    "MAX_MEMORY_MB",
]

# Defaults, chosen with margin from benchmarks/bench_drawing.py (docs/drawing.md, "Limits").
MAX_NODES = 2000  # boxes and gate circles
MAX_EDGES = 3000
MAX_SKIPPED_RANKS = 1000  # columns skipped by all edges together
MAX_MEMORY_MB = 1024  # the renderer's address space
_SWEEPS = 3


@dataclass(frozen=True)
class DrawingSize:
    """What the renderer would lay out: its boxes and gate circles, edges, and skipped columns."""

    nodes: int
    edges: int
    skipped_ranks: int  # columns skipped by all edges together: the layout's invisible nodes
    busiest: Value | None = None  # the node whose edges skip the most columns
    busiest_skipped_ranks: int = 0
    busiest_uses: int = 0  # how many gates it feeds


def drawing_size(root: Value) -> DrawingSize:
    """Count what laying out ``root``'s drawing costs (see the module docstring)."""
    order = topological_order(root)
    users: dict[Value, list[Value]] = {}
    for node in order:
        for parent in node.parents:
            users.setdefault(parent, []).append(node)
    # The column of each value's box; its gate's circle sits in the column before it.
    rank: dict[Value, int] = {}
    for node in order:
        rank[node] = 2 + max((rank[p] for p in node.parents), default=-2)
    # Shorten edges as dot's ranking does (it minimises their total length). A node whose
    # operands feed only it, and whose operands' operands do too (a leaf, a * b of two inputs
    # used once), moves with them as one block next to its first user. Of the other nodes,
    # one with more edges out than in moves as late as its users allow, one with more in than
    # out as early as its operands allow. A few sweeps come close to dot's optimum on circuits.
    movable: dict[Value, bool] = {}
    for node in order:
        movable[node] = all(movable[p] and all(u is node for u in users[p]) for p in node.parents)
    for _ in range(_SWEEPS):
        for node in reversed(order):
            used_by = users.get(node, ())
            if used_by and (movable[node] or len(used_by) > len(node.parents)):
                rank[node] = min(rank[user] for user in used_by) - 2
        for node in order:
            if node.parents and not movable[node] and len(node.parents) > len(users.get(node, ())):
                rank[node] = max(rank[p] for p in node.parents) + 2
    total, busiest, busiest_skipped = 0, None, 0
    for node, used_by in users.items():
        skipped = sum(rank[user] - rank[node] - 2 for user in used_by)  # box -> circle of the user
        total += skipped
        if skipped > busiest_skipped:
            busiest, busiest_skipped = node, skipped
    gates = sum(1 for node in order if node.gate is not None)
    return DrawingSize(
        nodes=len(order) + gates,
        edges=sum(len(node.parents) for node in order) + gates,
        skipped_ranks=total,
        busiest=busiest,
        busiest_skipped_ranks=busiest_skipped,
        busiest_uses=len(set(users[busiest])) if busiest is not None else 0,
    )


def _describe(node: Value) -> str:
    return repr(printable(node.label)) if node.label else f"an unlabelled value ({node.data:g})"


def too_large(
    size: DrawingSize, max_nodes: int | None, max_edges: int | None, max_skipped_ranks: int | None
) -> str | None:
    """Why ``size`` is past its limits (each one named by its argument), or ``None``."""
    reasons = []
    if max_nodes is not None and size.nodes > max_nodes:
        reasons.append(f"it has {size.nodes:,} boxes and gates (limit: max_nodes={max_nodes:,})")
    if max_edges is not None and size.edges > max_edges:
        reasons.append(f"it has {size.edges:,} edges (limit: max_edges={max_edges:,})")
    if max_skipped_ranks is not None and size.skipped_ranks > max_skipped_ranks:
        worst = ""
        if size.busiest is not None:
            worst = (
                f"; {size.busiest_skipped_ranks:,} of them from {_describe(size.busiest)}, "
                f"which feeds {size.busiest_uses:,} gates at different depths"
            )
        reasons.append(
            f"its edges skip {size.skipped_ranks:,} columns of the layout "
            f"(limit: max_skipped_ranks={max_skipped_ranks:,}){worst}. Graphviz's time grows much faster "
            f"than that count: a + a + ... + a with 60 terms (3,422) takes over a minute"
        )
    return "; and ".join(reasons) or None
