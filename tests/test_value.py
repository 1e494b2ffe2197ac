"""Value and the backward pass: the slides' worked examples, exactly, and the conventions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_gates import GATES, Value, maximum, minimum, topological_order


def values(**named: float) -> list[Value]:
    return [Value(v, label=k) for k, v in named.items()]


# -- the slides' last chapter, example by example ------------------------------------------


def test_mul_da_is_b_db_is_a():
    a, b = values(a=2.0, b=-3.0)
    x = a * b
    x.backward()
    assert (x.data, a.grad, b.grad) == (-6.0, -3.0, 2.0)


def test_add_passes_dx_through():
    a, b = values(a=2.0, b=-3.0)
    (a + b).backward()
    assert (a.grad, b.grad) == (1.0, 1.0)


def test_add_of_three():
    a, b, c = values(a=1.0, b=2.0, c=3.0)
    (a + b + c).backward()
    assert (a.grad, b.grad, c.grad) == (1.0, 1.0, 1.0)


def test_mul_then_add():
    a, b, c = values(a=2.0, b=-3.0, c=10.0)
    x = a * b + c
    x.backward()
    assert (x.data, a.grad, b.grad, c.grad) == (4.0, -3.0, 2.0, 1.0)


def test_a_times_a_accumulates_both_operands():
    (a,) = values(a=3.0)
    x = a * a
    assert x.parents == (a, a)
    x.backward()
    assert a.grad == 6.0  # da = 2a * dx


def test_sum_of_squares():
    a, b, c = values(a=1.5, b=-2.0, c=4.0)
    (a * a + b * b + c * c).backward()
    assert (a.grad, b.grad, c.grad) == (3.0, -4.0, 8.0)


def test_x_plus_y_times_z():
    x, y, z = values(x=-2.0, y=5.0, z=-4.0)
    f = (x + y) * z
    f.backward()
    assert (f.data, x.grad, y.grad, z.grad) == (-12.0, -4.0, -4.0, 3.0)


def test_the_slides_big_example():
    a, b, c, d = values(a=2.0, b=-3.0, c=10.0, d=-2.0)
    x1 = a * b + c
    x2 = x1 * d
    x = x2**2
    x.backward()
    assert (x1.data, x2.data, x.data) == (4.0, -8.0, 64.0)
    assert x2.grad == 2 * x2.data  # dx2 = 2*x2 * dx
    assert x1.grad == d.data * x2.grad  # dx1 = d * dx2
    assert d.grad == x1.data * x2.grad  # dd = x1 * dx2
    assert (a.grad, b.grad, c.grad, d.grad) == (-96.0, 64.0, 32.0, -64.0)


def test_x2_times_x2_is_the_same_as_squaring():
    a, b, c, d = values(a=2.0, b=-3.0, c=10.0, d=-2.0)
    x2 = (a * b + c) * d
    (x2 * x2).backward()
    assert (a.grad, b.grad, c.grad, d.grad) == (-96.0, 64.0, 32.0, -64.0)


def test_one_over_a():
    (a,) = values(a=4.0)
    x = 1 / a
    x.backward()
    assert (x.data, a.grad) == (0.25, -1 / 16)  # da = -1/(a*a) * dx


def test_quotient_of_sums():
    a, b, c, d = values(a=1.0, b=3.0, c=2.0, d=6.0)
    x = (a + b) / (c + d)
    x.backward()
    assert x.data == 0.5
    assert (a.grad, b.grad) == (1 / 8, 1 / 8)
    assert (c.grad, d.grad) == (-4 / 64, -4 / 64)


def test_quotient_the_slides_way_with_a_reciprocal():
    a, b, c, d = values(a=1.0, b=3.0, c=2.0, d=6.0)
    x1, x2 = a + b, c + d
    x3 = 1 / x2
    x = x1 * x3
    x.backward()
    assert x1.grad == x3.data  # dx1 = x3 * dx
    assert x3.grad == x1.data  # dx3 = x1 * dx
    assert x2.grad == -1 / (x2.data * x2.data) * x3.grad
    assert (a.grad, c.grad) == (1 / 8, -1 / 16)


def test_max_sends_dx_to_the_winner():
    a, b = values(a=3.0, b=-1.0)
    x = a.max(b)
    x.backward()
    assert (x.data, a.grad, b.grad) == (3.0, 1.0, 0.0)


def test_relu_follows_the_slides():
    for a_value, expected in ((2.5, 1.0), (-1.0, 0.0), (0.0, 0.0)):
        (a,) = values(a=a_value)
        x = a.relu()
        x.backward()
        assert x.data == max(0.0, a_value)
        assert a.grad == expected  # da = a > 0 ? dx : 0, so relu'(0) = 0


def test_sigmoid_neuron():
    w0, w1, w2, x0, x1 = values(w0=2.0, w1=-3.0, w2=-3.0, x0=-1.0, x1=-2.0)
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    f.backward()
    s = 1 / (1 + math.exp(-1.0))
    local = s * (1 - s)
    assert f.data == pytest.approx(s, rel=1e-15)
    expected = {w0: -local, w1: -2 * local, w2: local, x0: 2 * local, x1: -3 * local}
    for leaf, grad in expected.items():
        assert leaf.grad == pytest.approx(grad, rel=1e-12), leaf.label


def test_sigmoid_method_matches_the_neuron_formula():
    for z in (-3.0, -0.5, 0.0, 0.7, 4.0):
        a = Value(z)
        s = a.sigmoid()
        s.backward()
        expected = 1 / (1 + math.exp(-z))
        assert s.data == pytest.approx(expected, rel=1e-14)
        assert a.grad == pytest.approx(expected * (1 - expected), rel=1e-12)


# -- conventions -----------------------------------------------------------------------------


def test_max_tie_splits_the_gradient():
    a, b = values(a=1.0, b=1.0)
    maximum(a, b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)


def test_max_of_a_value_with_itself_has_gradient_one():
    (a,) = values(a=-2.0)
    maximum(a, a).backward()
    assert a.grad == 1.0


def test_minimum_and_abs():
    a, b = values(a=3.0, b=-1.0)
    m = minimum(a, b)
    m.backward()
    assert (m.data, a.grad, b.grad) == (-1.0, 0.0, 1.0)
    for v, grad in ((-2.0, -1.0), (2.0, 1.0), (0.0, 0.0)):
        x = Value(v)
        y = x.abs()
        y.backward()
        assert (y.data, x.grad) == (abs(v), grad)


@pytest.mark.parametrize("z", [1000.0, -1000.0, 745.0, -745.0, 0.0])
def test_sigmoid_and_tanh_are_finite_far_out(z):
    for method, value, slope in (
        ("sigmoid", 1 / (1 + math.exp(-z)) if z > -700 else 0.0, None),
        ("tanh", math.tanh(z), None),
    ):
        a = Value(z)
        y = getattr(a, method)()
        y.backward()
        assert math.isfinite(y.data) and math.isfinite(a.grad)
        assert y.data == pytest.approx(value, abs=1e-15)
        assert slope is None or a.grad == slope


def test_tanh_derivative_is_one_minus_y_squared():
    for z in (-2.0, -0.3, 0.0, 0.9, 3.0):
        a = Value(z)
        t = a.tanh()
        t.backward()
        assert t.data == pytest.approx(math.tanh(z), abs=1e-15)
        assert a.grad == pytest.approx(1 - math.tanh(z) ** 2, rel=1e-12, abs=1e-15)


def test_operators_both_ways_round_with_numbers():
    (a,) = values(a=4.0)
    cases = {
        "a + 2": (a + 2, 6.0, 1.0),
        "2 + a": (2 + a, 6.0, 1.0),
        "a - 2": (a - 2, 2.0, 1.0),
        "2 - a": (2 - a, -2.0, -1.0),
        "a * 2": (a * 2, 8.0, 2.0),
        "2 * a": (2 * a, 8.0, 2.0),
        "a / 2": (a / 2, 2.0, 0.5),
        "1 / a": (1 / a, 0.25, -1 / 16),
        "a ** 2": (a**2, 16.0, 8.0),
        "2 ** a": (2**a, 16.0, 16.0 * math.log(2.0)),
        "-a": (-a, -4.0, -1.0),
        "a.exp()": (a.exp(), math.exp(4.0), math.exp(4.0)),
        "a.log()": (a.log(), math.log(4.0), 0.25),
    }
    for text, (x, data, grad) in cases.items():
        a.grad = 0.0
        x.backward()
        assert x.data == pytest.approx(data, rel=1e-15), text
        assert a.grad == pytest.approx(grad, rel=1e-15), text


def test_value_exponent():
    a, b = values(a=2.0, b=3.0)
    x = a**b
    x.backward()
    assert x.data == 8.0
    assert a.grad == 12.0  # b * a ** (b - 1)
    assert b.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-15)  # x * log(a)


def test_numbers_accepted():
    for number in (2, 2.0, np.float64(2.0), np.float32(2.0), np.int64(2), np.int8(2)):
        v = Value(number)
        assert type(v.data) is float and v.data == 2.0
        assert (v * number).data == 4.0
        assert (number * v).data == 4.0


def test_gradients_are_floats():
    a = Value(3)
    (a * 2).backward()
    assert type(a.grad) is float


# -- backward semantics ------------------------------------------------------------------------


def test_backward_twice_accumulates_into_leaves_only():
    a, b = values(a=2.0, b=5.0)
    c = a * b
    y = c + a
    y.backward()
    assert (a.grad, b.grad, c.grad) == (6.0, 2.0, 1.0)
    y.backward()
    assert (a.grad, b.grad) == (12.0, 4.0)  # leaves accumulate
    assert (c.grad, y.grad) == (1.0, 1.0)  # intermediates are reset


def test_zero_grad_clears_the_graph():
    a, b = values(a=2.0, b=5.0)
    y = a * b + a
    y.backward()
    y.zero_grad()
    assert (a.grad, b.grad, y.grad) == (0.0, 0.0, 0.0)
    y.backward()
    assert (a.grad, b.grad) == (6.0, 2.0)


def test_gradients_sum_over_samples():
    (w,) = values(w=0.5)
    total = 0.0
    for x in (1.0, 2.0, -3.0):
        (w * x).backward()
        total += x
    assert w.grad == total


def test_backward_seed_scales_the_gradients():
    a, b = values(a=2.0, b=5.0)
    (a * b).backward(seed=3.0)
    assert (a.grad, b.grad) == (15.0, 6.0)


def test_backward_from_an_intermediate_node():
    a, b, c = values(a=2.0, b=5.0, c=-1.0)
    inner = a * b
    outer = inner * c
    inner.backward()
    assert (a.grad, b.grad, c.grad) == (5.0, 2.0, 0.0)
    assert outer.grad == 0.0  # not part of inner's graph


def test_backward_on_a_leaf_seeds_it():
    (a,) = values(a=2.0)
    a.backward()
    assert a.grad == 1.0


def test_unused_leaf_keeps_zero_gradient():
    a, b, unused = values(a=2.0, b=5.0, unused=7.0)
    (a + b).backward()
    assert unused.grad == 0.0


def test_a_million_deep_chain_backprops_without_recursion():
    a = Value(0.5, label="a")
    y = a
    for _ in range(1_000_000):
        y = y.relu()
    y.backward()
    assert a.grad == 1.0


def test_deep_chain_of_binary_gates():
    a = Value(1.0, label="a")
    y = a
    for _ in range(100_000):
        y = y + a
    y.backward()
    assert (y.data, a.grad) == (100_001.0, 100_001.0)


def test_topological_order_is_operands_first_and_deterministic():
    a, b, c = values(a=1.0, b=2.0, c=3.0)
    d = a * b
    e = d + c
    f = e * d
    order = topological_order(f)
    assert order == [a, b, d, c, e, f]
    assert topological_order(f) == order
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        assert all(position[id(p)] < position[id(node)] for p in node.parents)


def test_nodes_record_their_gate_and_operands_in_order():
    a, b = values(a=2.0, b=3.0)
    x = b / a
    assert x.gate is GATES["div"]
    assert x.parents == (b, a)
    assert a.gate is None and a.is_leaf and not x.is_leaf


def test_repr_shows_data_grad_and_label():
    assert repr(Value(2.0, label="a")) == "Value(data=2.0, grad=0.0, label='a')"
