"""``gradcheck``: compare backward's gradient with a numerical one, and say who is wrong.

For every input ``x_i`` the analytic derivative ``a`` (from ``backward()``) is compared with
the numerical estimate ``n ± error`` of ``numerical_grad``. The pass rule is::

    |a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error

with ``atol = 1e-8``, ``rtol = 1e-6``, ``err_factor = 1`` by default. Each input gets one of
three verdicts:

* ``pass``;
* ``fail`` -- the rule does not hold;
* ``inconclusive`` -- the numerical derivative cannot be trusted: a kink or tie inside the
  stencil (relu at 0, a max tie) whose one-sided slopes differ, a domain edge (a gate
  refuses a stencil point), a graph that changes shape, or an estimate too noisy to judge
  (``error > noise_rtol * |n| + atol``).

The report's outcome is ``fail`` if any input fails, else ``inconclusive`` if any input is,
else ``pass`` -- and ``fail`` whenever the search below finds a wrong gate in the circuit,
even if its errors cancel in ``f`` or no input could be judged. The **suspect gate**:

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

import inspect
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..engine.circuit import ExprFunction, index_names
from ..engine.errors import GateGradientError
from ..engine.formula import Expr
from ..engine.value import Value, topological_order
from .numerical import (
    DOMAIN_EDGE,
    GRAPH_CHANGES,
    KINK,
    NOISY,
    REL_STEP,
    GradEstimate,
    Probe,
    as_inputs,
    estimate_derivative,
    input_labels,
    point_function,
    probe_of,
    relative_step,
    require_nonnegative,
)

__all__ = [
    "gradcheck",
    "GradcheckReport",
    "GradcheckError",
    "GradcheckInconclusive",
    "InputCheck",
    "Suspect",
    "find_suspect",
    "check_local_rules",
]

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"


@dataclass(frozen=True)
class Tolerance:
    """The pass rule ``|a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error``."""

    atol: float = 1e-8
    rtol: float = 1e-6
    err_factor: float = 1.0
    noise_rtol: float = 1e-3

    def allowed(self, a: float, n: float, error: float) -> float:
        return self.atol + self.rtol * max(abs(a), abs(n)) + self.err_factor * error

    def judge(self, a: float, estimate: GradEstimate) -> tuple[str, float]:
        """The verdict for analytic ``a`` against ``estimate``, and the allowed error."""
        if estimate.issue in (KINK, DOMAIN_EDGE, GRAPH_CHANGES) or not math.isfinite(a):
            return INCONCLUSIVE, math.nan
        n, error = estimate.value, estimate.error
        allowed = self.allowed(a, n, error)
        if error > self.noise_rtol * abs(n) + self.atol:  # |n|, not max(|a|, |n|): a wild a proves nothing
            return INCONCLUSIVE, allowed
        if abs(a - n) <= allowed:
            return PASS, allowed
        # At a gate's kink the engine follows a convention (relu'(0) = 0, ties split), which
        # can differ from the slope of a function that is smooth there: confirm, never condemn.
        return (INCONCLUSIVE if estimate.join else FAIL), allowed

    def __str__(self) -> str:
        return (
            f"pass if |a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error, "
            f"atol = {self.atol:g}, rtol = {self.rtol:g}, err_factor = {self.err_factor:g}"
        )


@dataclass(frozen=True)
class InputCheck:
    """One row of the report: one input, its analytic and numerical derivative, the verdict."""

    label: str
    x: float
    analytic: float
    numeric: GradEstimate
    allowed: float
    verdict: str
    note: str = ""  # the hint (fail) or the reason (inconclusive)

    @property
    def difference(self) -> float:
        return abs(self.analytic - self.numeric.value)


@dataclass(frozen=True)
class Suspect:
    """The gate the checker blames, where it sits and why."""

    gate: str  # the gate's name, e.g. "mul"
    node: int  # its index in topological_order(root)
    kind: str  # "local rule" or "accumulation"
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class GradcheckReport:
    """What ``gradcheck`` found. ``str(report)`` is a table a person can act on."""

    outcome: str
    rows: tuple[InputCheck, ...]
    function: str
    value: float
    tolerance: Tolerance
    reproduce: str
    suspect: Suspect | None = None
    diagnosis: str = ""  # what the suspect search concluded when it found no gate to blame

    @property
    def ok(self) -> bool:
        """True only for ``outcome == "pass"``."""
        return self.outcome == PASS

    @property
    def inputs(self) -> tuple[float, ...]:
        return tuple(r.x for r in self.rows)

    @property
    def analytic(self) -> list[float]:
        return [r.analytic for r in self.rows]

    @property
    def numeric(self) -> list[float]:
        return [r.numeric.value for r in self.rows]

    def __str__(self) -> str:
        return _format_report(self)


class GradcheckError(AssertionError):
    """Backward's gradient disagrees with the numerical one. ``.report`` has the details."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


