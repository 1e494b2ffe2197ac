"""SGD and the training loop: the arithmetic, reproducibility, progress, and the slides' demos."""

from __future__ import annotations

import gc
import io
import math

import numpy as np
import pytest

from autograd_gates import Value, datasets
from autograd_gates.losses import mean_squared_error
from autograd_gates.nn import MLP, Neuron
from autograd_gates.optim import SGD, Adam
from autograd_gates.training import (
    ConvergenceWarning,
    DivergenceWarning,
    History,
    Progress,
    as_inputs,
    as_labels,
    fit,
)

# -- SGD -----------------------------------------------------------------------------------


def test_sgd_step_and_zero_grad():
    a, b = Value(1.0, "a"), Value(-2.0, "b")
    opt = SGD([a, b], lr=0.1)
    (a * b).backward()  # da = b = -2, db = a = 1
    opt.step()
    assert (a.data, b.data) == (1.0 + 0.2, -2.0 - 0.1)
    opt.zero_grad()
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_sgd_momentum_by_hand():
    p = Value(0.0)
    opt = SGD([p], lr=0.5, momentum=0.9)
    p.grad = 1.0
    opt.step()  # v = 1, p = -0.5
    p.grad = 1.0
    opt.step()  # v = 0.9 * 1 + 1 = 1.9, p = -0.5 - 0.95
    assert p.data == pytest.approx(-1.45)


def test_sgd_refuses_non_finite_gradients_and_changes_nothing():
    a, b = Value(1.0), Value(2.0, "b")
    opt = SGD([a, b], lr=0.1)
    a.grad, b.grad = 1.0, math.inf
    with pytest.raises(FloatingPointError, match=r"params\[1\] \(label 'b'\) has gradient inf"):
        opt.step()
    assert (a.data, b.data) == (1.0, 2.0)


_shared = Value(1.0)


@pytest.mark.parametrize(
    ("params", "kwargs", "error", "message"),
    [
        ([], {"lr": 0.1}, ValueError, "params is empty"),
        ([1.0], {"lr": 0.1}, TypeError, r"params\[0\] must be a Value"),
        ([Value(1.0) + 1.0], {"lr": 0.1}, ValueError, "add gate; parameters must be leaves"),
        ([Value(1.0)], {"lr": 0.0}, ValueError, "lr must be a finite number > 0, got 0.0"),
        ([_shared, Value(2.0), _shared], {"lr": 0.1}, ValueError, r"params\[2\] is the same Value as"),
        (
            [Value(1.0)],
            {"lr": 0.1, "momentum": 1.5},
            ValueError,
            r"momentum must be a finite number in \[0, 1\], got 1.5",
        ),
    ],
)
def test_sgd_bad_arguments(params, kwargs, error, message):
    with pytest.raises(error, match=message):
        SGD(params, **kwargs)


# -- data checks ---------------------------------------------------------------------------


def test_as_inputs_and_as_labels():
    assert as_inputs([[1, 2], [3, 4]], 2).dtype == float
    with pytest.raises(ValueError, match="X is 1-D with 2 numbers"):
        as_inputs([1.0, 2.0], 2)
    with pytest.raises(ValueError, match=r"X contains inf at row 1, column 0"):
        as_inputs([[0.0, 0.0], [math.inf, 0.0]], 2)
    with pytest.raises(TypeError, match="X must be"):
        as_inputs("abc", 2)
    assert as_labels([[1.0], [0.0]], 2).tolist() == [1.0, 0.0]  # a column is fine
    with pytest.raises(ValueError, match=r"y\[2\] = 0 is not a label in \{-1, 1\}"):
        as_labels([1, -1, 0], 3, allowed=(-1.0, 1.0))


# -- the loop ------------------------------------------------------------------------------


