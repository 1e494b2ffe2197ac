"""numerical_grad: the step, the Richardson estimate and its error bar, and what it flags."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_gates import Value, numerical_grad
from autograd_gates.checks.numerical import (
    DOMAIN_EDGE,
    GRAPH_CHANGES,
    KINK,
    NOISY,
    REL_STEP,
    GradEstimate,
    NumericalGradient,
    relative_step,
)


def test_worked_example_gives_plain_floats():
    # f(a, b) = a * b + exp(b): df/da = b = 0, df/db = a + exp(b) = 3.
    grad = numerical_grad(lambda a, b: a * b + b.exp(), [2.0, 0.0])
    assert isinstance(grad, NumericalGradient)
    assert grad.values == pytest.approx([0.0, 3.0], abs=1e-9)
    assert all(isinstance(v, float) for v in grad.values)
    assert grad.ok
    assert [float(e) for e in grad] == grad.values
    assert grad.errors == [e.error for e in grad]
    assert all(e.evaluations == 4 for e in grad)  # one Richardson stencil per input, no refinement


def test_estimate_fields_and_text():
    (est,) = numerical_grad(lambda a: a * a, 3.0)  # a single number is accepted too
    assert isinstance(est, GradEstimate)
    assert est.value == pytest.approx(6.0, abs=1e-9)
    assert 0 <= est.error < 1e-8
    assert est.step == relative_step(3.0)
    assert est.ok and est.issue == "" and est.detail == ""
    assert str(est).startswith("6 ± ")
    assert "NumericalGradient([6" in repr(numerical_grad(lambda a: a * a, [3.0]))


def test_rel_step_is_the_cube_root_of_eps():
    assert REL_STEP == pytest.approx(6.0554544523933395e-06)
    assert REL_STEP == pytest.approx(np.finfo(float).eps ** (1 / 3))


@pytest.mark.parametrize("x", [0.0, 1.0, -7.5, 1e-3, 3.7e4, 1e8, -1e12, 2.0 - 2**-40])
def test_step_is_relative_and_exact(x):
    h = relative_step(x)
    target = REL_STEP * max(1.0, abs(x))
    assert target / math.sqrt(2) <= h <= target * math.sqrt(2)  # the nearest power of two
    assert math.log2(h) == int(math.log2(h))
    assert (x + h) - x == h
    assert x - (x - h) == h
    assert x - (x - 2 * h) == 2 * h


def test_relative_step_rejects_a_bad_rel_step():
    with pytest.raises(ValueError, match="rel_step"):
        relative_step(1.0, 0.0)
    with pytest.raises(ValueError, match="rel_step must be a finite number > 0, got '1e-6'"):
        relative_step(1.0, "1e-6")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("f", "x", "true"),
    [
        (lambda a: a.exp(), 1.0, math.e),
        (lambda a: a.log(), 1e-3, 1e3),  # near log's singularity: the step refines
        (lambda a: 1 / a, 0.01, -1e4),
        (lambda a: a**3, 1e4, 3e8),  # large |x|: a relative step keeps digits
        (lambda a: a.tanh(), 0.7, 1 - math.tanh(0.7) ** 2),
        (lambda a: a.sigmoid(), -4.0, math.exp(-4.0) / (1 + math.exp(-4.0)) ** 2),
        (lambda a: a**0.5, 2.0, 0.5 / math.sqrt(2.0)),
    ],
)
def test_error_bar_covers_the_true_derivative(f, x, true):
    (est,) = numerical_grad(f, [x])
    assert est.ok, est.detail
    assert abs(est.value - true) <= est.error
    assert abs(est.value - true) <= 1e-8 * abs(true)  # and the estimate itself is excellent


def test_richardson_beats_a_plain_central_difference():
    x = 1.0
    h = relative_step(x)
    plain = (math.exp(x + h) - math.exp(x - h)) / (2 * h)
    (est,) = numerical_grad(lambda a: a.exp(), [x])
    assert abs(est.value - math.e) < abs(plain - math.e)


def test_relu_at_zero_is_a_kink():
    (est,) = numerical_grad(lambda a: a.relu(), [0.0])
    assert est.issue == KINK
    assert "relu gate" in est.detail and "one-sided slopes 0 and 1" in est.detail
    assert not est.ok


def test_kink_near_x_is_avoided_by_a_smaller_step():
    (est,) = numerical_grad(lambda a: a.relu(), [1e-5])  # x - 2h < 0 at the first step
    assert est.ok
    assert est.value == pytest.approx(1.0, abs=1e-12)
    assert est.step < relative_step(1e-5)
    assert est.evaluations > 4


@pytest.mark.parametrize(
    ("f", "x"),
    [
        (lambda a: a.abs(), 0.0),
        (lambda a: a.max(2.0), 2.0),
        (lambda a: a.min(-1.0), -1.0),
        (lambda a: (a * a - 1.0).relu(), 1.0),
    ],
)
def test_kinks_and_ties_are_flagged(f, x):
    (est,) = numerical_grad(f, [x])
    assert est.issue == KINK, est


@pytest.mark.parametrize(
    ("f", "x", "true"),
    [
        (lambda a: a.sigmoid(), 0.0, 0.25),  # built from max gates, smooth: not a kink
        (lambda a: a.tanh(), 0.0, 1.0),
        (lambda a: a.max(a), 0.5, 1.0),  # a permanent tie is the identity
        (lambda a: a.abs() * a.abs(), 0.0, 0.0),
    ],
)
def test_a_smooth_join_is_not_a_kink(f, x, true):
    (est,) = numerical_grad(f, [x])
    assert est.ok, est.detail
    assert est.value == pytest.approx(true, abs=1e-9)


def test_a_smooth_function_built_across_a_kink_records_the_join():
    # relu(a) - relu(-a) is a itself: both relu gates switch piece at 0, but the slopes agree.
    (est,) = numerical_grad(lambda a: a.relu() - (-a).relu(), [0.0])
    assert "relu gate" in est.join and not est.issue


@pytest.mark.parametrize(
    ("f", "x", "gate"),
    [
        (lambda a: a.log(), 1e-9, "log"),
        (lambda a: a**0.5, 0.0, "pow"),
        (lambda a: a.exp(), 709.7827, "exp"),
    ],
)
def test_a_stencil_outside_the_domain_is_a_domain_edge(f, x, gate):
    (est,) = numerical_grad(f, [x])
    assert est.issue == DOMAIN_EDGE
    assert f"{gate} gate" in est.detail
    assert math.isnan(est.value) and est.error == math.inf


def test_a_stencil_across_a_pole_is_not_trusted():
    (est,) = numerical_grad(lambda a: 1 / a, [1e-12])  # x - h < 0 < x: 1/a jumps
    assert est.issue == KINK  # the div gate's piece (the sign of b) changes inside the stencil
    (est,) = numerical_grad(lambda a: 1 / a, [2.0**-17])  # x - h == 0 at the first step
    assert not est.ok


def test_a_python_branch_changes_the_graph():
    def f(a):
        return a * 2.0 if a.data <= 1.0 else a + 1.0

    (est,) = numerical_grad(f, [1.0])
    assert est.issue == GRAPH_CHANGES
    assert "different graph" in est.detail


def test_an_ill_conditioned_f_is_noisy():
    (est,) = numerical_grad(lambda a: a * 1e-9 + 1e9, [1.0])
    assert est.issue == NOISY
    assert est.error > 1e-4  # rounding of f ~ 1e9 over the widest step tried, h ~ 4e-3
    assert "uncertain" in est.detail
    assert "more than the 1.0e-08 (noise_rtol * |n| + atol)" in est.detail  # what it would take


def test_fourth_difference_exposes_rounding_worse_than_eps_and_a_wider_step_tames_it():
    # (0.1 a + 1e8) * 10 - 1e9 = a, but computed it is a staircase with steps of ~1.5e-7:
    # f rounds far worse than eps * |f| (~1e-16). The fourth difference sees it, so the step
    # widens until the noise over h is small enough to judge, and the error bar covers the truth.
    f = lambda a: (a * 0.1 + 1e8) * 10.0 - 1e9  # noqa: E731
    (est,) = numerical_grad(f, [0.3])
    assert not est.issue and est.step >= 64 * relative_step(0.3)
    assert abs(est.value - 1.0) <= est.error < 1e-3
    (first,) = numerical_grad(f, [0.3], max_refinements=0)  # the first stencil alone: poor, and says so
    assert first.issue == NOISY and abs(first.value - 1.0) <= first.error


def test_inputs_are_validated():
    with pytest.raises(TypeError, match="input 1 must be a number"):
        numerical_grad(lambda a, b: a * b, [1.0, "2"])
    with pytest.raises(ValueError, match="finite"):
        numerical_grad(lambda a: a, [math.nan])
    with pytest.raises(ValueError, match="empty"):
        numerical_grad(lambda: Value(1.0), [])
    with pytest.raises(TypeError, match="must return a Value"):
        numerical_grad(lambda a: "x", [1.0])


@pytest.mark.parametrize(
    ("option", "bad"),
    [("max_refinements", -1), ("max_refinements", 1.5), ("noise_rtol", -1e-3), ("noise_atol", math.inf)],
)
def test_options_are_validated_before_f_runs(option, bad):
    def f(a):
        raise AssertionError("f must not run with a bad option")

    with pytest.raises(ValueError, match=f"{option} must be"):
        numerical_grad(f, [1.0], **{option: bad})
    with pytest.raises(ValueError, match="rel_step"):
        numerical_grad(f, [1.0], rel_step=-1.0)


def test_numpy_scalars_values_and_plain_numbers():
    a = Value(2.0, "a")
    grad = numerical_grad(lambda p, q: p * q, [a, np.float64(3.0)])
    assert grad.values == pytest.approx([3.0, 2.0], abs=1e-9)
    (est,) = numerical_grad(lambda p: p * p, np.array(3.0))  # a 0-d array is one number
    assert est.value == pytest.approx(6.0, abs=1e-9)
    # f may also return a plain number (no circuit, so no kink detection)
    (est,) = numerical_grad(lambda p: p.data**2, [3.0])
    assert est.value == pytest.approx(6.0, abs=1e-8)


def test_f_at_the_point_itself_outside_the_domain_raises_the_gate_error():
    from autograd_gates import GateDomainError

    with pytest.raises(GateDomainError, match="log"):
        numerical_grad(lambda a: a.log(), [-1.0])
