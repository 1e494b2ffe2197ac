"""Training on the tape: ``fit(..., engine="tape")`` gives ``engine="scalar"``'s results, to rounding."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autograd_gates import Value
from autograd_gates.datasets import moons, signed
from autograd_gates.engine.tape import TraceMismatchError
from autograd_gates.models import losses
from autograd_gates.nn import MLP, Neuron, SigmoidNeuron
from autograd_gates.training import DivergenceWarning, fit

X, Y01 = moons(n_samples=60, noise=0.1, seed=1)
SIGNED = signed(Y01)


def train(engine: str, loss: str, y: np.ndarray, outputs: int = 1, output_activation: str = "identity",
          **kwargs):
    model = MLP(2, [8, outputs], activation="tanh", output_activation=output_activation, seed=3)
    lr = 0.2 / len(X) if loss == "sum_of_squares" else 0.2  # a sum, not a mean: a step per sample's size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = fit(model, X, y, loss=loss, lr=lr, epochs=15, progress=False, engine=engine, **kwargs)
    return history, np.array([p.data for p in model.parameters()])


CASES = [
    ("hinge", SIGNED, 1, "identity"),
    ("bce_logits", Y01, 1, "identity"),
    ("bce", Y01, 1, "sigmoid"),
    ("mse", Y01, 1, "identity"),
    ("sum_of_squares", Y01, 1, "identity"),
    ("softmax_cross_entropy", Y01, 2, "identity"),
]


@pytest.mark.parametrize("loss, y, outputs, activation", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_every_loss_by_name_trains_the_same_on_the_tape(loss, y, outputs, activation, batch_size):
    scalar, w_scalar = train("scalar", loss, y, outputs, activation, batch_size=batch_size, l2=1e-3)
    tape, w_tape = train("tape", loss, y, outputs, activation, batch_size=batch_size, l2=1e-3)
    assert (scalar.engine, tape.engine) == ("scalar", "tape")
    np.testing.assert_allclose(tape.loss, scalar.loss, rtol=1e-10)
    assert tape.accuracy == scalar.accuracy
    assert tape.learning_rate == scalar.learning_rate and tape.steps == scalar.steps
    np.testing.assert_allclose(w_tape, w_scalar, rtol=0, atol=1e-10 * np.max(np.abs(w_scalar)))


def test_micrograds_demo_trains_the_same_on_the_tape_as_on_the_scalar_engine():
    Xm, ym = moons(n_samples=100, noise=0.1, seed=1)
    histories = {}
    for engine in ("scalar", "tape"):
        model = MLP(2, [16, 16, 1], activation="relu", seed=1337)
        histories[engine] = fit(model, Xm, signed(ym), loss="hinge", l2=1e-4, epochs=30, progress=False,
                                lr_schedule=lambda k: 1.0 - 0.9 * k / 100, engine=engine)
    np.testing.assert_allclose(histories["tape"].loss, histories["scalar"].loss, rtol=1e-10)
    assert histories["tape"].accuracy == histories["scalar"].accuracy


def test_auto_leaves_a_tiny_step_to_the_scalar_engine():
    from autograd_gates.datasets import and_gate

    X4, y4 = and_gate()  # 4 samples, 3 parameters: 12 parameter-samples per step
    assert SigmoidNeuron(2, seed=0).fit(X4, y4, epochs=2).engine == "scalar"
    assert SigmoidNeuron(2, seed=0).fit(X4, y4, epochs=2, engine="tape").engine == "tape"
    assert SigmoidNeuron(2, seed=0).fit(X, Y01, epochs=2).engine == "tape"  # 3 x 60


def test_auto_takes_the_tape_for_a_loss_by_name_and_the_scalar_engine_for_a_function():
    model = MLP(2, [4, 1], seed=0)
    assert fit(model, X, SIGNED, loss="hinge", epochs=2, progress=False).engine == "tape"
    mine = lambda y, out: losses.hinge(y, out)  # noqa: E731 - a loss function of one's own
    history = fit(model, X, SIGNED, loss=mine, epochs=2, progress=False)
    assert history.engine == "scalar"
    with pytest.raises(ValueError, match="engine='tape' needs a loss by name"):
        fit(model, X, SIGNED, loss=mine, epochs=2, engine="tape")
    with pytest.raises(ValueError, match="engine must be one of"):
        fit(model, X, SIGNED, epochs=2, engine="gpu")


class Branchy:
    """A model that branches on its data: a different circuit on each side of x0 = 0."""

    n_inputs = 2

    def __init__(self) -> None:
        self.neuron = Neuron(2, "identity", seed=0)

    def __call__(self, x):
        x = [v if isinstance(v, Value) else Value(v) for v in x]
        out = self.neuron(x)
        return out * 2.0 if x[0].data > 0 else out * 3.0

    def parameters(self):
        return self.neuron.parameters()


def test_a_model_that_branches_on_its_data_trains_on_the_scalar_engine_under_auto():
    history = fit(Branchy(), X, SIGNED, epochs=2, progress=False)
    assert history.engine == "scalar"
    model = Branchy()
    before = [p.data for p in model.parameters()]
    with pytest.raises(TraceMismatchError, match="takes another path through the traced function"):
        fit(model, X, SIGNED, epochs=2, progress=False, engine="tape")
    assert [p.data for p in model.parameters()] == before


def test_a_diverging_run_stops_the_same_way_on_the_tape():
    histories = {}
    for engine in ("scalar", "tape"):
        model = MLP(2, [8, 1], activation="relu", seed=0)
        with pytest.warns(DivergenceWarning):
            histories[engine] = fit(model, X * 1e150, SIGNED, lr=1e150, epochs=20, progress=False,
                                    engine=engine)
    assert histories["tape"].stopped == histories["scalar"].stopped == "diverged"
    assert histories["tape"].steps == histories["scalar"].steps
    np.testing.assert_allclose(histories["tape"].loss, histories["scalar"].loss, rtol=1e-12)


def test_probabilities_outside_0_1_are_refused_and_nothing_is_changed():
    model = MLP(2, [4, 1], seed=0)  # identity output: not a probability
    before = [p.data for p in model.parameters()]
    for engine in ("scalar", "tape"):
        with pytest.raises(ValueError, match=r"probabilities\[\d+\] = .* is not a probability"):
            fit(model, X, Y01, loss="bce", epochs=3, progress=False, engine=engine)
        assert [p.data for p in model.parameters()] == before


def test_a_predict_of_ones_own_gives_the_accuracy_on_the_tape_too():
    def always_one(out):
        return 1.0

    for engine in ("scalar", "tape"):
        model = MLP(2, [4, 1], seed=0)
        history = fit(model, X, SIGNED, epochs=2, predict=always_one, progress=False, engine=engine)
        assert history.accuracy == [float(np.mean(SIGNED == 1.0))] * 2


@pytest.mark.parametrize("engine", ["scalar", "tape"])
def test_sigmoid_neuron_fit_takes_the_engine(engine):
    model = SigmoidNeuron(2, lr=0.5, seed=0)
    history = model.fit(X, Y01, epochs=10, engine=engine)
    assert history.engine == engine
    reference = SigmoidNeuron(2, lr=0.5, seed=0)
    other = reference.fit(X, Y01, epochs=10, engine="scalar" if engine == "tape" else "tape")
    np.testing.assert_allclose(history.loss, other.loss, rtol=1e-12)


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit, RuntimeError])
def test_an_interrupted_fit_on_the_tape_puts_everything_back(monkeypatch, error):
    from autograd_gates.engine.tape import Tape

    model = MLP(2, [4, 1], seed=0)
    before = [(p.data, p.grad) for p in model.parameters()]
    forward = Tape.forward
    calls = []

    def interrupted(self, batch):
        calls.append(1)
        if len(calls) == 6:  # in the sixth epoch: five steps were taken
            raise error()
        return forward(self, batch)

    monkeypatch.setattr(Tape, "forward", interrupted)
    with pytest.raises(error):
        fit(model, X, SIGNED, epochs=50, progress=False, engine="tape")
    assert len(calls) == 6
    assert [(p.data, p.grad) for p in model.parameters()] == before


class Unsized:
    """A model of one's own that does not say how many outputs it has."""

    def __init__(self) -> None:
        self.mlp = MLP(2, [4, 2], seed=0)

    def __call__(self, x):
        return self.mlp(x)

    def parameters(self):
        return self.mlp.parameters()


def test_softmax_on_the_tape_needs_the_number_of_classes():
    with pytest.raises(ValueError, match="needs the number of classes: the model has no n_outputs"):
        fit(Unsized(), X, Y01, loss="softmax_cross_entropy", epochs=2, engine="tape")
    history = fit(Unsized(), X, Y01, loss="softmax_cross_entropy", epochs=2, progress=False)
    assert history.engine == "scalar"
