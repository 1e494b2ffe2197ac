"""Who is wrong: the suspect gate of a failed gradient check.

1. each node's local rule, in topological order: ``gate.partials`` against a numerical
   derivative of ``gate.forward`` at the node's operands;
2. if every rule holds, each node's ``.grad`` after backward (from the root down) against
   the chain rule redone through those rules. A node that differs was mis-added by backward,
   unless ``d(root)/d(node)``, measured by perturbing that node and replaying the gates above
   it, sides with backward (only differing nodes are replayed: a replay costs a pass over the
   circuit). The first such node received a wrong gradient from the gates that use it; when
   its ``.grad`` is exactly what one of those gates would leave by *assigning* (``=``) its
   contribution instead of adding it (``+=``), by adding it twice, or by dropping it, that
   gate is named; otherwise the one nearest the root, as the last to pass on a gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..engine.value import Value, topological_order
from .numerical import NOISY, REL_STEP, Probe, estimate_derivative
from .report import Suspect
from .verdict import FAIL, INCONCLUSIVE, PASS, Tolerance, hint

__all__ = ["find_suspect", "check_local_rules"]


def find_suspect(
    root: Value, tolerance: Tolerance | None = None, *, rel_step: float = REL_STEP
) -> tuple[Suspect | None, str]:
    """The gate to blame for a wrong gradient of ``root`` (after ``root.backward()``).

    Returns ``(suspect, diagnosis)``; ``suspect`` is None when no gate could be blamed and
    ``diagnosis`` then says what was ruled out.
    """
    tolerance = tolerance or Tolerance()
    found, undecided = check_local_rules(root, tolerance, rel_step=rel_step)
    if found is not None:
        return found, ""
    found = _check_accumulation(topological_order(root), tolerance, rel_step)
    if found is not None:
        return found, ""
    ruled_out = (
        "every gate's local rule agrees with a numerical derivative of its forward, and backward's "
        "gradient at every node is the chain rule through those rules"
    )
    if undecided:
        ruled_out += f" (could not judge: {'; '.join(undecided[:3])})"
    return None, ruled_out + "; if an input still fails, f uses something outside the circuit (.data, floats)"


def check_local_rules(
    root: Value, tolerance: Tolerance | None = None, *, rel_step: float = REL_STEP
) -> tuple[Suspect | None, list[str]]:
    """The first node, in topological order, whose gate's local rule disagrees with a numerical
    derivative of the gate's forward at the node's operands; and the rules it could not judge."""
    tolerance = tolerance or Tolerance()
    undecided: list[str] = []
    for k, node in enumerate(topological_order(root)):
        if node.gate is None:
            continue
        found, unsure = _check_local_rule(k, node, tolerance, rel_step)
        if found is not None:
            return found, undecided
        undecided.extend(unsure)
    return None, undecided


def _check_local_rule(
    k: int, node: Value, tolerance: Tolerance, rel_step: float
) -> tuple[Suspect | None, list[str]]:
    gate = node.gate
    assert gate is not None
    ops = [p.data for p in node.parents]
    try:
        partials = gate.partials(*ops, node.data)
    except Exception as exc:  # a broken rule may raise anything; that is the finding
        return Suspect(
            gate.name, k, "local rule", f"{gate.name} gate (node #{k}): its rule raised {exc!r}"
        ), []
    shown = ", ".join(f"{o} = {v!r}" for o, v in zip(gate.operands, ops))
    unsure: list[str] = []

    def judge(what: str, analytic: float, direction: list[int]) -> Suspect | None:
        """The rule's ``what`` against the forward's slope along ``direction`` from the operands."""

        def along(t: float) -> Probe:
            moved = [v + d * t for v, d in zip(ops, direction)]
            return Probe(gate.forward(*moved), (gate,), (tuple(moved),))

        scale = max(abs(v) for v, d in zip(ops, direction) if d)  # the step is relative to the operands
        estimate = estimate_derivative(along, 0.0, along(0.0), what="t", rel_step=rel_step * max(1.0, scale))
        verdict, allowed = tolerance.judge(analytic, estimate)
        if verdict == INCONCLUSIVE:
            unsure.append(f"{gate.name} #{k} {what}")
        if verdict != FAIL:
            return None
        message = (
            f"{gate.name} gate (node #{k}, {shown}): its local rule gives {what} = "
            f"{analytic:.12g} * dx, but a numerical derivative of its forward gives "
            f"{estimate.value:.12g} ± {estimate.error:.1e} "
            f"({hint(analytic, estimate.value, allowed)}); "
            f"rule: {gate.rule}"
        )
        return Suspect(gate.name, k, "local rule", message)

    for j, name in enumerate(gate.operands):
        found = judge(f"d{name}", partials[j], [int(m == j) for m in range(len(ops))])
        if found is not None:
            return found, []
    if unsure and len(ops) == 2:
        # An operand alone sat on a kink; along (1, 1) a tie stays a tie (max(a, a) is smooth),
        # so the rule's sum da + db can still be judged.
        found = judge("da + db", sum(partials), [1, 1])
        if found is not None:
            return found, []
    return None, unsure


def _check_accumulation(order: list[Value], tolerance: Tolerance, rel_step: float) -> Suspect | None:
    """The first node, from the root down, whose .grad disagrees with d(root)/d(node)."""
    index = {node: k for k, node in enumerate(order)}
    parents = [tuple(index[p] for p in node.parents) for node in order]
    gates = tuple(node.gate for node in order)
    data = [node.data for node in order]
    consumers: list[list[int]] = [[] for _ in order]
    for k, ps in enumerate(parents):
        for p in set(ps):
            consumers[p].append(k)

    # The chain rule done right with the gates' own partials, whose local rules hold: a node whose
    # .grad differs from it was mis-added by backward. Only such a node is also measured by
    # perturbing it and replaying the circuit (each replay costs a pass over the circuit).
    chain = [0.0] * len(order)
    chain[-1] = 1.0
    for k in range(len(order) - 1, -1, -1):
        node = order[k]
        if node.gate is not None:
            for p, d in zip(parents[k], node.gate.partials(*(q.data for q in node.parents), node.data)):
                chain[p] += d * chain[k]

    def replay_from(k: int) -> Callable[[float], Probe]:
        def replay(t: float) -> Probe:
            values = list(data)
            values[k] = t
            changed = [False] * len(order)
            changed[k] = True
            for j in range(k + 1, len(order)):
                if any(changed[p] for p in parents[j]):
                    values[j] = gates[j].forward(*(values[p] for p in parents[j]))  # type: ignore[union-attr]
                    changed[j] = True
            return Probe(values[-1], gates, tuple(tuple(values[p] for p in ps) for ps in parents))

        return replay

    # The root (last) holds the seed; every other node of the order feeds at least one gate.
    for k in range(len(order) - 2, -1, -1):
        grad = order[k].grad
        if abs(grad - chain[k]) <= tolerance.allowed(grad, chain[k], 0.0):
            continue
        if not (math.isfinite(grad) and math.isfinite(chain[k])):
            continue  # an infinite partial (a ** 0.5 at 0): nothing to compare
        replay = replay_from(k)
        estimate = estimate_derivative(replay, data[k], replay(data[k]), what=f"node #{k}", rel_step=rel_step)
        verdict = tolerance.judge(grad, estimate)[0]
        if verdict == PASS:
            continue  # the measurement sides with backward: no proof against it
        measured = (
            f"perturbing it and replaying the circuit gives {estimate.value:.12g} ± {estimate.error:.1e}"
            if verdict == FAIL
            else f"perturbing it and replaying the circuit cannot confirm it: {estimate.issue or NOISY}"
        )
        return _blame_consumers(order, k, consumers[k], chain[k], measured, tolerance)
    return None


def _assigned(contributions: list[tuple[str, float]], name: str) -> float:
    total = 0.0
    for gate, c in contributions:
        total = c if gate == name else total + c
    return total


def _doubled(contributions: list[tuple[str, float]], name: str) -> float:
    return sum(2.0 * c if gate == name else c for gate, c in contributions)


def _dropped(contributions: list[tuple[str, float]], name: str) -> float:
    return sum(c for gate, c in contributions if gate != name)


# Backward bugs that mishandle every contribution of one gate: each maps the contributions to a
# node, (gate name, value) in the order backward adds them, to the .grad the node would be left with.
_BACKWARD_BUGS = (
    (
        _assigned,
        "assigns (=) its gradient to its operands instead of adding (+=) it: "
        "a node used more than once must sum the gradients of all its uses",
    ),
    (_doubled, "adds its gradient to its operands twice"),
    (_dropped, "never adds its gradient to this operand"),
)


def _blame_consumers(
    order: list[Value], k: int, users: list[int], chain: float, measured: str, tolerance: Tolerance
) -> Suspect:
    node = order[k]
    what = (
        f"node #{k} ({node.gate.name} gate output)"
        if node.gate
        else f"leaf #{k}" + (f" {node.label!r}" if node.label else "")
    )
    gate_names = {j: order[j].gate.name for j in users}  # type: ignore[union-attr]
    # The contributions in the order backward adds them: consumers from the root down, operand a then b.
    contributions: list[tuple[int, float]] = []
    for j in sorted(users, reverse=True):
        user = order[j]
        partials = user.gate.partials(*(p.data for p in user.parents), user.data)  # type: ignore[union-attr]
        contributions += [(j, d * user.grad) for d, parent in zip(partials, user.parents) if parent is node]
    used_by = ", ".join(f"{gate_names[j]} (node #{j})" for j in sorted(users))
    head = (
        f"{what} has .grad = {node.grad:.12g} after backward, but the chain rule through the rules of "
        f"the gates that use it, {used_by}, gives d(root)/d(node) = {chain:.12g} ({measured})"
    )
    named = [(gate_names[j], c) for j, c in contributions]
    for would_leave, bug in _BACKWARD_BUGS:
        for name in sorted(set(gate_names.values())):
            grad = would_leave(named, name)
            if abs(grad - node.grad) <= tolerance.allowed(grad, node.grad, 0.0):
                first = next(j for j, _ in contributions if gate_names[j] == name)
                message = (
                    f"{name} gate (node #{first}): {head}. The .grad is exactly what you get if the "
                    f"{name} gate's backward {bug}"
                )
                return Suspect(name, first, "accumulation", message)
    first = max(users)
    message = (
        f"{gate_names[first]} gate (node #{first}): {head}. The gates that use this node passed it a "
        f"wrong total gradient (an accumulation or ordering bug in backward?)"
    )
    return Suspect(gate_names[first], first, "accumulation", message)
