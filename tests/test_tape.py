"""The tape: recording, the three replay levels, reductions, bad input, and traces that branch."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tape_helpers import assert_close, check_tape_against_scalar, scalar_reference

from autograd_gates import (
    GateDomainError,
    GateGradientError,
    GateOverflowError,
    GateZeroDivisionError,
    Value,
    register_gate,
    unregister_gate,
)
from autograd_gates.engine.table import GATES
from autograd_gates.engine.tape import LEVELS, Tape, TraceMismatchError, record
from autograd_gates.engine.tape.compiler import Dense, Map, ParameterDot, Single
from autograd_gates.engine.tape.fusion import fused_schedule
from autograd_gates.engine.value import apply_gate
from autograd_gates.models.losses import l2_penalty
from autograd_gates.models.nn import MLP


def moons_like(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    return X, y


def hinge_tape(model, params, batch, level):
    """micrograd's demo loss on the tape: mean of relu(1 - y * score), plus 1e-4 L2."""

    def per_sample(x0, x1, t):
        score = model([x0, x1])  # one output: a Value
        return (1.0 - t * score).relu(), {"score": score}

    return Tape.trace(per_sample, batch[0], params, names=["x0", "x1", "y"], reduce="mean",
                      then=lambda mean: mean + l2_penalty(params, 1e-4), level=level)


def hinge_scalar(model, params, X, y):
    terms = [(1.0 - t * model(list(x))).relu() for x, t in zip(X.tolist(), y.tolist())]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total / len(terms) + l2_penalty(params, 1e-4)


# -- the micrograd demo step, every level ---------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
def test_demo_step_loss_and_gradients_match_the_scalar_engine(level):
    X, y = moons_like()
    model = MLP(2, [16, 16, 1], seed=1337)
    params = model.parameters()
    total = hinge_scalar(model, params, X, y)
    for p in params:
        p.grad = 0.0
    total.backward()
    expected = np.array([p.grad for p in params])
    for p in params:
        p.grad = 0.0

    batch = np.column_stack([X, y])
    tape = hinge_tape(model, params, batch, level)
    loss = tape.forward(batch)
    grads = tape.backward(inputs=False)
    assert abs(loss - total.data) <= 1e-12 * abs(total.data)
    assert grads.inputs is None
    scale = np.max(np.abs(expected))
    assert np.max(np.abs(grads.parameters - expected)) <= 1e-12 * scale
    assert [p.grad for p in params] == grads.parameters.tolist()
    scores = tape.output("score")
    assert scores.shape == (len(X),)
    expected_scores = np.array([model(list(x)).data for x in X.tolist()])
    assert np.max(np.abs(scores - expected_scores)) <= 1e-12 * np.max(np.abs(expected_scores))


@pytest.mark.parametrize("level", ["interpreted", "compiled"])
def test_unfused_replay_of_add_mul_relu_is_the_scalar_engine_bit_for_bit(level):
    # The same float operations in the same order: not just close, equal.
    X, _ = moons_like(25)
    model = MLP(2, [8, 8, 1], seed=3)
    params = model.parameters()
    tape = Tape.trace(lambda a, b: model([a, b]), X[0], params, level=level)
    scores = tape.forward(X)
    grads = tape.backward()
    for i, row in enumerate(X.tolist()):
        xs = [Value(v) for v in row]
        out = model(xs)
        out.backward()
        assert scores[i] == out.data
        assert grads.inputs[i].tolist() == [x.grad for x in xs]


def test_every_level_matches_per_sample_with_shared_nodes_and_every_gate():
    w = Value(0.7, "w")
    c = Value(-0.4, "c")

    def f(x, y):
        s = x * w + y  # shared below
        t = s * s + (s / (y * y + 1.0)) ** 1.5 + s.max(c) + abs_value(y)
        return (t.exp() + 2.0).log() + (x.arctan() * c) + (y + 3.0) ** (w + 1.0) - s.relu()

    batch = np.random.default_rng(5).uniform(-2, 2, size=(30, 2))
    batch[:, 0] = np.abs(batch[:, 0]) + 0.1  # (s / ...) ** 1.5 needs s > 0: x*w + y with y >= 0
    batch[:, 1] = np.abs(batch[:, 1])
    check_tape_against_scalar(f, batch, [w, c])


