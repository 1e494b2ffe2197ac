"""Precision and range: local derivatives from the operands, accurate forwards, and backward
passes that never hand back a silent NaN or infinity. Each test reproduces a defect seen before
the fix (issue "Every function shows its work", item 3; issue "Nothing hangs...", items 4 and 7)."""

from __future__ import annotations

import copy
import pickle

import pytest

from autograd_gates import (
    GateGradientError,
    Value,
    draw_dot,
    explain,
    gradcheck,
    topological_order,
)

# -- local derivatives from the operands, not from a rounded output ------------------------------


def test_the_square_of_a_tiny_number_keeps_its_gradient():
    v = Value(1e-200)
    (v**2).backward()  # v ** 2 underflows to 0; 2 * v does not
    assert v.grad == 2e-200


def test_the_same_with_a_value_exponent():
    v, k = Value(1e-200), Value(2.0)
    (v**k).backward()
    assert v.grad == 2e-200


def test_tanh_is_accurate_at_both_ends():
    assert Value(1e-113).tanh().data == 1e-113  # 2 sigmoid(2x) - 1 gave 0
    assert Value(1e308).tanh().data == 1.0  # and raised an overflow
    assert Value(-1e308).tanh().data == -1.0
    for x in (1e308, -1e308):
        v = Value(x)
        v.tanh().backward()
        assert v.grad == 0.0


@pytest.mark.parametrize("x", [1000.0, -1000.0])
def test_sigmoid_is_finite_at_a_thousand_with_finite_gradients(x):
    v = Value(x)
    y = v.sigmoid()
    y.backward()
    assert y.data == (1.0 if x > 0 else 0.0) and v.grad == 0.0


@pytest.mark.parametrize("x", [10.6, 10.66, 10.7])
def test_tanh_to_the_power_exp_passes_gradcheck_where_it_used_to_fail(x):
    assert gradcheck(lambda a: a.tanh() ** a.exp(), [x]).ok


# -- backward: a zero upstream contributes zero; a non-finite gradient is an error --------------


def test_nothing_flows_through_the_losing_side_of_a_max():
    a = Value(0.0, "a")
    y = (a**0.5).max(5.0)
    y.backward()
    assert a.grad == 0.0  # was nan: 0 * inf


def test_relu_of_a_square_root_at_zero_gives_zero():
    a = Value(0.0, "a")
    y = (a**0.5 - 1.0).relu()
    y.backward()
    assert a.grad == 0.0  # was nan


def test_an_overflowing_gradient_names_the_gate_and_leaves_the_graph_usable():
    a, b = Value(1.0, "a"), Value(1e-200, "b")
    b.grad = 0.25  # accumulated from an earlier pass: kept as it was
    y = a / b
    with pytest.raises(GateGradientError) as error:
        y.backward()
    message = str(error.value)
    assert (
        "div gate (x = a / b)" in message and "label 'b'" in message and "db = -a / (b * b) * dx" in message
    )
    assert isinstance(error.value, FloatingPointError) and error.value.gate == "div"
    assert (a.grad, b.grad) == (0.0, 0.25)
    z = a * 2.0  # the graph still works
    z.backward()
    assert a.grad == 2.0


def test_a_huge_seed_that_overflows_is_an_error_not_infinity():
    a = Value(3.0, "a")
    with pytest.raises(GateGradientError, match="mul gate"):
        (a * 10.0).backward(1e308)
    assert a.grad == 0.0


def test_an_infinite_local_derivative_with_a_live_upstream_is_an_error():
    a = Value(0.0, "a")
    with pytest.raises(GateGradientError, match=r"pow gate \(x = a \*\* 0.5\)"):
        (a**0.5).backward()
    assert gradcheck(lambda v: v**0.5, [0.0], raise_exception=False).outcome == "inconclusive"


# -- bad numbers are named -------------------------------------------------------------------------


def test_an_int_too_large_for_a_float_names_value():
    with pytest.raises(ValueError, match=r"Value\('w'\) must be finite, got 1000000.*too large for a float"):
        Value(10**400, "w")
    with pytest.raises(TypeError, match=r"Value must be a number .* got str 'x'"):
        Value("x")


# -- a graph can be pickled, whatever its depth ---------------------------------------------------


