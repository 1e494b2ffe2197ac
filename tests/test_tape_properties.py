"""Property tests: on random expressions and random MLPs the tape is the scalar engine, at every level.

For every sample: the root's value and each data input's gradient; over the batch: each
parameter's summed gradient. Equal to ``1e-12`` relative to the size of the computation (see
``tape_helpers``), at the interpreted, compiled and fused levels.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from tape_helpers import check_tape_against_scalar, scalar_reference

from autograd_gates import GateGradientError, Value, topological_order
from autograd_gates.engine.circuit import build
from autograd_gates.engine.formula import parse
from autograd_gates.engine.tape import LEVELS, Tape
from autograd_gates.models.nn import MLP
from autograd_gates.strategies import expressions, in_domain

COORDINATE = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def expression_batches(draw):
    """An expression in x0, x1 (data) and x2 (a parameter), and a batch of points inside its domain."""
    expr = draw(expressions(3, max_leaves=8))
    assume({"x0", "x1"} & set(expr.variables))  # a root no data reaches is one number, not one per sample
    p = draw(COORDINATE)
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        row = (draw(COORDINATE), draw(COORDINATE))
        if in_domain(expr, (*row, p)):
            rows.append(row)
    assume(rows)
    return expr, p, np.array(rows)


@settings(max_examples=100, deadline=None)
@example((parse("x0 / x0"), 0.0, np.array([[2.1975825e-166, 0.0]])))  # the scalar backward refuses
@example((parse("x0 * (x1 / x1)"), 0.0, np.array([[0.0, 3.70353507e-214]])))  # an infinite rule times dx = 0
# e / e: the gradient cancels to 1e-17 or to 0 depending on the last bit of x0 ** k (math or numpy)
@example((parse("-(x0 ** 0.9792784652284876 + (x0 + x0)) / -(x0 ** 0.9792784652284876 + (x0 + x0))"),
          0.0, np.array([[1.86050505, 0.0]])))
@given(expression_batches())
def test_random_expressions_replay_as_the_scalar_engine(case):
    expr, p, batch = case
    param = Value(p, "p")
    f = lambda a, b: build(expr, {"x0": a, "x1": b, "x2": param})  # noqa: E731
    try:
        scalar_reference(f, batch, [param])
    except GateGradientError:
        # A local derivative overflows in some sample (x0 / x0 at x0 = 1e-166): so must the tape's.
        for level in LEVELS:
            tape = Tape.trace(f, batch[0], [param], level=level)
            tape.forward(batch)
            with pytest.raises(GateGradientError):
                tape.backward()
        return
    check_tape_against_scalar(f, batch, [param])


ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "arctan", "identity"]


def kink_margin(roots: list[Value]) -> float:
    """How close any relu or max gate in the circuits comes to its kink, relative to its operands."""
    margin = np.inf
    for root in roots:
        for node in topological_order(root):
            if node.gate is not None and node.gate.name in ("relu", "max"):
                a = node.parents[0].data
                b = node.parents[1].data if len(node.parents) == 2 else 0.0
                if node.gate.name == "max" and node.parents[0] is node.parents[1]:
                    continue
                margin = min(margin, abs(a - b) / max(abs(a), abs(b), 1e-300))
    return margin


@settings(max_examples=60, deadline=None)
@given(
    n_inputs=st.integers(1, 4),
    sizes=st.lists(st.integers(1, 6), min_size=1, max_size=3),
    activation=st.sampled_from(ACTIVATIONS),
    n_samples=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_mlps_replay_as_the_scalar_engine(n_inputs, sizes, activation, n_samples, seed):
    model = MLP(n_inputs, sizes, activation=activation, seed=seed)
    params = model.parameters()
    rng = np.random.default_rng(seed)
    batch = rng.uniform(-2.0, 2.0, size=(n_samples, n_inputs))
    weights = rng.uniform(-1.0, 1.0, size=sizes[-1]).tolist()

    def per_sample(*xs):
        outputs = model(list(xs))
        outputs = outputs if isinstance(outputs, list) else [outputs]  # one output: a Value
        total = outputs[0] * weights[0]
        for out, c in zip(outputs[1:], weights[1:]):
            total = total + out * c
        return total

    # A sum reordered by a matrix product may land on the other side of a relu's kink when it
    # is within rounding of it: then the two engines are both right about different sides.
    reference = scalar_reference(per_sample, batch, params)
    assume(kink_margin(reference.circuits) > 1e-9)
    check_tape_against_scalar(per_sample, batch, params)
