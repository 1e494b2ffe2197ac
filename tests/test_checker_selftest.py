"""Tests of the checker itself (HIPS autograd's test_tests idea).

A gradient checker that never fails proves nothing. Here every gate's rule is broken on
purpose -- off by 1e-4 relative, sign flipped, and ``=`` instead of ``+=`` in the backward
pass -- and gradcheck must fail *and* name the broken gate. Conversely, no check at a kink
or a tie (relu(0), max(a, a), abs(0), max ties) may report a failure.
"""

from __future__ import annotations

import dataclasses

import pytest
from gate_helpers import apply_gate, gate_id

from autograd_gates import GATES, GradcheckError, Value, gradcheck
from autograd_gates.checks import suspects
from autograd_gates.checks.checking import find_suspect
from autograd_gates.engine.formula import const
from autograd_gates.engine.gates import Gate, gate_examples
from autograd_gates.engine.value import topological_order

# A gate whose rule is 0 everywhere (binary_step, a ** 0) cannot be broken by scaling or flipping
# it: no checker could see that "bug". Every other gate of the table is broken below.
BREAKABLE = [g for g in gate_examples() if any(tree != const(0.0) for tree in g.local_trees)]


def install(request: pytest.FixtureRequest, gate: Gate, partials) -> None:
    """Break ``gate``'s rule in the table itself for the length of the test: every operator,
    method and circuit that uses the gate now runs ``partials``."""
    right = gate.partials
    object.__setattr__(gate, "partials", partials)
    request.addfinalizer(lambda: object.__setattr__(gate, "partials", right))


def in_circuit(gate: Gate):
    """f(a, b): the gate inside a small circuit."""
    return lambda a, b: (apply_gate(gate, *(a, b)[: gate.arity]) * 0.8).tanh() * 2.0 + a


def scaled(gate: Gate, factor: float):
    rule = gate.partials
    return lambda *args: tuple(factor * d for d in rule(*args))


POINT = [0.7, 1.3]  # inside every gate's domain, on an active piece of max and relu


@pytest.mark.parametrize(
    ("bug", "factor"), [("off by 1e-4 relative", 1.0 + 1e-4), ("sign flipped", -1.0)], ids=["off", "sign"]
)
@pytest.mark.parametrize("gate", BREAKABLE, ids=gate_id)
def test_a_broken_rule_is_caught_and_named(request, gate, bug, factor):
    f = in_circuit(gate)
    assert gradcheck(f, POINT).ok  # the intact engine passes

    install(request, gate, scaled(gate, factor))
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, POINT)
    report = caught.value.report
    assert report.suspect is not None, str(report)
    assert report.suspect.gate == gate.name
    assert report.suspect.kind == "local rule"
    assert f"suspect gate: {gate.name} gate (node #{report.suspect.node}" in str(report)


def test_a_broken_rule_at_a_permanent_tie_is_named(request):
    # In max(a, a) each operand alone sits on the tie, a kink: only the sum da + db, along the
    # direction (1, 1) where the tie stays a tie, can be judged -- and the flipped sign shows there.
    f = lambda a: a.max(a) * 3.0  # noqa: E731
    assert gradcheck(f, [0.7]).ok
    install(request, GATES["max"], scaled(GATES["max"], -1.0))
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, [0.7])
    suspect = caught.value.report.suspect
    assert suspect is not None, str(caught.value.report)
    assert (suspect.gate, suspect.kind) == ("max", "local rule")
    assert "da + db = -1 * dx" in suspect.message


def test_a_sign_flip_that_cancels_in_f_is_caught_by_the_rule_scan_only(request):
    # Every mul of the circuit flips its sign; each path crosses two muls, so the flips cancel,
    # every input agrees and only the scan of the local rules (check_rules) sees the bug.
    f = lambda a, b: (a * b * 0.8).tanh() + a  # noqa: E731
    install(request, GATES["mul"], scaled(GATES["mul"], -1.0))
    report = gradcheck(f, POINT, raise_exception=False)
    assert report.outcome == "fail" and all(r.verdict == "pass" for r in report.rows)
    assert str(report).startswith("gradcheck FAIL: all 2 input(s) agree, but a gate's local rule is wrong")
    assert str(report.suspect) == report.suspect.message and "a sign error" in report.suspect.message
    assert gradcheck(f, POINT, check_rules=False).ok  # without the scan the bug goes unseen


