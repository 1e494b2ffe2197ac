"""Optimizers: SGD and Adam, their arithmetic, and the all-or-nothing step."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_gates import Value, datasets
from autograd_gates.nn import MLP
from autograd_gates.optim import SGD, Adam
from autograd_gates.training import fit

# -- all or nothing ------------------------------------------------------------------------


def test_sgd_refuses_a_step_whose_new_value_overflows_and_changes_nothing():
    """Issue 10: lr=1e308 with a gradient of 10 wrote -inf into the weight."""
    q, p = Value(2.0), Value(1.0, "w")
    q.grad, p.grad = 1.0, 10.0  # q's own step would be finite: it is not applied either
    opt = SGD([q, p], lr=1e308)
    with pytest.raises(FloatingPointError, match=r"params\[1\] \(label 'w'\) would go from 1.0 to -inf"):
        opt.step()
    assert (q.data, p.data) == (2.0, 1.0) and opt.steps == 0


def test_sgd_momentum_refused_step_keeps_the_velocity():
    p = Value(1.0)
    opt = SGD([p], lr=1.0, momentum=0.9)
    p.grad = 1e308
    opt.step()
    state = opt.state_dict()
    p.grad = 1e308  # v = 0.9e308 + 1e308 overflows
    with pytest.raises(FloatingPointError, match=r"params\[0\] would go from"):
        opt.step()
    assert p.data == 1.0 - 1e308 and opt.state_dict() == state


def test_a_non_finite_gradient_is_refused_by_both():
    for make in (lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)):
        a, b = Value(1.0), Value(2.0, "b")
        opt = make([a, b])
        a.grad, b.grad = 1.0, math.nan
        with pytest.raises(FloatingPointError, match=r"params\[1\] \(label 'b'\) has gradient nan"):
            opt.step()
        assert (a.data, b.data) == (1.0, 2.0)


def test_state_dict_round_trip():
    p = Value(0.5)
    opt = Adam([p], lr=0.1)
    p.grad = 2.0
    opt.step()
    saved, data = opt.state_dict(), p.data
    opt.step()
    opt.load_state_dict(saved)
    p.data = data
    opt.step()
    again = p.data
    opt.load_state_dict(saved)
    p.data = data
    opt.step()
    assert p.data == again and opt.steps == 2
    with pytest.raises(ValueError, match=r"state\['m'\] has 2 entries but this optimizer has 1"):
        opt.load_state_dict({**saved, "m": [0.0, 0.0]})


# -- Adam ----------------------------------------------------------------------------------


def _adam_reference(theta0, grads_fn, steps, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    """Kingma & Ba (2015), Algorithm 1, written with numpy arrays."""
    theta = np.array(theta0, dtype=float)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for t in range(1, steps + 1):
        g = grads_fn(theta)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def test_adam_matches_the_published_algorithm():
    """f(a, b) = (a - 3)^2 + 10 (a b - 1)^2: gradients from backward() against the formula by hand."""

    def grads(theta):
        a, b = theta
        return np.array([2 * (a - 3) + 20 * (a * b - 1) * b, 20 * (a * b - 1) * a])

    a, b = Value(0.5, "a"), Value(-1.5, "b")
    opt = Adam([a, b], lr=0.05, betas=(0.8, 0.99), eps=1e-6)
    for _ in range(25):
        opt.zero_grad()
        ((a - 3.0) ** 2 + 10.0 * (a * b - 1.0) ** 2).backward()
        opt.step()
    expected = _adam_reference([0.5, -1.5], grads, 25, lr=0.05, beta1=0.8, beta2=0.99, eps=1e-6)
    assert [a.data, b.data] == pytest.approx(expected.tolist(), rel=1e-12, abs=1e-12)


def test_adam_first_step_moves_each_parameter_by_lr():
    """With bias correction, step 1 is lr * g / (|g| + eps): about lr whatever the gradient's scale."""
    ps = [Value(0.0), Value(0.0), Value(0.0)]
    opt = Adam(ps, lr=0.01)
    for p, g in zip(ps, (1e-3, 5.0, -2e4)):
        p.grad = g
    opt.step()
    assert [p.data for p in ps] == pytest.approx([-0.01, -0.01, 0.01], rel=1e-4)


def test_adam_trains_xor_through_fit():
    X, y = datasets.xor_gate()
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    history = fit(model, X, y, loss="bce_logits", optimizer=Adam(model.parameters(), lr=0.05), epochs=300)
    assert history.accuracy[-1] == 1.0 and history.loss[-1] < 0.05


def test_adam_refuses_a_squared_gradient_that_overflows():
    p = Value(1.0, "w")
    opt = Adam([p])
    p.grad = 1e200
    with pytest.raises(FloatingPointError, match=r"squared gradient of params\[0\] \(label 'w'\) overflows"):
        opt.step()
    assert p.data == 1.0 and opt.steps == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"lr": 0.0}, ValueError, "lr must be a finite number > 0, got 0.0"),
        ({"lr": "fast"}, TypeError, "lr must be a finite number > 0, got str 'fast'"),
        ({"betas": (0.9, 1.0)}, ValueError, r"betas\[1\] \(beta2\) must be a finite number in \[0, 1\)"),
        ({"betas": 0.9}, TypeError, "betas must be a pair"),
        ({"betas": (0.9,)}, ValueError, "betas must be a pair"),
        ({"eps": -1e-8}, ValueError, "eps must be a finite number > 0"),
    ],
)
def test_adam_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        Adam([Value(1.0)], **kwargs)


def test_optimizers_refuse_a_single_value_as_params():
    with pytest.raises(TypeError, match="params must be an iterable of Values"):
        SGD(Value(1.0), lr=0.1)