def _xor_model(seed: int = 0) -> MLP:
    return MLP(2, [4, 1], activation="tanh", seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_solves_xor(seed):
    """What no perceptron can do: MLP 2-4-1 (tanh) with cross-entropy from logits, 500 steps
    of lr 0.5 -> 100% accuracy and a loss near 0.01 for each of these seeds."""
    X, y = datasets.xor_gate()
    model = _xor_model(seed)
    history = fit(model, X, y, loss="bce_logits", lr=0.5, epochs=500)
    assert history.accuracy[-1] == 1.0 and history.loss[-1] < 0.05
    assert [1.0 if model(x).data > 0 else 0.0 for x in X] == y.tolist()
    assert history.loss[-1] < history.loss[0] / 30


def test_micrograd_moons_demo_reaches_full_training_accuracy():
    """micrograd's demo: MLP 2-16-16-1 (relu hidden, linear output), 100 two-moons points
    (noise 0.1), labels -1/+1, hinge loss + 1e-4 L2, full-batch SGD with lr = 1.0 - 0.9 k / 100,
    at most 100 steps. Measured here (seed 0 for data, model and loop): 100% after 46 steps.
    The test allows micrograd's whole budget of 100 steps."""
    X, y = datasets.moons(100, noise=0.1, seed=0)
    labels = datasets.signed(y)
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    history = fit(
        model,
        X,
        labels,
        loss="hinge",
        l2=1e-4,
        lr_schedule=lambda k: 1.0 - 0.9 * k / 100,
        epochs=100,
        target_accuracy=1.0,
        progress=False,
    )
    assert history.stopped == "target_accuracy" and history.steps <= 100
    assert history.accuracy[-1] == 1.0
    scores = np.array([model(x).data for x in X])
    assert (np.sign(scores) == labels).all()  # the final weights themselves classify all 100
    assert history.learning_rate[:3] == pytest.approx([1.0, 0.991, 0.982])


def test_same_seed_same_history_with_minibatches():
    X, y = datasets.blobs(40, distance=3.0, seed=1)

    def run(seed):
        model = MLP(2, [3, 1], seed=7)
        return fit(model, X, y, loss="bce_logits", lr=0.3, epochs=5, batch_size=8, seed=seed, momentum=0.5)

    first, second, other = run(0), run(0), run(1)
    assert first == second  # every loss, accuracy and rate, bit for bit
    assert first != other  # the seed drives the shuffling
    assert first.steps == 5 * 5


def test_history_records_loss_accuracy_and_rate_per_epoch():
    X, y = datasets.and_gate()
    history = fit(Neuron(2, "identity", seed=0), X, y, loss="bce_logits", lr=1.0, epochs=7)
    assert isinstance(history, History)
    assert history.epochs == len(history.accuracy) == len(history.learning_rate) == history.steps == 7
    assert history.learning_rate == [1.0] * 7 and history.stopped == "epochs"


def test_regression_has_no_accuracy():
    X, y = datasets.noisy_line(20, seed=0)
    history = fit(Neuron(1, "identity", seed=0), X, y, loss="mse", lr=0.1, epochs=50)
    assert history.accuracy == [] and history.loss[-1] < 0.02


def test_target_accuracy_not_reached_warns():
    X, y = datasets.xor_gate()
    with pytest.warns(ConvergenceWarning, match="did not reach 1.0 in 3 epochs"):
        fit(_xor_model(), X, y, loss="bce_logits", lr=0.1, epochs=3, target_accuracy=1.0)


def test_divergence_stops_and_warns_with_finite_weights():
    X, y = datasets.noisy_line(20, slope=50.0, seed=0)
    X = X * 100
    model = Neuron(1, "identity", seed=0)
    with pytest.warns(DivergenceWarning, match="diverged"):
        history = fit(model, X, y, loss="mse", lr=1.0, epochs=500)
    assert history.stopped == "diverged" and history.epochs < 500
    assert all(math.isfinite(p.data) for p in model.parameters())


def test_an_infinite_gradient_stops_training_before_the_step():
    """sqrt at 0 is finite, its slope is not: nothing is stepped, nothing becomes inf."""
    model = Neuron(1, "identity", weights=[0.0], bias=0.0)
    with pytest.warns(DivergenceWarning, match="diverged in epoch 1"):
        history = fit(model, [[0.0]], [0.0], loss=lambda targets, outputs: outputs[0] ** 0.5, epochs=3)
    assert history.stopped == "diverged" and history.steps == 0 and history.loss == [0.0]
    assert [p.data for p in model.parameters()] == [0.0, 0.0]


def test_an_error_mid_training_puts_the_weights_back():
    X, y = datasets.and_gate()
    model = MLP(2, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    calls = []

    def flaky(targets, outputs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return mean_squared_error(targets, outputs)

    with pytest.raises(RuntimeError, match="boom"):
        fit(model, X, y, loss=flaky, lr=0.1, epochs=10)
    assert [p.data for p in model.parameters()] == before


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "error", "message"),
    [
        ([[0.0, 1.0, 2.0]], [1.0], {}, ValueError, "X has 3 features per sample but the model takes 2"),
        ([[0.0, 1.0]], [0.0], {}, ValueError, r"y\[0\] = 0 is not a label in \{-1, 1\}"),  # hinge needs ±1
        ([[0.0, 1.0]], [1.0], {"loss": "cosine"}, ValueError, "unknown loss 'cosine'"),
        ([[0.0, 1.0]], [1.0], {"epochs": 0}, ValueError, "epochs"),
        (
            [[0.0, 1.0]],
            [1.0],
            {"epochs": True},
            TypeError,
            "epochs must be a positive integer, got bool True",
        ),
        ([[0.0, 1.0]], [1.0], {"epochs": 10.0}, TypeError, "epochs must be a positive integer, got float"),
        ([[0.0, 1.0]], [1.0], {"batch_size": 0}, ValueError, "batch_size"),
        (
            [[0.0, 1.0]],
            [1.0],
            {"lr_schedule": lambda k: -1.0},
            ValueError,
            r"lr_schedule\(0\) must be a finite number > 0, got -1.0",
        ),
        ([[0.0, 1.0]], [1.0], {"loss": "mse", "target_accuracy": 0.9}, ValueError, "predict="),
        ([[0.0, 1.0]], [1.0], {"target_accuracy": "all"}, TypeError, r"target_accuracy .* in \(0, 1\]"),
        (
            [[0.0, 1.0]],
            [1.0],
            {"target_accuracy": 1.5},
            ValueError,
            r"target_accuracy .* in \(0, 1\], got 1.5",
        ),
        (
            [[0.0, 1.0]],
            [1.0],
            {"optimizer": "rmsprop"},
            ValueError,
            "unknown optimizer 'rmsprop'; known: sgd, adam",
        ),
        ([[0.0, 1.0]], [1.0], {"optimizer": SGD}, TypeError, "optimizer must be a name"),
        ([[0.0, 1.0]], [1.0], {"optimizer": "adam", "momentum": 0.9}, ValueError, "momentum= is SGD's"),
        ([[0.0, 1.0]], [1.0], {"progress": "yes"}, TypeError, "progress must be True or False, got str"),
        ([[0.0, 1.0]], [1.0], {"lr_schedule": 0.5}, TypeError, "lr_schedule must be a function, got float"),
        ([[0.0, 1.0]], [1.0], {"lr_schedule": lambda k: "fast"}, TypeError, r"lr_schedule\(0\) must be"),
        ([[0.0, 1.0]], [1.0], {"l2": "none"}, TypeError, "l2 must be a finite number >= 0, got str"),
        ([[0.0, 1.0]], [1.0], {"l2": -1e-4}, ValueError, "l2 must be a finite number >= 0"),
    ],
)
def test_fit_refuses_bad_arguments_before_touching_weights(X, y, kwargs, error, message):
    model = MLP(2, [2, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(error, match=message):
        fit(model, X, y, **kwargs)
    assert [p.data for p in model.parameters()] == before


# -- progress ------------------------------------------------------------------------------


def test_progress_line_only_when_asked_or_slow(capsys):
    X, y = datasets.and_gate()
    fit(Neuron(2, "identity", seed=0), X, y, loss="bce_logits", epochs=3)  # quick: quiet by default
    fit(Neuron(2, "identity", seed=0), X, y, loss="bce_logits", epochs=3, progress=False)
    assert capsys.readouterr().err == ""
    fit(Neuron(2, "identity", seed=0), X, y, loss="bce_logits", epochs=3, progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/3 [#######-------------]  33%  loss " in err and "accuracy" in err
    assert "epoch 3/3 [####################] 100%" in err and err.endswith(" s left)\n")


def test_progress_is_throttled():
    stream = io.StringIO()
    bar = Progress(1000, enabled=True, every=3600.0, stream=stream)
    for epoch in range(1000):
        bar.update(epoch, 0.5, None)
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\repoch 1/1000 [--------------------]   0%  loss 0.5  (")
    assert text.endswith(" s left)\n") and text.count("epoch") == 1


# -- several classes -----------------------------------------------------------------------


def _three_clusters() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    y = np.arange(30) % 3
    return centres[y] + 0.6 * rng.standard_normal((30, 2)), y.astype(float)


def test_softmax_cross_entropy_trains_three_classes():
    X, y = _three_clusters()
    history = fit(MLP(2, [8, 3], seed=0), X, y, loss="softmax_cross_entropy", lr=0.2, epochs=40)
    assert history.loss[0] > math.log(3) > 0.3 > history.loss[-1]  # measured: 3.14 -> 0.14
    assert history.accuracy[-1] == 1.0


def test_softmax_cross_entropy_checks_class_labels_first():
    X, _ = _three_clusters()
    model = MLP(2, [8, 3], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=r"y\[1\] = 1.5 is not a class index"):
        fit(model, X[:3], [0.0, 1.5, 2.0], loss="softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"y\[2\] = 3 is not a class index in 0 .. 2"):
        fit(model, X[:3], [0.0, 1.0, 3.0], loss="softmax_cross_entropy")
    with pytest.raises(ValueError, match=r"y\[1\] = 5 is not a class index in 0 .. 2"):
        fit(model, X[:3], [0.0, 5.0, 2.0], loss="softmax_cross_entropy", batch_size=1)  # not "y[0]"
    assert [p.data for p in model.parameters()] == before


def test_fit_pauses_the_cyclic_collector_and_restores_it():
    seen = []
    X, y = datasets.and_gate()
    model = MLP(2, [1], activation="identity", seed=0)

    def loss(targets, outputs):
        seen.append(gc.isenabled())
        return mean_squared_error(targets, outputs)

    assert gc.isenabled()
    fit(model, X, y, loss=loss, epochs=2, progress=False)
    assert seen == [False, False] and gc.isenabled()
    gc.disable()
    try:
        fit(model, X, y, loss=loss, epochs=1, progress=False)
        assert not gc.isenabled()  # a collector the caller paused stays paused
    finally:
        gc.enable()
    with pytest.raises(ZeroDivisionError):
        fit(model, X, y, loss=lambda t, o: 1 / (o[0] - o[0]), epochs=1, progress=False)
    assert gc.isenabled()


# -- safe stops ----------------------------------------------------------------------------


def test_a_huge_learning_rate_stops_before_any_weight_becomes_infinite():
    """Issue 10: fit warned that it stopped "before applying it" yet left 32 of 33 weights infinite."""
    X, y = datasets.and_gate()
    model = MLP(2, [8, 1], seed=0)
    with pytest.warns(DivergenceWarning, match=r"params\[\d+\] \(label 'L\d\.n\d\.(w\d|b)'\) would go from"):
        history = fit(model, X, 1e3 * y, lr=1e308, loss="mse", progress=False)
    assert all(math.isfinite(p.data) for p in model.parameters())
    assert history.stopped == "diverged" and "would go from" in history.reason


def _run_interrupted(error, **kwargs):
    X, y = datasets.xor_gate()
    model = _xor_model()
    before = [(p.data, p.grad) for p in model.parameters()]
    with pytest.raises(error):
        fit(model, X, y, loss="bce_logits", epochs=50, **{"progress": False, **kwargs})
    assert [(p.data, p.grad) for p in model.parameters()] == before
    assert gc.isenabled()
    return model


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, RuntimeError])
def test_an_interrupt_from_the_schedule_puts_the_weights_back(error):
    """Issue 10: only Exception was rolled back; Ctrl-C (KeyboardInterrupt) or SystemExit mid-run
    left a half-trained model."""

    def schedule(k):
        if k == 7:
            raise error("stop")
        return 0.5

    _run_interrupted(error, lr_schedule=schedule)


def test_an_interrupt_inside_a_step_puts_the_weights_and_the_optimizer_back(monkeypatch):
    X, y = datasets.xor_gate()
    model = _xor_model()
    optimizer = SGD(model.parameters(), lr=0.5, momentum=0.9)
    step = SGD.step
    calls = []

    def interrupted_step(self):
        step(self)  # the fifth step is applied, then Ctrl-C arrives
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(SGD, "step", interrupted_step)
    before = [p.data for p in model.parameters()]
    state = optimizer.state_dict()
    with pytest.raises(KeyboardInterrupt):
        fit(model, X, y, loss="bce_logits", optimizer=optimizer, epochs=50, progress=False)
    assert [p.data for p in model.parameters()] == before
    assert optimizer.state_dict() == state  # the velocity too: a later fit starts as if none ran


def test_an_interrupt_closes_the_progress_line(capsys):
    def schedule(k):
        if k == 3:
            raise KeyboardInterrupt
        return 0.5

    _run_interrupted(KeyboardInterrupt, lr_schedule=schedule, progress=None)  # quiet: nothing shown
    X, y = datasets.xor_gate()
    with pytest.raises(KeyboardInterrupt):
        fit(_xor_model(), X, y, loss="bce_logits", epochs=50, progress=True, lr_schedule=schedule)
    err = capsys.readouterr().err
    assert err.startswith("\repoch 1/50") and err.endswith("\n")


# -- optimizers in fit ---------------------------------------------------------------------


def test_fit_with_adam_by_name_and_by_instance_agree():
    X, y = datasets.xor_gate()
    by_name = fit(_xor_model(), X, y, loss="bce_logits", optimizer="adam", lr=0.05, epochs=30)
    model = _xor_model()
    by_instance = fit(model, X, y, loss="bce_logits", optimizer=Adam(model.parameters(), lr=0.05), epochs=30)
    assert by_name == by_instance and by_name.learning_rate[0] == 0.05
    default = fit(_xor_model(), X, y, loss="bce_logits", optimizer="adam", epochs=1)
    assert default.learning_rate == [0.001]


def test_fit_refuses_settings_for_an_optimizer_it_did_not_build():
    X, y = datasets.xor_gate()
    model = _xor_model()
    with pytest.raises(ValueError, match="lr= and momentum= configure the optimizer fit builds"):
        fit(model, X, y, loss="bce_logits", optimizer=Adam(model.parameters()), lr=0.1)
    with pytest.raises(ValueError, match="holds none of the model's parameters"):
        fit(model, X, y, loss="bce_logits", optimizer=Adam(_xor_model().parameters()))


# -- what fit says -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "loss", "message"),
    [
        (
            [0.0, 1.0],
            "hinge",
            r"y\[0\] = 0 is not a label in \{-1, 1\}\. loss='hinge' \(fit's default\) takes the labels -1 "
            r"and \+1; for labels 0/1 pass loss='bce_logits' .*datasets\.signed\(y\)",
        ),
        (
            [1.0, -1.0],
            "bce_logits",
            r"y\[1\] = -1 is not a label in \{0, 1\}\. loss='bce_logits' takes the labels 0 and 1; "
            r"for labels -1/\+1 pass loss='hinge', or convert them with \(y \+ 1\) / 2",
        ),
        ([1.0, -1.0], "bce", r"loss='bce' takes the labels 0 and 1"),
    ],
)
def test_a_label_error_says_which_loss_wants_what(labels, loss, message):
    """Issue 11: fit(model, X, y) with 0/1 labels said only "y[0] = 0 is not a label in {-1, 1}"."""
    with pytest.raises(ValueError, match=message):
        fit(MLP(2, [2, 1], seed=0), [[0.0, 1.0], [1.0, 0.0]], labels, loss=loss)


def test_an_early_stop_is_said_in_the_progress_report_and_the_history(capsys):
    """Issue 11: the last progress line read "epoch 46/100" and nothing said that fit had stopped."""
    X, y = datasets.and_gate()
    history = fit(
        Neuron(2, "identity", seed=0),
        X,
        y,
        loss="bce_logits",
        lr=1.0,
        epochs=100,
        target_accuracy=1.0,
        progress=True,
    )
    assert history.stopped == "target_accuracy" and history.epochs < 100
    expected = (
        f"stopped in epoch {history.epochs} of 100: training accuracy 1.000 reached "
        f"target_accuracy=1.0 after {history.steps} steps"
    )
    assert history.reason == expected
    lines = capsys.readouterr().err.split("\r")[-1].splitlines()
    assert lines[0].startswith(f"epoch {history.epochs}/100 [") and "%  loss " in lines[0]
    assert lines[1] == expected and len(lines) == 2


def test_a_full_run_says_so_without_an_extra_line(capsys):
    X, y = datasets.and_gate()
    history = fit(Neuron(2, "identity", seed=0), X, y, loss="bce_logits", epochs=3, progress=True)
    assert history.stopped == "epochs" and history.reason == "ran all 3 epochs (3 steps)"
    assert capsys.readouterr().err.split("\r")[-1].startswith("epoch 3/3 [####################] 100%  loss ")