def abs_value(v: Value) -> Value:
    return v.max(-v)


# -- recording --------------------------------------------------------------------------------------


def test_program_listing_shows_ops_in_topological_order():
    x = Value(2.0, "x")
    w = Value(3.0, "w")
    b = Value(1.0, "b")
    out = (w * x + b).relu()
    program = record(out, [x], [w, b])
    assert str(program).splitlines() == [
        "%0 = param 'w'",
        "%1 = input 'x' (column 0)  per sample",
        "%2 = mul(%0, %1)           per sample",
        "%3 = param 'b'",
        "%4 = add(%2, %3)           per sample",
        "%5 = relu(%4)              per sample, root",
    ]


def test_gates_of_constants_only_are_folded_with_the_scalar_engines_value():
    x = Value(0.5, "x")
    two = Value(2.0)
    k = (two * 3.0).exp()  # no input, no parameter: one constant
    program = record(x * k, [x])
    kinds = [op.kind for op in program.ops]
    assert kinds == ["input", "const", "gate"]
    assert program.ops[1].value == k.data


def test_a_labelled_leaf_that_is_neither_input_nor_parameter_is_refused():
    x, w = Value(1.0, "x"), Value(2.0, "w")
    with pytest.raises(ValueError, match=r"leaf Value\(data=2.0.*'w'.*neither a data input nor a parameter"):
        record(x * w, [x])
    program = record(x * w, [x], constants=[w])  # frozen on purpose
    assert program.ops[0].kind == "input" and program.ops[1].kind == "const"


@pytest.mark.parametrize(
    "inputs, params, message",
    [
        (lambda x, w: [x * w], lambda x, w: [w], "inputs\\[0\\] is the output of a mul gate"),
        (lambda x, w: [x], lambda x, w: [w, w], "parameters\\[1\\] is the same Value as parameters\\[0\\]"),
        (lambda x, w: [x], lambda x, w: [x], "both a data input and a parameter"),
        (lambda x, w: [x], lambda x, w: [3.0], "parameters\\[0\\] must be a Value"),
    ],
)
def test_recording_refuses_bad_declarations(inputs, params, message):
    x, w = Value(1.0, "x"), Value(2.0, "w")
    with pytest.raises((ValueError, TypeError), match=message):
        record(x * w, inputs(x, w), params(x, w))


def test_inputs_named_by_a_mapping_and_unused_inputs_get_zero_gradient():
    x, unused, w = Value(1.0), Value(5.0), Value(2.0, "w")
    tape = Tape(x * w, {"x": x, "ignored": unused}, [w])
    assert tape.input_names == ("x", "ignored")
    tape.forward([[1.0, 9.0], [2.0, 9.0]])
    grads = tape.backward()
    assert grads.inputs.tolist() == [[2.0, 0.0], [2.0, 0.0]]
    assert grads.parameters.tolist() == [3.0]


# -- reductions, seeds, accumulation ----------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("reduce", ["mean", "sum"])
def test_reduction_over_the_batch_is_part_of_the_program(level, reduce):
    w = Value(1.5, "w")
    batch = np.array([[1.0], [2.0], [4.0]])
    tape = Tape.trace(lambda x: (x * w) ** 2, batch[0], [w], reduce=reduce, then=lambda m: m * 0.5,
                      level=level)
    loss = tape.forward(batch)
    terms = (batch[:, 0] * 1.5) ** 2
    expected = 0.5 * (terms.mean() if reduce == "mean" else terms.sum())
    assert loss == pytest.approx(expected, rel=1e-14)
    grads = tape.backward()
    factor = 0.5 / 3 if reduce == "mean" else 0.5
    assert grads.parameters[0] == pytest.approx(factor * np.sum(2 * 1.5 * batch[:, 0] ** 2), rel=1e-14)
    np.testing.assert_allclose(grads.inputs[:, 0], factor * 2 * 1.5**2 * batch[:, 0], rtol=1e-14)
    assert tape.output("sample").tolist() == terms.tolist()