def mishandling_backward(gate_name: str, add=lambda grad, contribution: contribution):
    """Value.backward where one gate updates its operands' .grad with ``add`` instead of ``+=``;
    by default it assigns (``=``)."""

    def backward(self: Value, seed: float = 1.0) -> None:
        order = topological_order(self, reset_intermediates=True)
        self.grad += seed
        for node in reversed(order):
            if node.gate is None:
                continue
            partials = node.gate.partials(*(p.data for p in node.parents), node.data)
            for parent, d in zip(node.parents, partials):
                if node.gate.name == gate_name:
                    parent.grad = add(parent.grad, d * node.grad)  # the bug
                else:
                    parent.grad += d * node.grad

    return backward


def reused(gate: Gate):
    """f(a) where a feeds the gate and another use that backward reaches first."""
    if gate.arity == 2:
        return lambda a: apply_gate(gate, a, a)  # both operands are a
    return lambda a: a * apply_gate(gate, a)  # mul adds into a.grad, then the gate overwrites it


@pytest.mark.parametrize("gate", BREAKABLE, ids=gate_id)
def test_assignment_instead_of_accumulation_is_caught_and_named(monkeypatch, gate):
    f = reused(gate)
    assert gradcheck(f, [0.7]).ok

    monkeypatch.setattr(Value, "backward", mishandling_backward(gate.name))
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, [0.7])
    report = caught.value.report
    assert report.suspect is not None, str(report)
    assert report.suspect.gate == gate.name
    assert report.suspect.kind == "accumulation"
    assert "assigns (=) its gradient" in report.suspect.message


def test_accumulation_bug_deep_in_a_shared_subexpression(monkeypatch):
    # s = a * b feeds a mul, an exp and an add; only the mul gate assigns, and backward
    # reaches that mul last (it sits in the first operand of the root).
    def f(a, b):
        s = a * b
        return (s * 3.0).tanh() + s.exp() / (s + 2.0)

    assert gradcheck(f, [0.4, -0.9]).ok
    monkeypatch.setattr(Value, "backward", mishandling_backward("mul"))
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, [0.4, -0.9])
    suspect = caught.value.report.suspect
    assert suspect is not None and (suspect.gate, suspect.kind) == ("mul", "accumulation")

    # Not just any mul (a * b is one too): the s * 3.0 that overwrote s's gradient, found at s.
    order = topological_order(f(Value(0.4, "a"), Value(-0.9, "b")))
    s = next(k for k, n in enumerate(order) if [p.label for p in n.parents] == ["a", "b"])
    (times_3,) = (k for k, n in enumerate(order) if n.parents[:1] == (order[s],) and n.gate.name == "mul")
    assert suspect.node == times_3
    assert f"node #{s} (mul gate output) has .grad" in suspect.message


def test_the_accumulation_scan_replays_only_nodes_whose_gradient_is_off(monkeypatch):
    # A replay costs a pass over the circuit; replaying every node made a 7,500-node report take
    # minutes. Nodes whose .grad is the chain rule through their checked rules are not replayed.
    replays = []
    real = suspects.estimate_derivative

    def counting(evaluate, x, base, *, what="x", **options):
        if what.startswith("node #"):
            replays.append(what)
        return real(evaluate, x, base, what=what, **options)

    monkeypatch.setattr(suspects, "estimate_derivative", counting)

    def detached(a, b):  # wrong outside the circuit: every node's gradient is right
        chain = a
        for _ in range(30):
            chain = (chain * b).tanh() + a
        return chain * Value(a.data)

    assert gradcheck(detached, [0.3, 0.8], raise_exception=False).outcome == "fail"
    assert replays == []

    monkeypatch.setattr(Value, "backward", mishandling_backward("mul"))
    report = gradcheck(lambda a, b: (a * a).exp() * b, [0.3, 0.8], raise_exception=False)
    assert report.suspect is not None and report.suspect.kind == "accumulation"
    assert len(replays) == 1  # the first node that is off, confirmed and blamed


def test_an_accumulation_bug_at_a_tie_is_named_though_no_input_can_be_judged(monkeypatch):
    # a * a meets b at a tie of the max: every input is inconclusive, and so is perturbing a.
    # Backward's .grad of a still differs from the chain rule through the (checked) rules.
    monkeypatch.setattr(Value, "backward", mishandling_backward("mul"))
    report = gradcheck(lambda a, b: (a * a).max(b), [0.5, 0.25], raise_exception=False)
    assert [r.verdict for r in report.rows] == ["inconclusive", "inconclusive"]
    assert report.outcome == "fail"
    suspect = report.suspect
    assert suspect is not None and (suspect.gate, suspect.kind) == ("mul", "accumulation")
    assert "d(root)/d(node) = 0.5 (perturbing it and replaying the circuit cannot confirm it: kink)" in (
        suspect.message
    )