class GradcheckInconclusive(Exception):
    """The numerical derivative cannot be trusted at this point (kink, domain edge, noise)."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


def gradcheck(
    f: Callable[..., Value] | Expr,
    inputs: Sequence[float] | float,
    *,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    err_factor: float = 1.0,
    noise_rtol: float = 1e-3,
    rel_step: float = REL_STEP,
    labels: Sequence[str] = (),
    raise_exception: bool = True,
    find_suspects: bool = True,
    check_rules: bool = True,
) -> GradcheckReport:
    """Check ``backward()``'s gradient of ``f`` at ``inputs`` against a numerical one.

    ``f`` takes one ``Value`` per input (positional) and returns a ``Value``, or is an ``Expr``
    (a parsed or generated expression, whose variables take the inputs in order: ``x0, x1, ...``
    for indexed names, else their order of first use); ``inputs`` are numbers (or Values, whose
    data and labels are used). Per input the rule is
    ``|a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error`` (see the module doc).

    Returns a ``GradcheckReport``. With ``raise_exception=True`` (the default) a failure
    raises ``GradcheckError`` (an ``AssertionError``) and an inconclusive check raises
    ``GradcheckInconclusive``; both carry ``.report``. With ``raise_exception=False`` the
    report is returned whatever the outcome.

    When the outcome is not ``pass`` the report names a suspect gate (``find_suspects``).
    With ``check_rules`` (the default) every gate's local rule in the circuit is checked even
    when all inputs agree, and a wrong rule makes the outcome ``fail``: errors of a wrong rule
    can cancel in ``f``, and the next ``f`` will not be so lucky::

        >>> from autograd_gates import gradcheck
        >>> gradcheck(lambda a, b: a * b + a.exp(), [2.0, -1.0]).outcome
        'pass'
    """
    require_nonnegative(atol=atol, rtol=rtol, err_factor=err_factor, noise_rtol=noise_rtol)
    relative_step(1.0, rel_step)  # a bad rel_step is refused before f runs
    tolerance = Tolerance(float(atol), float(rtol), float(err_factor), float(noise_rtol))
    xs, given = as_inputs(inputs)
    if isinstance(f, Expr):
        f = _expression_function(f, len(xs))
    if isinstance(labels, str) or labels and len(labels) != len(xs):
        raise ValueError(f"labels must give one name per input ({len(xs)}), got {labels!r}")
    names = input_labels(f, len(xs), list(labels) or given)

    leaves = [Value(x, label) for x, label in zip(xs, names)]
    root = f(*leaves)
    if not isinstance(root, Value):
        raise TypeError(
            f"f must return a Value built from the Values it receives, got {type(root).__name__} {root!r}"
        )
    try:
        root.backward()
        refused = None
    except GateGradientError as exc:  # a local derivative is infinite here (sqrt at 0): nothing to compare
        refused = exc
        for leaf in leaves:
            leaf.grad = math.nan
    base = probe_of(root)
    circuit = set(topological_order(root))

    rows = []
    for i, (x, leaf) in enumerate(zip(xs, leaves)):
        estimate = estimate_derivative(
            point_function(f, xs, names, i),
            x,
            base,
            what=names[i],
            rel_step=rel_step,
            noise_rtol=noise_rtol,
            noise_atol=atol,
        )
        verdict, allowed = tolerance.judge(leaf.grad, estimate)
        if leaf not in circuit and estimate.value == 0 and verdict == INCONCLUSIVE:
            # An input f never uses: no gradient can reach it, and f(x + h) == f(x - h) to the bit,
            # whatever the rounding bound on a large f says.
            verdict, note = PASS, "f does not use this input (its leaf is not in the circuit)"
        elif verdict == FAIL:
            note = hint(leaf.grad, estimate.value, allowed)
        elif verdict == INCONCLUSIVE and refused is not None:
            note = f"backward refused, so there is no number to compare: {refused}"
        elif verdict == INCONCLUSIVE and estimate.join and not estimate.issue:
            note = (
                f"kink convention: {estimate.join}; f is smooth there but backward follows the gate's "
                f"convention at its kink (relu'(0) = 0, a tie splits in half), so a mismatch is no proof"
            )
        elif verdict == INCONCLUSIVE:
            note = f"{estimate.issue or NOISY}: " + (
                estimate.detail
                or f"the estimate is uncertain by {estimate.error:.1e}, too much to judge {leaf.grad:.6g}"
            )
        else:
            note = ""
        rows.append(InputCheck(names[i], x, leaf.grad, estimate, allowed, verdict, note))

    verdicts = {r.verdict for r in rows}
    outcome = FAIL if FAIL in verdicts else INCONCLUSIVE if INCONCLUSIVE in verdicts else PASS
    suspect, diagnosis = None, ""
    if refused is not None:
        diagnosis = str(refused)
    elif outcome != PASS and find_suspects:
        suspect, diagnosis = find_suspect(root, tolerance, rel_step=rel_step)
    elif check_rules:
        # Wrong rules can cancel out in f (a sign flip on every mul of a path with two muls):
        # the gradient agrees, the circuit is still broken.
        suspect, _ = check_local_rules(root, tolerance, rel_step=rel_step)
    if suspect is not None:
        outcome = FAIL  # a definite mismatch inside the circuit, even if no input could be judged
    report = GradcheckReport(
        outcome=outcome,
        rows=tuple(rows),
        function=_describe(f),
        value=root.data,
        tolerance=tolerance,
        reproduce=_reproduce(f, xs, tolerance, rel_step),
        suspect=suspect,
        diagnosis=diagnosis,
    )
    if raise_exception and outcome == FAIL:
        raise GradcheckError(report)
    if raise_exception and outcome == INCONCLUSIVE:
        raise GradcheckInconclusive(report)
    return report


# -- hints ------------------------------------------------------------------------------------


def hint(a: float, n: float, allowed: float) -> str:
    """A guess at the kind of bug behind analytic ``a`` against numeric ``n``."""
    if a == 0 and abs(n) > allowed:
        return (
            "analytic is 0: no gradient reaches this input (is part of f computed from .data or "
            "Python floats, or was an accumulated gradient overwritten?)"
        )
    if abs(n) <= allowed:
        return "numeric is 0 but analytic is not: the output does not depend on this input near x"
    if abs(a + n) <= allowed:
        return "analytic = -numeric: a sign error in a backward rule"
    ratio = a / n
    if abs(ratio - 2) <= 1e-3:
        return "analytic = 2 * numeric: a gradient counted twice"
    if abs(ratio - 0.5) <= 1e-3:
        return "analytic = numeric / 2: a use of the input was missed (= instead of +=?)"
    if abs(ratio - 1) <= 1e-2:
        return (
            f"analytic = numeric * {ratio:.8g}: off by {ratio - 1:+.1e} relative, a slightly wrong constant?"
        )
    return f"analytic / numeric = {ratio:.6g}"


# -- the suspect gate -------------------------------------------------------------------------


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


# -- describing f and reproducing the check ---------------------------------------------------


def _expression_function(expr: Expr, n: int) -> ExprFunction:
    """The tree as a function of ``n`` inputs: ``x0 .. x{n-1}`` if it is written in those."""
    names = index_names(expr)
    if len(names) != n and all(re.fullmatch(r"x\d+", v) for v in names):
        names = tuple(f"x{i}" for i in range(n))
    return ExprFunction(expr, names)


def _describe(f: Callable[..., object]) -> str:
    description = getattr(f, "description", None)
    if isinstance(description, str):
        return description
    name = getattr(f, "__qualname__", None) or type(f).__name__
    try:
        source = inspect.getsourcefile(f)  # type: ignore[arg-type]
        where = f"{source}:{inspect.getsourcelines(f)[1]}" if source and not source.startswith("<") else ""
    except (TypeError, OSError):
        where = ""
    return f"{name} ({where})" if where else name


def _reproduce(f: Callable[..., object], xs: list[float], tolerance: Tolerance, rel_step: float) -> str:
    options = ""
    defaults = Tolerance()
    for name in ("atol", "rtol", "err_factor", "noise_rtol"):
        if getattr(tolerance, name) != getattr(defaults, name):
            options += f", {name}={getattr(tolerance, name)!r}"
    if rel_step != REL_STEP:
        options += f", rel_step={rel_step!r}"
    call = f"gradcheck(f, [{', '.join(repr(x) for x in xs)}]{options})"
    setup = getattr(f, "setup", None)
    if isinstance(setup, str):
        return f"from autograd_gates import gradcheck; {setup}; {call}"
    name = getattr(f, "__name__", "f")
    if name.isidentifier() and name != "f":
        call = call.replace("gradcheck(f,", f"gradcheck({name},", 1)
    return call


# -- the table --------------------------------------------------------------------------------

_TITLES = {PASS: "PASS", FAIL: "FAIL", INCONCLUSIVE: "INCONCLUSIVE"}


def _wrap(head: str, text: str, width: int = 110) -> str:
    return textwrap.fill(
        text, width, initial_indent="  " + head, subsequent_indent="      ", break_on_hyphens=False
    )


def _format_report(report: GradcheckReport) -> str:
    rows = report.rows
    n_fail = sum(r.verdict == FAIL for r in rows)
    n_unsure = sum(r.verdict == INCONCLUSIVE for r in rows)
    if report.outcome == PASS:
        summary = f"all {len(rows)} input(s) agree"
    elif report.outcome == FAIL and n_fail == 0 and n_unsure == 0:
        summary = f"all {len(rows)} input(s) agree, but a gate's local rule is wrong (its errors cancel in f)"
    elif report.outcome == FAIL and n_fail == 0:
        summary = f"{n_unsure} of {len(rows)} input(s) could not be judged, but a gate is wrong (see suspect)"
    elif report.outcome == FAIL:
        summary = f"{n_fail} of {len(rows)} input(s) disagree"
    else:
        summary = f"{n_unsure} of {len(rows)} input(s) could not be judged"
    lines = [
        f"gradcheck {_TITLES[report.outcome]}: {summary}",
        f"  f = {report.function};  f(x) = {report.value!r}",
    ]
    table = [("input", "value", "analytic", "numeric ± error", "|a - n|", "allowed", "verdict")]
    for r in rows:
        est = r.numeric
        numeric = "n/a" if math.isnan(est.value) else f"{est.value:.12g} ± {est.error:.1e}"
        table.append(
            (
                r.label,
                f"{r.x!r}",
                f"{r.analytic:.12g}",
                numeric,
                "n/a" if math.isnan(est.value) else f"{r.difference:.1e}",
                "n/a" if math.isnan(r.allowed) else f"{r.allowed:.1e}",
                r.verdict.upper() if r.verdict != PASS else r.verdict,
            )
        )
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    for row in table:
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for r in rows:
        if r.verdict != PASS and r.note:
            label = "hint" if r.verdict == FAIL else "why"
            lines.append(_wrap(f"{label} ({r.label}): ", r.note))
    if report.suspect is not None:
        lines.append(_wrap("suspect gate: ", report.suspect.message))
    elif report.diagnosis and report.outcome == FAIL:
        lines.append(_wrap("suspect gate: ", f"none found -- {report.diagnosis}"))
    lines.append(f"  rule: {report.tolerance}")
    lines.append(
        "        n: central differences + Richardson, h = eps^(1/3) * max(1, |x|) as a power of two; "
        "error = |D(h) - D(2h)| + rounding"
    )
    lines.append(f"  reproduce: {report.reproduce}")
    return "\n".join(lines)