@pytest.mark.parametrize("level", LEVELS)
def test_backward_accumulates_into_grad_like_value_backward(level):
    w = Value(2.0, "w")
    tape = Tape.trace(lambda x: x * w, [1.0], [w], level=level)
    tape.forward([[1.0], [3.0]])
    tape.backward()
    tape.backward()
    assert w.grad == 8.0  # twice 1 + 3, as calling Value.backward twice doubles
    tape.backward(seed=0.5)
    assert w.grad == 10.0


def test_a_batched_root_seeds_every_sample():
    w = Value(3.0, "w")
    tape = Tape.trace(lambda x: w * x * x, [1.0], [w])
    values = tape.forward([[1.0], [2.0], [-1.0]])
    assert values.tolist() == [3.0, 12.0, 3.0]
    grads = tape.backward()
    assert grads.inputs[:, 0].tolist() == [6.0, 12.0, -6.0]
    assert grads.parameters.tolist() == [6.0]


# -- fusion -----------------------------------------------------------------------------------------


def test_fusion_finds_the_layers_their_activations_and_the_l2_penalty():
    model = MLP(2, [16, 16, 1], seed=1)
    params = model.parameters()
    batch = np.column_stack([*moons_like(10)[0].T, np.ones(10)])
    schedule = fused_schedule(hinge_tape(model, params, batch, "fused").program)
    dense = [item for item in schedule.items if isinstance(item, Dense)]
    maps = [item for item in schedule.items if isinstance(item, Map)]
    assert [(len(d.lanes), len(d.inputs)) for d in dense] == [(16, 2), (16, 16), (1, 16)]
    assert [m.gate.name for m in maps] == ["relu", "relu"]
    assert sum(isinstance(item, ParameterDot) for item in schedule.items) == 1  # sum of p * p
    assert all(d.unique and d.bias is not None for d in dense)
    # Everything else runs op by op: parameters, inputs, and the hinge of the one output.
    assert sum(isinstance(item, Single) for item in schedule.items) < len(params) + 20


def test_fusion_leaves_a_program_without_layers_to_the_plain_schedule():
    w = Value(2.0, "w")
    tape = Tape.trace(lambda x, y: (x * y + w).exp(), [0.1, 0.2], [w], level="fused")
    schedule = fused_schedule(tape.program)
    assert all(isinstance(item, Single) for item in schedule.items)
    check_tape_against_scalar(lambda x, y: (x * y + w).exp(), np.array([[0.1, 0.2], [0.3, -1.0]]), [w])


def test_a_weight_shared_by_two_neurons_gets_both_gradients():
    w, v, b = Value(0.5, "w"), Value(-1.5, "v"), Value(0.25, "b")

    def f(x, y):
        first = b + w * x + v * y
        second = b + v * x + w * y  # the same parameters, swapped
        return first * second

    batch = np.random.default_rng(2).normal(size=(12, 2))
    check_tape_against_scalar(f, batch, [w, v, b])
    schedule = fused_schedule(Tape.trace(f, batch[0], [w, v, b]).program)
    (dense,) = [item for item in schedule.items if isinstance(item, Dense)]
    assert not dense.unique


def test_source_is_the_generated_code():
    w = Value(2.0, "w")
    tape = Tape.trace(lambda x: (x * w).relu(), [1.0], [w])
    source = tape.source("compiled")
    assert "def forward(X, P, PA, N):" in source and "def backward(" in source
    with pytest.raises(ValueError, match="interpreted level runs no generated source"):
        tape.source("interpreted")


