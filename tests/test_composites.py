"""Composite gates: one node with its own rule, proved against backprop through its composition.

For every composite of the table (sub, neg, min, abs, sqrt, sigmoid, tanh, softplus, leaky_relu,
elu, and any registered later) the rule the gate states must equal what backward gives through
the gates its composition is built from -- at random points and at the edges a float reaches
(+-1000, +-1e-300, 0). The composite's own forward must agree with its composition too.
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_gates import GATES, GateError, Value, build, expand, explain, topological_order

COMPOSITES = [gate for gate in GATES.values() if gate.is_composite]
EDGES = (1000.0, -1000.0, 1e-300, -1e-300, 0.0, 1.0, -1.0)


def _both(gate, point):
    """(value, gradients) of the gate itself and of its composition, at ``point``; None if refused."""
    results = []
    for make in (_one_gate, _composition):
        leaves = [Value(v, n) for v, n in zip(point, gate.operands)]
        try:
            root = make(gate, leaves)
            root.backward()
        except GateError:
            return None
        results.append((root.data, [leaf.grad for leaf in leaves]))
    return results


def _one_gate(gate, leaves):
    node = build(gate.expr_tree, dict(zip(gate.operands, leaves)))
    assert node.gate is gate and len(topological_order(node)) == gate.arity + 1
    return node


def _composition(gate, leaves):
    return build(gate.composition_tree, dict(zip(gate.operands, leaves)))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def test_the_table_has_the_composites_students_use():
    names = {g.name for g in COMPOSITES}
    assert {"sub", "neg", "min", "abs", "sqrt", "sigmoid", "tanh", "softplus", "leaky_relu", "elu"} <= names


@pytest.mark.parametrize("gate", COMPOSITES, ids=lambda g: g.name)
def test_the_rule_equals_backprop_through_the_composition_at_the_edges(gate):
    checked = 0
    for point in itertools.product(EDGES, repeat=gate.arity):
        if gate.at_kink(*point):
            continue  # where pieces meet, each side keeps its own documented convention
        found = _both(gate, point)
        if found is None:
            continue  # outside the domain (sqrt of a negative): both refuse
        (x, rule), (y, composed) = found
        assert _close(x, y), (gate.name, point, x, y)
        for r, c in zip(rule, composed):
            assert _close(r, c), (gate.name, point, rule, composed)
        checked += 1
    assert checked >= 2 * gate.arity


@pytest.mark.parametrize("gate", COMPOSITES, ids=lambda g: g.name)
def test_the_kink_conventions_agree_too(gate):
    # At a kink (abs at 0, a tie of min, leaky_relu at 0) the rule and the composition agree on
    # the convention: the composition is built from gates with the same conventions.
    for point in itertools.product((0.0, 1.0, -1.0), repeat=gate.arity):
        if not gate.at_kink(*point):
            continue
        found = _both(gate, point)
        if found is None:
            continue
        (_, rule), (_, composed) = found
        assert all(_close(r, c) for r, c in zip(rule, composed)), (gate.name, point, rule, composed)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_rule_equals_backprop_through_the_composition_at_random_points(data):
    gate = data.draw(st.sampled_from(COMPOSITES), label="gate")
    point = data.draw(st.tuples(*[st.floats(-50, 50, allow_nan=False)] * gate.arity), label="point")
    found = _both(gate, point)
    if found is None or gate.at_kink(*point):
        return
    (x, rule), (y, composed) = found
    assert _close(x, y)
    assert all(_close(r, c) for r, c in zip(rule, composed)), (rule, composed)


def test_a_composite_is_one_node_one_line_and_expands_into_its_composition():
    s = Value(0.5, "s")
    d = explain(s.sigmoid())
    assert [step.rule for step in d.forward] == ["x = sigmoid(s)"]
    assert [step.rule for step in d.backward] == ["ds = x * (1 - x) * dx"]
    opened = explain(s.sigmoid(), expand=True)
    gates = {g.name for step in opened.forward for g in step.gates}
    assert {"exp", "div", "add"} <= gates and "sigmoid" not in gates
    assert opened.gradients == pytest.approx(d.gradients, rel=1e-12)


def test_the_slides_sigmoid_neuron_derives_in_at_most_five_forward_lines():
    w0, x0, w1, x1, w2 = (Value(v, n) for v, n in zip((2, -1, -3, -2, -3), ("w0", "x0", "w1", "x1", "w2")))
    d = explain((w0 * x0 + w1 * x1 + w2).sigmoid())
    assert len(d.forward) <= 5
    assert d.gradients == pytest.approx(
        {"w0": -0.196612, "x0": 0.393224, "w1": -0.393224, "x1": -0.589836, "w2": 0.196612}, abs=1e-6
    )


def test_expand_keeps_the_values_and_does_not_touch_the_circuit():
    a, b = Value(0.7, "a"), Value(-1.2, "b")
    root = (a - b).tanh() * a.softplus()
    opened = expand(root)
    assert opened.data == pytest.approx(root.data, rel=1e-12)
    names = {n.gate.name for n in topological_order(opened) if n.gate is not None}
    assert not {"tanh", "softplus"} & names and {"sigmoid", "exp", "log"} <= names  # one level opened
    assert root.gate.name == "mul" and a.grad == 0.0