def test_a_graph_pickles_and_keeps_its_leaves_shared():
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    y = ((a * b + a).sigmoid() - b) ** 2
    y.backward()
    copy_y = pickle.loads(pickle.dumps(y))
    assert copy_y.data == y.data and [n.gate for n in topological_order(copy_y)] == [
        n.gate for n in topological_order(y)
    ]
    leaves = {n.label: n for n in topological_order(copy_y) if n.gate is None and n.label}
    assert leaves["a"].grad == a.grad  # gradients travel too
    copy_y.backward()
    assert leaves["a"].grad == 2 * a.grad  # the copy's leaves are shared inside it, as in the original
    assert copy.deepcopy(y).data == y.data


def test_a_deep_graph_pickles_without_recursion():
    x = Value(0.5, "x")
    y = x
    for _ in range(20_000):
        y = y * 1.0
    assert pickle.loads(pickle.dumps(y)).data == 0.5


def test_a_registered_gate_pickles_by_name(tmp_path):
    from autograd_gates import register_gate, unregister_gate

    register_gate("cube", forward=lambda a: a**3, local="3 * a * a")
    try:
        data = pickle.dumps(Value(2.0).cube() if hasattr(Value, "cube") else _cube(Value(2.0)))
    finally:
        unregister_gate("cube")
    with pytest.raises(LookupError, match="no gate named 'cube'.*registered again"):
        pickle.loads(data)


def _cube(v: Value) -> Value:
    from autograd_gates import apply_gate

    return apply_gate("cube", v)


# -- names: intermediates never read like inputs ---------------------------------------------------


def test_intermediate_names_never_share_a_family_with_an_input():
    x0, x1, w0, w1 = Value(1.0, "x0"), Value(2.0, "x1"), Value(0.5, "w0"), Value(-1.0, "w1")
    d = explain((w0 * x0 + w1 * x1).tanh() * (w0 - w1), inline_sums=False)
    intermediates = [s.name for s in d.forward if s.name != d.output]
    assert intermediates and not any(n.startswith("x") for n in intermediates)
    assert all(n not in {"x0", "x1", "w0", "w1"} for n in intermediates)


# -- the drawing's edges carry the trace's very terms ----------------------------------------------


def _edge_labels(root: Value) -> list[str]:
    source = draw_dot(root, show_rules=True).source
    return sorted(line.split('label="', 1)[1].rsplit('"', 1)[0].replace("\\n", " ")
                  for line in source.splitlines() if " -> g" in line and "label=" in line)  # fmt: skip


def _trace_terms(root: Value) -> list[str]:
    d = explain(root, seed=root.grad)
    return sorted(term.text() for term in d.edge_terms.values())


def test_drawing_and_trace_agree_term_for_term_on_the_slides_example():
    a, b, c, d = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "d")
    x = ((a * b + c) * d) ** 2
    x.backward()
    labels = _edge_labels(x)
    assert "dd = x1 * dx2 = 4 * (-16) = -64" in labels
    assert labels == _trace_terms(x)
    trace_lines = {f"{s.name} = {t.text().split(' = ', 1)[1]}" for s in explain(x).backward for t in s.terms}
    assert {"dd = x1 * dx2 = 4 * (-16) = -64", "da = b * dx1 = (-3) * 32 = -96"} <= trace_lines


# -- the collector policy -----------------------------------------------------------------------------


def test_a_graph_backpropagated_with_the_collector_off_still_raises_the_threshold_later():
    """fit() pauses the collector while it trains; the policy must not then forget to act later."""
    import gc

    from autograd_gates.engine import collector

    collector.restore_collector()
    before = gc.get_threshold()
    try:
        x = Value(0.5)
        y = x
        for _ in range(30_000):
            y = y * 1.0
        gc.disable()
        try:
            y.backward()  # seen while the collector is off: nothing is changed
        finally:
            gc.enable()
        assert gc.get_threshold() == before
        y.backward()  # the same graph, collector on: now the threshold follows it
        nodes = len(topological_order(y))  # 30,000 muls and their constants
        assert gc.get_threshold()[0] == max(before[0], nodes // collector.FRACTION)
    finally:
        collector.restore_collector()
    assert gc.get_threshold() == before