# -- bad input --------------------------------------------------------------------------------------


@pytest.fixture
def log_tape():
    w = Value(1.0, "w")
    return w, lambda level: Tape.trace(lambda x: (x * w).log(), [1.0], [w], names=["x"], level=level)


@pytest.mark.parametrize(
    "batch, error, message",
    [
        ([1.0, 2.0], ValueError, r"shape \(n_samples, 1\).*got shape \(2,\)"),
        ([[1.0, 2.0]], ValueError, r"shape \(n_samples, 1\).*data input \['x'\]; got shape \(1, 2\)"),
        (np.ones((0, 1)), ValueError, "batch is empty"),
        ([[1.0], [math.nan]], ValueError, r"holds nan in sample 1, data input 'x' \(column 0\)"),
        ([[math.inf], [1.0], [-math.inf]], ValueError, r"holds inf in sample 0.*2 non-finite entries"),
        ("abc", TypeError, "batch must be a 2-D array"),
        ([[1.0], ["x"]], TypeError, "rectangular 2-D array of numbers"),
    ],
)
def test_a_bad_batch_is_refused_by_name(log_tape, batch, error, message):
    _, make = log_tape
    with pytest.raises(error, match=message):
        make("fused").forward(batch)


@pytest.mark.parametrize("level", LEVELS)
def test_a_domain_error_names_the_gate_the_operand_and_the_sample(log_tape, level):
    w, make = log_tape
    tape = make(level)
    batch = np.linspace(1.0, 5.0, 50)[:, None]
    tape.forward(batch)
    tape.backward()
    grad_before = w.grad
    batch[37, 0] = -2.0
    with pytest.raises(GateDomainError) as info:
        tape.forward(batch)
    message = str(info.value)
    assert "log gate" in message and "sample 37 of the batch" in message
    assert "a = -2.0 (the mul gate at %2)" in message and "log is defined only for a > 0" in message
    assert info.value.sample == 37 and info.value.gate == "log"
    assert w.data == 1.0 and w.grad == grad_before  # nothing changed
    with pytest.raises(RuntimeError, match="call forward"):
        tape.backward()  # the failed forward left nothing to backpropagate
    batch[37, 0] = 2.0
    assert tape.forward(batch) == pytest.approx(np.log(batch[:, 0]))  # and it still works


@pytest.mark.parametrize("level", LEVELS)
def test_division_by_zero_and_overflow_in_a_sample(level):
    w = Value(1.0, "w")
    tape = Tape.trace(lambda x, y: (x / y) + (x * w).exp(), [1.0, 1.0], [w], names=["x", "y"], level=level)
    batch = np.ones((10, 2))
    batch[4, 1] = 0.0
    with pytest.raises(GateZeroDivisionError, match=r"div gate .*b = 0.0 \(data input 'y'\) in sample 4"):
        tape.forward(batch)
    batch[4, 1] = 1.0
    batch[8, 0] = 800.0
    with pytest.raises(GateOverflowError, match=r"exp gate .* in sample 8 of the batch: exp\(a\) overflows"):
        tape.forward(batch)


@pytest.mark.parametrize("level", LEVELS)
def test_an_error_in_the_part_no_sample_reaches_names_the_gate(level):
    w = Value(1.0, "w")
    tape = Tape.trace(lambda x: x + w.log(), [1.0], [w], level=level)
    w.data = -1.0  # as a training step might leave it
    with pytest.raises(GateDomainError, match=r"log gate .*a = -1.0 \(parameter 'w'\) \(for every sample"):
        tape.forward([[1.0]])


def test_a_parameter_set_to_nan_is_refused():
    w = Value(1.0, "w")
    tape = Tape.trace(lambda x: x * w, [1.0], [w])
    w.data = math.nan
    with pytest.raises(ValueError, match="parameter 'w' holds nan"):
        tape.forward([[1.0]])