MISHANDLINGS = [
    ("adds twice", lambda grad, c: grad + 2.0 * c, "exp gate (node #1)", "operands twice"),
    ("drops", lambda grad, c: grad, "exp gate (node #1)", "never adds its gradient to this operand"),
    # No bug the checker knows: it names the node's gradient as wrong and the consumer nearest the root.
    ("adds thrice", lambda grad, c: grad + 3.0 * c, "mul gate (node #2)", "passed it a wrong total gradient"),
]


@pytest.mark.parametrize(("bug", "add", "named", "says"), MISHANDLINGS, ids=[m[0] for m in MISHANDLINGS])
def test_a_backward_that_mishandles_one_gate_is_caught(monkeypatch, bug, add, named, says):
    def f(a):
        return a * a.exp()  # a feeds the exp (node #1) and the mul (node #2)

    monkeypatch.setattr(Value, "backward", mishandling_backward("exp", add))
    with pytest.raises(GradcheckError) as caught:
        gradcheck(f, [0.7])
    suspect = caught.value.report.suspect
    assert suspect is not None and suspect.kind == "accumulation", str(caught.value.report)
    assert suspect.message.startswith(f"{named}: leaf #0 'a' has .grad = ")
    assert says in suspect.message


def test_a_rule_that_raises_is_named(request):
    gate = GATES["log"]

    def exploding(*args):
        raise RuntimeError("rule broken")

    right = gate.partials
    broken = dataclasses.replace(gate, partials=exploding)
    install(request, gate, exploding)
    assert gradcheck(lambda a: a * 2.0, [0.5]).ok  # no log in the circuit: unaffected
    with pytest.raises(RuntimeError, match="rule broken"):
        gradcheck(lambda a: a.log(), [0.5])  # backward itself runs the rule and raises

    # The suspect search, run on a circuit whose backward already happened, names the gate.
    object.__setattr__(gate, "partials", right)
    root = (Value(0.5).log() * 3.0).exp()
    root.backward()
    root.parents[0].parents[0].gate = broken
    suspect, _ = find_suspect(root)
    assert suspect is not None and suspect.gate == "log"
    assert "its rule raised RuntimeError('rule broken')" in suspect.message


# -- kinks: never a false failure ---------------------------------------------------------------

KINKS = [
    ("relu(0)", lambda a: a.relu(), [0.0]),
    ("abs(0)", lambda a: a.abs(), [0.0]),
    ("max(a, a)", lambda a: a.max(a), [0.3]),
    ("max tie", lambda a, b: a.max(b), [1.0, 1.0]),
    ("min tie", lambda a, b: a.min(b), [-2.0, -2.0]),
    ("max(a, 2 - a) at 1", lambda a: a.max(2.0 - a), [1.0]),
    ("relu(a) - relu(-a) at 0", lambda a: a.relu() - (-a).relu(), [0.0]),
    ("relu(a) + relu(a) at 0", lambda a: a.relu() + a.relu(), [0.0]),
    ("relu(a * a - 1) at 1", lambda a: (a * a - 1.0).relu(), [1.0]),
    ("abs(a - b) at a == b", lambda a, b: (a - b).abs() * a, [0.5, 0.5]),
    ("relu(0) times exp", lambda a, b: a.relu() * b.exp(), [0.0, 0.3]),
    ("a ** 0 at 0", lambda a: a**0, [0.0]),
    ("sqrt at 0", lambda a: a**0.5, [0.0]),
    ("sigmoid(0)", lambda a: a.sigmoid(), [0.0]),
    ("tanh(0)", lambda a: a.tanh(), [0.0]),
    ("relu(1e-9)", lambda a: a.relu(), [1e-9]),
    ("max near a tie", lambda a, b: a.max(b), [1.0, 1.0 + 1e-12]),
]


@pytest.mark.parametrize(("name", "f", "xs"), KINKS, ids=[k[0] for k in KINKS])
def test_no_false_failure_at_a_kink(name, f, xs):
    report = gradcheck(f, xs, raise_exception=False)
    assert report.outcome in ("pass", "inconclusive"), str(report)


def test_relu_at_zero_is_inconclusive_not_pass_or_fail():
    report = gradcheck(lambda a: a.relu(), [0.0], raise_exception=False)
    assert report.outcome == "inconclusive"
    assert "relu gate" in report.rows[0].note


def test_smooth_functions_built_from_max_pass_at_zero():
    for f, slope in ((lambda a: a.sigmoid(), 0.25), (lambda a: a.tanh(), 1.0), (lambda a: a.max(a), 1.0)):
        report = gradcheck(f, [0.0])
        assert report.rows[0].analytic == pytest.approx(slope, rel=1e-15)
