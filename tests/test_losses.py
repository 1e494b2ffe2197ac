"""Losses: values and gradients against closed forms, central differences and gradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_gates import Value, gradcheck
from autograd_gates.activations import sigmoid
from autograd_gates.losses import (
    DEFAULT_CLIP,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    hinge,
    l2_penalty,
    mean_squared_error,
    softmax_cross_entropy,
    sum_of_squares,
)

EXAMPLES = settings(max_examples=40, deadline=None)
finite = st.floats(-10, 10)


def leaves(xs) -> list[Value]:
    return [Value(x, f"o{i}") for i, x in enumerate(xs)]


def backprop(loss_fn, y, outputs) -> tuple[float, list[float]]:
    vs = leaves(outputs)
    loss = loss_fn(y, vs)
    loss.backward()
    return loss.data, [v.grad for v in vs]


def _sig(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


# -- squares -------------------------------------------------------------------------------


def test_sum_of_squares_worked_example():
    value, grads = backprop(sum_of_squares, [1.0, 0.0, 2.0], [0.5, 0.5, 3.0])
    assert value == 0.5 * (0.25 + 0.25 + 1.0)
    assert grads == [-(1.0 - 0.5), -(0.0 - 0.5), -(2.0 - 3.0)]  # -(y - y_hat)


@EXAMPLES
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=6))
def test_squares_closed_forms(pairs):
    y = [t for t, _ in pairs]
    y_hat = [o for _, o in pairs]
    n = len(pairs)
    value, grads = backprop(sum_of_squares, y, y_hat)
    assert value == pytest.approx(0.5 * sum((t - o) ** 2 for t, o in pairs), rel=1e-12, abs=1e-12)
    assert grads == pytest.approx([-(t - o) for t, o in pairs], abs=1e-12)
    value, grads = backprop(mean_squared_error, y, y_hat)
    assert value == pytest.approx(sum((t - o) ** 2 for t, o in pairs) / n, rel=1e-12, abs=1e-12)
    assert grads == pytest.approx([-2 / n * (t - o) for t, o in pairs], abs=1e-12)


# -- binary cross-entropy ------------------------------------------------------------------


@EXAMPLES
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0]), st.floats(0.01, 0.99)), min_size=1, max_size=6))
def test_bce_from_probabilities_closed_form(pairs):
    t = [a for a, _ in pairs]
    p = [b for _, b in pairs]
    n = len(pairs)
    value, grads = backprop(binary_cross_entropy, t, p)
    expected = -sum(ti * math.log(pi) + (1 - ti) * math.log(1 - pi) for ti, pi in pairs) / n
    assert value == pytest.approx(expected, rel=1e-12)
    assert grads == pytest.approx([-(ti / pi - (1 - ti) / (1 - pi)) / n for ti, pi in pairs], rel=1e-9)


def test_bce_slides_table_with_clipping():
    """The slides' table (t the target, p the prediction): right -> 0, wrong -> "infinite" (-log(clip))."""
    cap = -math.log(DEFAULT_CLIP)
    for t, p, expected in [(0, 0, 0.0), (1, 0, cap), (0, 1, cap), (1, 1, 0.0)]:
        value, grads = backprop(binary_cross_entropy, [t], [float(p)])
        assert value == pytest.approx(expected, rel=1e-4, abs=1e-11)  # 1 - (1 - clip) rounds
        assert grads == [0.0]  # beyond the clip: no gradient (documented)


def test_bce_rejects_values_outside_their_ranges():
    with pytest.raises(ValueError, match=r"probabilities\[1\] = 1.5"):
        binary_cross_entropy([0, 1], [0.2, 1.5])
    with pytest.raises(ValueError, match=r"y\[0\] = 2.0.*\[0, 1\]"):
        binary_cross_entropy([2, 1], [0.2, 0.5])
    with pytest.raises(ValueError, match="clip"):
        binary_cross_entropy([1], [0.5], clip=0.0)


@EXAMPLES
@given(st.lists(st.tuples(st.sampled_from([0.0, 1.0]), st.floats(-30, 30)), min_size=1, max_size=6))
def test_bce_from_logits_closed_form(pairs):
    t = [a for a, _ in pairs]
    z = [b for _, b in pairs]
    n = len(pairs)
    value, grads = backprop(binary_cross_entropy_with_logits, t, z)
    expected = sum(math.log1p(math.exp(-abs(zi))) + max(zi, 0) - ti * zi for ti, zi in pairs) / n
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert grads == pytest.approx([(_sig(zi) - ti) / n for ti, zi in pairs], rel=1e-9, abs=1e-15)


def test_bce_logits_equals_bce_of_sigmoid():
    t = [1.0, 0.0, 1.0]
    z = [0.3, -1.2, 4.0]
    via_logits = binary_cross_entropy_with_logits(t, z).data
    via_probs = binary_cross_entropy(t, [sigmoid(zi) for zi in z]).data
    assert via_logits == pytest.approx(via_probs, rel=1e-12)


def test_bce_logits_stable_at_extremes():
    value, grads = backprop(binary_cross_entropy_with_logits, [1.0, 0.0], [-1000.0, -1000.0])
    assert value == pytest.approx(500.0)  # (1000 + 0) / 2: the full penalty, not a clipped one
    assert grads == [-0.5, 0.0]  # a confidently wrong logit still gets the whole gradient


# -- several classes -----------------------------------------------------------------------


three_scores = st.lists(st.floats(-20, 20), min_size=3, max_size=3)