@pytest.mark.parametrize("level", LEVELS)
def test_a_relu_of_a_parameter_below_its_kink_passes_no_gradient(level):
    # Regression: the compiler once took relu's local derivative for a constant 1 (it was asked
    # only at positive points), giving d/dw = 1 here. Constants now come from the rule's text.
    w = Value(-1.0, "w")
    tape = Tape.trace(lambda x: x + w.relu() + w, [0.0], [w], level=level)
    tape.forward([[0.0], [1.0]])
    assert tape.backward().parameters.tolist() == [2.0]  # 0 from relu, 1 from "+ w", per sample


@pytest.mark.parametrize("level", LEVELS)
def test_an_infinite_gradient_raises_naming_the_gate_and_the_sample_and_changes_nothing(level):
    w = Value(1.0, "w")
    tape = Tape.trace(lambda x: (x * w) ** 0.5, [1.0], [w], level=level)
    tape.forward([[4.0], [0.0], [1.0]])
    with pytest.raises(GateGradientError) as info:
        tape.backward()
    with pytest.raises(GateGradientError) as scalar:
        (Value(0.0) * w).__pow__(0.5).backward()
    assert info.value.sample == 1 and info.value.gate == scalar.value.gate == "pow"
    assert "in sample 1 of the batch gives da = 0.5 * a ** (-0.5) * dx = inf * 1.0 = inf" in str(info.value)
    assert w.grad == 0.0


@pytest.mark.parametrize("level", LEVELS)
def test_an_infinite_rule_times_a_zero_upstream_gradient_contributes_zero(level):
    # The losing side of a max passes nothing back, even where its own rule is infinite (sqrt at 0).
    w = Value(1.0, "w")
    f = lambda x, y: ((x * w) ** 0.5).max(y)  # noqa: E731
    batch = np.array([[0.0, 1.0], [4.0, 1.0], [0.0, 2.0]])
    reference = scalar_reference(f, batch, [w])
    tape = Tape.trace(f, batch[1], [w], level=level)
    tape.forward(batch)
    grads = tape.backward()
    assert grads.parameters.tolist() == reference.param_grads.tolist() == [1.0]  # d sqrt(4w)/dw
    assert grads.inputs.tolist() == reference.input_grads.tolist()


# -- gates added to the table, and gates bringing their own array forms -------------------------------


@pytest.fixture
def registered():
    names = []

    def add(*args, **kwargs):
        gate = register_gate(*args, **kwargs)
        names.append(gate.name)
        return gate

    yield add
    for name in names:
        unregister_gate(name)


def test_a_gate_added_with_register_gate_replays_on_the_tape_the_day_it_is_added(registered):
    cube = registered("cube", lambda a: a * a * a, "3 * a * a")
    w = Value(0.5, "w")
    batch = np.random.default_rng(0).normal(size=(9, 1))
    check_tape_against_scalar(lambda x: apply_gate(cube, x * w + 1.0), batch, [w])


def _soft_array(a):
    # Both branches are computed: exp overflows where it is not chosen (a false alarm for errstate).
    return np.where(a > 0, a + np.log1p(np.exp(-a)), np.log1p(np.exp(a)))


@pytest.mark.parametrize("level", LEVELS)
def test_a_false_alarm_from_a_branch_not_taken_still_gives_the_answer(registered, level):
    soft = registered(
        "soft", lambda a: a + math.log1p(math.exp(-a)) if a > 0 else math.log1p(math.exp(a)),
        "(1 / (1 + exp(-a)) if a > 0 else exp(a) / (1 + exp(a)))", array_forward=_soft_array,
    )
    w = Value(1.0, "w")
    batch = np.array([[800.0], [-800.0], [0.5], [-3.0]])  # exp(800) overflows in the branch not taken
    f = lambda x: apply_gate(soft, x * w)  # noqa: E731
    reference = scalar_reference(f, batch, [w])
    tape = Tape.trace(f, batch[0], [w], level=level)
    assert_close(tape.forward(batch), reference.values, reference.value_scale, "values")
    assert_close(tape.backward().parameters, reference.param_grads, reference.param_scale, "grads")


