"""Activations: backprop through the gates gives the slides' closed-form derivatives."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_gates import GATES, GradcheckInconclusive, Value, gradcheck, topological_order
from autograd_gates.activations import (
    ACTIVATIONS,
    PReLU,
    arctan,
    binary_step,
    elu,
    get_activation,
    identity,
    leaky_relu,
    log_softmax,
    logsumexp,
    prelu,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)

EXAMPLES = settings(max_examples=60, deadline=None)


def grad_at(f, x: float) -> tuple[float, float]:
    """``(f(x), f'(x))`` with f'(x) from backward()."""
    v = Value(x, "x")
    y = f(v)
    y.backward()
    return y.data, v.grad


def central(f, x: float, h: float = 1e-5) -> float:
    """The central difference ``(f(x + h) - f(x - h)) / 2h`` on floats."""
    return (f(Value(x + h)).data - f(Value(x - h)).data) / (2 * h)


def _sig(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


ALPHA = 0.3

# name -> (function, closed-form derivative written with x and y = f(x), as on the slides' table)
CLOSED_FORMS = {
    "identity": (identity, lambda x, y: 1.0),
    "sigmoid": (sigmoid, lambda x, y: y * (1 - y)),
    "tanh": (tanh, lambda x, y: 1 - y * y),
    "arctan": (arctan, lambda x, y: 1 / (1 + x * x)),
    "relu": (relu, lambda x, y: 1.0 if x > 0 else 0.0),
    "leaky_relu": (lambda v: leaky_relu(v, ALPHA), lambda x, y: 1.0 if x > 0 else ALPHA),
    "elu": (lambda v: elu(v, ALPHA), lambda x, y: 1.0 if x > 0 else y + ALPHA),
    "softplus": (softplus, lambda x, y: _sig(x)),
    "binary_step": (binary_step, lambda x, y: 0.0),
}
# The values themselves, from math (not from the gates).
REFERENCE = {
    "identity": lambda x: x,
    "sigmoid": _sig,
    "tanh": math.tanh,
    "arctan": math.atan,
    "relu": lambda x: max(x, 0.0),
    "leaky_relu": lambda x: x if x > 0 else ALPHA * x,
    "elu": lambda x: x if x > 0 else ALPHA * math.expm1(x),
    "softplus": lambda x: max(x, 0.0) + math.log1p(math.exp(-abs(x))),
    "binary_step": lambda x: 1.0 if x >= 0 else 0.0,
}
KINKED = {"relu", "leaky_relu", "elu", "binary_step"}


@pytest.mark.parametrize("name", CLOSED_FORMS)
@EXAMPLES
@given(x=st.floats(-30, 30))
def test_backprop_equals_the_closed_form(name, x):
    f, derivative = CLOSED_FORMS[name]
    y, dy = grad_at(f, x)
    assert y == pytest.approx(REFERENCE[name](x), rel=1e-12, abs=1e-15)
    assert dy == pytest.approx(derivative(x, y), rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("name", [n for n in CLOSED_FORMS if n != "binary_step"])
@EXAMPLES
@given(x=st.floats(-8, 8))
def test_backprop_agrees_with_central_differences_away_from_kinks(name, x):
    f, _ = CLOSED_FORMS[name]
    if name in KINKED and abs(x) < 1e-3:
        x += 0.01 if x >= 0 else -0.01
    _, dy = grad_at(f, x)
    assert dy == pytest.approx(central(f, x), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_gradcheck_passes_away_from_kinks(name):
    f, _ = CLOSED_FORMS[name]
    for x in (-2.5, -0.7, 0.4, 3.1):
        assert gradcheck(f, [x]).outcome == "pass"


@pytest.mark.parametrize("f", [relu, lambda v: leaky_relu(v, 0.2), lambda v: elu(v, 0.5), binary_step])
def test_gradcheck_calls_the_kink_at_zero_inconclusive(f):
    """Not a false alarm: at the kink the numerical derivative cannot judge the convention."""
    with pytest.raises(GradcheckInconclusive):
        gradcheck(f, [0.0])


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
@pytest.mark.parametrize("x", [-1000.0, 1000.0, -1e300, 1e300])
def test_finite_at_extremes(name, x):
    f, derivative = CLOSED_FORMS[name]
    y, dy = grad_at(f, x)
    assert math.isfinite(y) and math.isfinite(dy)
    assert dy == pytest.approx(derivative(x, y), abs=1e-12)


def test_saturated_values_are_exact_limits():
    assert grad_at(sigmoid, 1000.0) == (1.0, 0.0)
    assert grad_at(sigmoid, -1000.0) == (0.0, 0.0)
    assert grad_at(tanh, -1000.0) == (-1.0, 0.0)
    assert grad_at(softplus, 1000.0) == (1000.0, 1.0)
    assert grad_at(softplus, -1000.0) == (0.0, 0.0)
    assert grad_at(lambda v: elu(v, 2.0), -1000.0) == (-2.0, 0.0)
    assert grad_at(arctan, 1000.0)[0] == pytest.approx(math.pi / 2 - 1e-3, abs=1e-9)


# -- the convention at the kink x = 0 ------------------------------------------------------


def test_kink_convention_is_the_left_derivative():
    """relu'(0) = 0 (the slides); leaky relu, PReLU and ELU follow: their x <= 0 branch at 0."""
    assert grad_at(relu, 0.0) == (0.0, 0.0)
    assert grad_at(lambda v: leaky_relu(v, 0.1), 0.0) == (0.0, 0.1)
    assert grad_at(lambda v: elu(v, 0.5), 0.0) == (0.0, 0.5)
    assert grad_at(lambda v: elu(v, 1.0), 0.0) == (0.0, 1.0)  # alpha = 1: both sides agree


def test_smooth_functions_are_exact_at_zero():
    """softplus is built on the max gate; its two ties at 0 split evenly and give sigmoid(0)."""
    assert grad_at(softplus, 0.0) == (math.log(2.0), 0.5)
    assert grad_at(sigmoid, 0.0) == (0.5, 0.25)
    assert grad_at(tanh, 0.0) == (0.0, 1.0)


def test_binary_step_backward_gives_zero_and_stays_connected():
    for x in (-2.0, -1e-12, 0.0, 1e-12, 2.0):
        x_value = Value(x, "x")
        y = binary_step(x_value)
        y.backward()
        assert y.data == (1.0 if x >= 0 else 0.0)
        assert x_value.grad == 0.0
        assert x_value in topological_order(y)  # the drawing shows the dependence


def test_leaky_relu_with_zero_slope_is_relu():
    for x in (-2.0, 0.0, 3.0):
        assert grad_at(lambda v: leaky_relu(v, 0.0), x) == grad_at(relu, x)


@EXAMPLES
@given(x=st.floats(-50, 50), alpha=st.floats(0, 1))
def test_leaky_relu_equals_max_form(x, alpha):
    assert leaky_relu(x, alpha).data == max(x, alpha * x)


def test_leaky_relu_is_not_the_elu_formula():
    """Errata: the slides' leaky ReLU slide shows alpha * (e^x - 1); leaky ReLU is alpha * x."""
    assert leaky_relu(-2.0, 0.1).data == pytest.approx(-0.2)
    assert elu(-2.0, 0.1).data == pytest.approx(0.1 * (math.exp(-2.0) - 1))


@EXAMPLES
@given(x=st.floats(-20, 20).filter(lambda x: abs(x) > 1e-6), alpha=st.floats(-2, 3))
def test_prelu_gradients(x, alpha):
    xv, av = Value(x, "x"), Value(alpha, "alpha")
    y = prelu(xv, av)
    y.backward()
    assert y.data == pytest.approx(x if x > 0 else alpha * x, abs=1e-12)
    assert xv.grad == pytest.approx(1.0 if x > 0 else alpha)
    assert av.grad == pytest.approx(0.0 if x > 0 else x)


def test_prelu_module_owns_a_learnable_slope():
    act = PReLU(0.25)
    x = Value(-4.0)
    y = act(x)
    y.backward()
    assert act.parameters() == [act.alpha]
    assert (y.data, act.alpha.grad, x.grad) == (-1.0, -4.0, 0.25)
    assert get_activation("prelu") is not get_activation("prelu")  # a fresh slope each time


def test_elu_derivative_is_f_plus_alpha_on_the_left():
    for x in (-5.0, -1.0, -0.01):
        y, dy = grad_at(lambda v: elu(v, 1.7), x)
        assert dy == pytest.approx(y + 1.7, rel=1e-12)


@pytest.mark.parametrize("f", [sigmoid, tanh, arctan, relu, leaky_relu, elu, softplus, binary_step, identity])
def test_branch_free_one_graph_for_every_input(f):
    """The same gates in the same order for negative, zero and positive inputs."""

    def shape(x: float) -> list[str]:
        return [n.gate.name if n.gate else "leaf" for n in topological_order(f(Value(x)))]

    assert shape(-3.0) == shape(0.0) == shape(5.0) == shape(-1000.0) == shape(1000.0)


# -- arctan gate ---------------------------------------------------------------------------


def test_arctan_gate_entry():
    gate = GATES["arctan"]
    assert gate.rule == "x = arctan(a)  ->  da = 1 / (1 + a * a) * dx"
    assert gate.arity == 1 and gate.piece is None
    for a in (-3.0, 0.0, 0.5, 7.0):
        x = gate.forward(a)
        assert x == math.atan(a)
        assert gate.partials(a, x) == (eval(gate.local[0], {"a": a, "x": x}),)
    y = arctan(Value(1.0))
    assert y.gate is gate and y.data == pytest.approx(math.pi / 4)


# -- softmax and friends -------------------------------------------------------------------


def test_softmax_slide_example():
    """[0.1, 1.3, 2.5] -> [0.07, 0.22, 0.72] on the slides (rounded to 2 places)."""
    probs = [p.data for p in softmax([0.1, 1.3, 2.5])]
    assert [round(p, 2) for p in probs] == [0.07, 0.22, 0.72]
    total = math.exp(0.1) + math.exp(1.3) + math.exp(2.5)
    expected = [math.exp(z) / total for z in (0.1, 1.3, 2.5)]
    assert probs == pytest.approx(expected, rel=1e-14)


@EXAMPLES
@given(st.lists(st.floats(-30, 30), min_size=1, max_size=5))
def test_softmax_jacobian(zs):
    """dS_i/dz_j = S_i (delta_ij - S_j): the full Jacobian, not just S(1 - S) (the slides' error)."""
    for i in range(len(zs)):
        leaves = [Value(z) for z in zs]
        outputs = softmax(leaves)
        outputs[i].backward()
        s = [o.data for o in outputs]
        assert math.fsum(s) == pytest.approx(1.0, abs=1e-12)
        for j, leaf in enumerate(leaves):
            expected = s[i] * ((i == j) - s[j])
            assert leaf.grad == pytest.approx(expected, abs=1e-12)


def test_softmax_stable_and_shift_invariant():
    big = [p.data for p in softmax([1000.0, 0.0, -1000.0])]
    assert big == [1.0, 0.0, 0.0]
    a = [p.data for p in softmax([1.0, 2.0, 3.0])]
    b = [p.data for p in softmax([1001.0, 1002.0, 1003.0])]
    assert a == pytest.approx(b, rel=1e-12)
    leaves = [Value(1000.0), Value(999.0)]
    out = softmax(leaves)
    out[0].backward()
    assert all(math.isfinite(v.grad) for v in leaves)


def test_softmax_tie_in_the_max_keeps_gradients_exact():
    leaves = [Value(2.0), Value(2.0), Value(-1.0)]
    out = softmax(leaves)
    out[0].backward()
    s = [o.data for o in out]
    for j, leaf in enumerate(leaves):
        assert leaf.grad == pytest.approx(s[0] * ((j == 0) - s[j]), abs=1e-15)


@EXAMPLES
@given(st.lists(st.floats(-700, 700), min_size=1, max_size=5))
def test_logsumexp_and_log_softmax(zs):
    m = max(zs)
    expected = m + math.log(math.fsum(math.exp(z - m) for z in zs))
    assert logsumexp(zs).data == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert [v.data for v in log_softmax(zs)] == pytest.approx([z - expected for z in zs], rel=1e-9, abs=1e-9)


def test_softmax_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        softmax([])
    with pytest.raises(TypeError, match="sequence"):
        softmax(Value(1.0))


# -- lookup and arguments ------------------------------------------------------------------


def test_get_activation_by_name_function_or_none():
    assert get_activation("ReLU") is relu
    assert get_activation("leaky-relu") is leaky_relu
    assert get_activation(None) is identity
    assert get_activation(math.sin) is math.sin
    names = {"identity", "binary_step", "sigmoid", "tanh", "arctan", "relu", "elu", "softplus"}
    assert set(ACTIVATIONS) >= names
    with pytest.raises(ValueError, match="unknown activation 'swish'.*relu"):
        get_activation("swish")
    with pytest.raises(TypeError, match="activation must be"):
        get_activation(3)


def test_bad_alpha_is_named():
    with pytest.raises(TypeError, match="alpha"):
        leaky_relu(1.0, "0.1")
    with pytest.raises(ValueError, match="alpha must be finite"):
        elu(1.0, math.nan)
    with pytest.raises(TypeError, match="number"):
        sigmoid("1")