@EXAMPLES
@given(st.lists(st.tuples(st.integers(0, 2), three_scores), min_size=1, max_size=4))
def test_softmax_cross_entropy_closed_form(samples):
    y = [c for c, _ in samples]
    rows = [[Value(z) for z in zs] for _, zs in samples]
    loss = softmax_cross_entropy(y, rows)
    loss.backward()
    n = len(samples)
    expected = 0.0
    for (c, zs), row in zip(samples, rows):
        m = max(zs)
        lse = m + math.log(sum(math.exp(z - m) for z in zs))
        expected += (lse - zs[c]) / n
        probs = [math.exp(z - lse) for z in zs]
        expected_grads = [(p - (k == c)) / n for k, p in enumerate(probs)]
        assert [v.grad for v in row] == pytest.approx(expected_grads, abs=1e-12)
    assert loss.data == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_softmax_cross_entropy_stable_and_checked():
    assert softmax_cross_entropy([0], [[1000.0, -1000.0]]).data == 0.0
    assert softmax_cross_entropy([1], [[1000.0, -1000.0]]).data == 2000.0
    with pytest.raises(ValueError, match=r"y\[0\] = 3.0 is not a class index in 0 .. 2"):
        softmax_cross_entropy([3], [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"logits\[1\] has 2 scores, expected 3"):
        softmax_cross_entropy([0, 1], [[1.0, 2.0, 3.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="at least 2 classes"):
        softmax_cross_entropy([0], [[1.0]])


# -- hinge and L2 --------------------------------------------------------------------------


@EXAMPLES
@given(st.lists(st.tuples(st.sampled_from([-1.0, 1.0]), finite), min_size=1, max_size=6))
def test_hinge_closed_form(pairs):
    y = [a for a, _ in pairs]
    s = [b for _, b in pairs]
    n = len(pairs)
    value, grads = backprop(hinge, y, s)
    assert value == pytest.approx(sum(max(0.0, 1 - yi * si) for yi, si in pairs) / n, rel=1e-12, abs=1e-15)
    assert grads == pytest.approx([(-yi / n if yi * si < 1 else 0.0) for yi, si in pairs])


def test_hinge_needs_signed_labels():
    with pytest.raises(ValueError, match=r"y\[1\] = 0.0.*-1 or \+1"):
        hinge([1, 0], [0.5, 0.5])


def test_l2_penalty():
    params = leaves([1.0, -2.0, 3.0])
    penalty = l2_penalty(params, 1e-4)
    penalty.backward()
    assert penalty.data == pytest.approx(1e-4 * 14)
    assert [p.grad for p in params] == pytest.approx([2e-4, -4e-4, 6e-4])
    with pytest.raises(ValueError, match="alpha"):
        l2_penalty(params, -1.0)
    with pytest.raises(ValueError, match="empty"):
        l2_penalty([], 1e-4)


# -- numerically ---------------------------------------------------------------------------


LOSS_CASES = {
    "sum_of_squares": (sum_of_squares, [1.0, -2.0, 0.5], [0.3, -1.0, 2.0]),
    "mse": (mean_squared_error, [1.0, -2.0, 0.5], [0.3, -1.0, 2.0]),
    "bce": (binary_cross_entropy, [1.0, 0.0, 1.0], [0.3, 0.6, 0.9]),
    "bce_logits": (binary_cross_entropy_with_logits, [1.0, 0.0, 1.0], [0.3, -1.6, 2.9]),
    "hinge": (hinge, [1.0, -1.0, 1.0], [0.3, -0.6, 1.9]),
}


@pytest.mark.parametrize("name", LOSS_CASES)
def test_gradcheck_each_loss(name):
    fn, y, outputs = LOSS_CASES[name]
    assert gradcheck(lambda *o: fn(y, list(o)), outputs).outcome == "pass"


def test_gradcheck_softmax_cross_entropy():
    def loss(a, b, c, d):
        return softmax_cross_entropy([2, 0], [[a, b, c], [d, 0.5, -1.0]])

    report = gradcheck(loss, [0.1, 1.3, 2.5, -0.4])
    assert report.outcome == "pass"


# -- argument handling ---------------------------------------------------------------------


def test_outputs_may_be_one_element_lists_and_numpy():
    """What MLP.forward returns for one output (a list per sample), and numpy targets."""
    a, b = Value(0.2), Value(-0.7)
    loss = hinge(np.array([1, -1]), [[a], [b]])
    loss.backward()
    assert loss.data == pytest.approx((0.8 + 0.3) / 2)
    assert (a.grad, b.grad) == (-0.5, 0.5)
    assert sum_of_squares(2.0, Value(1.0)).data == 0.5  # a single sample


@pytest.mark.parametrize(
    ("y", "outputs", "error", "message"),
    [
        ([], [], ValueError, "y is empty"),
        ([1.0, 2.0], [0.5], ValueError, "y_hat has 1 items but y has 2"),
        ([math.nan], [0.5], ValueError, r"y\[0\] must be finite"),
        ([1.0], [math.inf], ValueError, r"y_hat\[0\] must be finite"),
        (["a"], [0.5], TypeError, r"y\[0\] must be a number"),
        ([1.0], ["b"], TypeError, r"y_hat\[0\] must be a Value or a number"),
        ([1.0], [[0.1, 0.2]], ValueError, r"y_hat\[0\] is a sequence of 2 items"),
    ],
)
def test_bad_arguments_are_named(y, outputs, error, message):
    with pytest.raises(error, match=message):
        sum_of_squares(y, outputs)


def test_numpy_scalars_and_zero_d_arrays_are_one_sample():
    assert sum_of_squares(np.float64(2.0), np.float64(1.0)).data == 0.5
    assert sum_of_squares(np.array(2.0), np.array(1.0)).data == 0.5
    assert hinge(np.array([1, -1]), np.array([0.5, 0.5])).data == 1.0