def test_array_forms_are_the_gates_own():
    from autograd_gates.engine.tape.arrays import array_forms

    mul, log = GATES["mul"], GATES["log"]
    assert array_forms(mul).forward is mul.array_forward
    assert array_forms(mul).partials is mul.array_partials
    assert not array_forms(mul).has_domain and array_forms(log).has_domain


# -- control flow -----------------------------------------------------------------------------------


def branchy(x):
    if x.data > 0:  # Python control flow over .data: the tape cannot see it
        return x * 2.0
    return x * 3.0


def test_a_branch_on_data_is_caught_by_tracing_samples_again():
    batch = np.array([[1.0], [2.0], [-1.0], [4.0]])
    tape = Tape.trace(branchy, batch[0])
    # The replay alone cannot know: it runs the recorded branch for every sample.
    assert tape.forward(batch).tolist() == [2.0, 4.0, -2.0, 8.0]
    expected = r"sample 2 takes another path.*const 2.0.*const 3.0"
    with pytest.raises(TraceMismatchError, match=expected) as info:
        tape.check_trace(batch)
    assert info.value.sample == 2
    tape.check_trace(batch, rows=[0, 1, 3])  # the samples on the recorded branch pass


def test_the_branch_free_form_is_one_trace_for_every_sample():
    def branch_free(x):
        return x * 3.0 - x.relu()  # 2x for x > 0, 3x otherwise, with a gate

    batch = np.array([[1.0], [2.0], [-1.0], [4.0]])
    tape = Tape.trace(branch_free, batch[0])
    tape.check_trace(batch)
    assert tape.forward(batch).tolist() == [2.0, 4.0, -3.0, 8.0]


def test_a_branch_that_changes_the_circuits_shape_is_caught():
    def shape_changes(x, y):
        return x * y if y.data > 0 else x + y + 1.0

    batch = np.array([[1.0, 1.0], [1.0, -1.0]])
    tape = Tape.trace(shape_changes, batch[0])
    with pytest.raises(TraceMismatchError, match=r"sample 1.*recorded `%2 = mul\(%0, %1\)`.*gives `%2 = add"):
        tape.check_trace(batch)


def test_check_trace_needs_a_function():
    x = Value(1.0, "x")
    tape = Tape(x * 2.0, [x])
    with pytest.raises(ValueError, match="cannot trace again"):
        tape.check_trace([[1.0]])
    with pytest.raises(IndexError, match="row 3 is outside the batch of 1"):
        Tape.trace(branchy, [1.0]).check_trace([[1.0]], rows=[3])


def test_trace_arguments_are_checked():
    with pytest.raises(ValueError, match="names has 1 entries but the example has 2"):
        Tape.trace(lambda x, y: x * y, [1.0, 2.0], names=["x"])
    with pytest.raises(ValueError, match="reduce must be one of"):
        Tape.trace(lambda x: x, [1.0], reduce="max")
    with pytest.raises(ValueError, match="then= builds on the reduced value"):
        Tape.trace(lambda x: x, [1.0], then=lambda m: m)
    with pytest.raises(ValueError, match="level must be one of"):
        Tape.trace(lambda x: x * 2.0, [1.0], level="jit")
    with pytest.raises(TypeError, match="fn must return a Value"):
        Tape.trace(lambda x: 3.0, [1.0])
    with pytest.raises(KeyError, match="no output named 'score'"):
        tape = Tape.trace(lambda x: x * 2.0, [1.0])
        tape.forward([[1.0]])
        tape.output("score")
