"""The slides' models: Perceptron, Adaline, SigmoidNeuron, and the MLP building blocks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from autograd_gates import Value, datasets, gradcheck
from autograd_gates.activations import PReLU, elu, identity, tanh
from autograd_gates.nn import MLP, Adaline, Layer, Neuron, Perceptron, SigmoidNeuron
from autograd_gates.training import ConvergenceWarning, DivergenceWarning

# -- Neuron, Layer, MLP --------------------------------------------------------------------


def test_neuron_computes_activation_of_weighted_sum():
    n = Neuron(3, "tanh", weights=[0.5, -1.0, 2.0], bias=0.25)
    x = [1.0, 2.0, -0.5]
    out = n(x)
    s = 0.25 + 0.5 * 1.0 - 1.0 * 2.0 + 2.0 * -0.5
    assert out.data == pytest.approx(math.tanh(s), rel=1e-14)
    out.backward()
    assert [w.grad for w in n.w] == pytest.approx([(1 - math.tanh(s) ** 2) * xi for xi in x])
    assert n.b.grad == pytest.approx(1 - math.tanh(s) ** 2)


def test_mlp_parameter_count_and_zero_grad():
    model = MLP(2, [16, 16, 1], seed=0)
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1) == 337
    out = model([0.5, -1.0])
    assert isinstance(out, Value)  # one output neuron: a Value, as in micrograd
    out.backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


def test_a_layer_of_size_one_inside_a_network():
    """A one-neuron Layer called alone returns its Value (micrograd's shape); inside an MLP the
    layers pass lists (Layer.forward), so a bottleneck of one works, where micrograd's broke."""
    layer = Layer(3, 1, seed=0)
    assert isinstance(layer([1.0, 2.0, 3.0]), Value)
    assert isinstance(layer.forward([1.0, 2.0, 3.0]), list)
    model = MLP(2, [4, 1, 3, 1], activation="tanh", seed=1)
    out = model([0.3, -0.2])
    assert isinstance(out, Value) and model.forward([0.3, -0.2])[0].data == out.data
    out.backward()
    assert all(math.isfinite(p.grad) for p in model.parameters())
    assert any(p.grad != 0 for p in model.layers[0].parameters())  # gradient flows through the bottleneck


def test_mlp_takes_values_and_passes_gradients_to_them():
    model = MLP(2, [3, 1], activation="sigmoid", seed=2)
    x = [Value(0.4, "x0"), Value(-1.2, "x1")]
    out = model(x)
    out.backward()
    h = 1e-6
    for i in range(2):
        up = [v.data for v in x]
        down = list(up)
        up[i] += h
        down[i] -= h
        numeric = (model(up).data - model(down).data) / (2 * h)
        assert x[i].grad == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    assert gradcheck(lambda a, b: model([a, b]), [0.4, -1.2]).outcome == "pass"


def test_activations_by_name_function_and_prelu():
    model = MLP(2, [2, 1], activation="elu", seed=0)
    assert [n.activation for n in model.layers[0].neurons] == [elu, elu]
    assert model.layers[1].neurons[0].activation is identity  # the output layer stays linear
    model = MLP(2, [2, 1], activation=tanh, seed=0)
    assert model.layers[0].neurons[0].activation is tanh
    model = MLP(2, [3, 1], activation="prelu", seed=0)
    slopes = [n.activation for n in model.layers[0].neurons]
    assert all(isinstance(s, PReLU) for s in slopes) and len({id(s) for s in slopes}) == 3
    assert len(model.parameters()) == 3 * 3 + 3 + 4  # each hidden neuron owns its slope
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        MLP(2, [2, 1], activation="relux")


def test_initialisation_is_reproducible_from_a_seed():
    def weights(seed):
        return [p.data for p in MLP(2, [4, 1], seed=seed).parameters()]

    assert weights(5) == weights(5)
    assert weights(5) != weights(6)
    # One generator feeds every neuron in turn, so no two neurons start alike.
    layer = Layer(2, 3, seed=np.random.default_rng(5))
    assert len({tuple(w.data for w in n.w) for n in layer.neurons}) == 3


@pytest.mark.parametrize(
    ("x", "error", "message"),
    [
        ([1.0, 2.0, 3.0], ValueError, "MLP takes 2 inputs, got 3"),
        ([1.0, math.nan], ValueError, "input 1 is nan"),
        ([1.0, "2"], TypeError, "input 1 must be a number"),
        (Value(1.0), TypeError, "sequence of 2"),
        (np.ones((1, 2)), ValueError, "one sample"),
    ],
)
def test_mlp_bad_input(x, error, message):
    with pytest.raises(error, match=message):
        MLP(2, [3, 1], seed=0)(x)


def test_mlp_with_several_outputs_returns_a_list():
    out = MLP(2, [3, 2], seed=0)([0.1, 0.2])
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(o, Value) for o in out)
    assert isinstance(Layer(2, 2, seed=0)([0.1, 0.2]), list)


def test_micrograd_keywords():
    """micrograd's names: Neuron(nin, nonlin=True), Layer(nin, nout, nonlin=...), MLP(nin, nouts)."""
    assert Neuron(3, nonlin=False, seed=0).activation is identity
    assert Neuron(nin=3, nonlin=True, seed=0).activation.__name__ == "relu"
    assert Neuron(3, seed=0).activation.__name__ == "relu"  # micrograd's default too
    layer = Layer(nin=2, nout=3, nonlin=False, seed=0)
    assert (layer.n_inputs, layer.n_outputs) == (2, 3)
    assert all(n.activation is identity for n in layer.neurons)
    model = MLP(nin=2, nouts=[4, 1], seed=0)
    assert (model.n_inputs, model.n_outputs, len(model.parameters())) == (2, 1, 17)
    with pytest.raises(TypeError, match="both activation='tanh' and micrograd's nonlin=True"):
        Neuron(3, "tanh", nonlin=True)
    with pytest.raises(TypeError, match="both activation='relu' and micrograd's nonlin=False"):
        Neuron(3, "relu", nonlin=False)  # an explicit "relu" is told apart from the default
    with pytest.raises(TypeError, match="nonlin must be True or False, got int 1"):
        Neuron(3, nonlin=1)
    with pytest.raises(TypeError, match="both n_inputs= and micrograd's nin="):
        Neuron(3, nin=3)
    with pytest.raises(TypeError, match="MLP needs sizes \\(micrograd calls it nouts\\)"):
        MLP(2)


def test_mlp_bad_construction():
    with pytest.raises(TypeError, match="sizes must be a list of layer sizes"):
        MLP(2, 16)
    with pytest.raises(ValueError, match="sizes"):
        MLP(2, [])
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        MLP(2, [3, 0])
    with pytest.raises(ValueError, match="n_inputs"):
        Neuron(0)
    with pytest.raises(ValueError, match=r"weights must be a sequence of n_inputs = 2 numbers, got \[1.0\]"):
        Neuron(2, weights=[1.0])
    with pytest.raises(TypeError, match="weights must be a sequence of n_inputs = 2 numbers, got float"):
        Neuron(2, weights=1.0)
    with pytest.raises(TypeError, match="n_inputs must be a positive integer, got float 2.0"):
        Neuron(2.0)
    with pytest.raises(TypeError, match=r"Value\('w0'\) must be a number"):
        Neuron(2, weights=["a", 1.0])
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        MLP(2, [1], activation="relux")  # one layer never uses `activation`: still refused


# -- Perceptron ----------------------------------------------------------------------------


@pytest.mark.parametrize("make", [datasets.and_gate, datasets.or_gate])
def test_perceptron_learns_and_or_to_zero_errors(make):
    X, y = make()
    model = Perceptron(2, lr=0.1, seed=0)
    errors = model.fit(X, y, epochs=50)
    assert errors[-1] == 0 and all(e > 0 for e in errors[:-1])  # stops at the first clean epoch
    assert model.converged_ is True
    assert model.predict(X).tolist() == y.tolist()


def test_perceptron_never_learns_xor_and_says_so():
    X, y = datasets.xor_gate()
    model = Perceptron(2, lr=0.1, seed=0)
    with pytest.warns(ConvergenceWarning, match="did not converge in 100 epochs.*linearly separable"):
        errors = model.fit(X, y, epochs=100)
    assert len(errors) == 100 and min(errors) > 0
    assert model.converged_ is False
    assert (model.predict(X) != y).sum() >= 1


def test_perceptron_rule_one_step_by_hand():
    model = Perceptron(2, lr=0.5, init_scale=0.0)  # w = 0, b = 0: step(0) = 1
    assert model.converged_ is None  # not trained yet
    with pytest.warns(ConvergenceWarning):
        model.fit([[2.0, -1.0]], [0.0], epochs=1)
    # y - y_hat = 0 - 1 = -1: w += 0.5 * -1 * x, b += 0.5 * -1
    assert model.weights.tolist() == [-1.0, 0.5] and model.bias == -0.5
    model.fit([[2.0, -1.0]], [0.0], epochs=1)  # now right: no change, converged
    assert model.weights.tolist() == [-1.0, 0.5] and model.converged_
    # net input -1 * 2 + 0.5 * -1 - 0.5 = -3; the model's output is its step
    assert model.net_input([2.0, -1.0]).data == -3.0 and model([2.0, -1.0]).data == 0.0
    assert model.predict([[2.0, -1.0], [0.0, 2.0]]).tolist() == [0.0, 1.0]  # 0 + 1 - 0.5 >= 0


def _tight_margin_set(margin: float = 0.02, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]^2, labelled by the line 0.6 x1 + 0.8 x2 + 0.1 = 0, none within ``margin``."""
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (20 * n, 2))
    distance = points @ np.array([0.6, 0.8]) + 0.1
    keep = np.abs(distance) > margin
    return points[keep][:n], (distance[keep][:n] > 0).astype(float)


def _direction(model: Perceptron) -> np.ndarray:
    v = np.r_[model.weights, model.bias]
    return v / np.linalg.norm(v)


def test_perceptron_from_different_starts_finds_nearly_the_same_line():
    """The slides' claim. Ten starts with weights and bias drawn N(0, 1) point every which way
    (their unit vectors (w1, w2, b) are up to ~2 apart); after training, the ten unit vectors
    lie within 0.1 of each other (measured: 0.06). This holds because the data leave little
    room: with a margin of 0.02 every separating line is close to the true one."""
    X, y = _tight_margin_set()
    starts, ends = [], []
    for seed in range(10):
        model = Perceptron(2, lr=0.1, seed=seed, init_scale=1.0)
        starts.append(_direction(model))
        model.fit(X, y, epochs=500)
        assert model.converged_
        ends.append(_direction(model))
    spread = max(np.linalg.norm(a - b) for a in ends for b in ends)
    start_spread = max(np.linalg.norm(a - b) for a in starts for b in starts)
    assert start_spread > 1.0
    assert spread < 0.1
    true = np.array([0.6, 0.8, 0.1]) / np.linalg.norm([0.6, 0.8, 0.1])
    assert max(np.linalg.norm(e - true) for e in ends) < 0.1


def test_perceptron_lines_differ_when_the_margin_is_wide():
    """The limit of that claim: the perceptron stops at the *first* separating line, so on
    well-separated blobs different starts end on visibly different lines (measured: 1.68)."""
    X, y = datasets.blobs(100, distance=8.0, seed=1)
    ends = []
    for seed in range(10):
        model = Perceptron(2, lr=0.1, seed=seed, init_scale=1.0)
        model.fit(X, y, epochs=100)
        assert model.converged_
        ends.append(_direction(model))
    assert max(np.linalg.norm(a - b) for a in ends for b in ends) > 0.5


def test_perceptron_from_zero_learning_rate_only_scales_the_weights():
    """Errata note: from w = 0 the rule's lr multiplies every weight, so no prediction changes."""
    X, y = datasets.blobs(60, distance=3.0, seed=2)
    slow, fast = Perceptron(2, lr=0.01, init_scale=0.0), Perceptron(2, lr=0.5, init_scale=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert slow.fit(X, y, epochs=20) == fast.fit(X, y, epochs=20)
    assert np.allclose(fast.weights, 50 * slow.weights) and fast.bias == pytest.approx(50 * slow.bias)


# -- Adaline -------------------------------------------------------------------------------


def test_adaline_gradients_from_backward_equal_the_closed_form():
    X, y = datasets.noisy_line(20, seed=3)
    X = np.c_[X, X[:, 0] ** 2]
    model = Adaline(2, seed=4, init_scale=1.0)
    y_hat = X @ model.weights + model.bias
    dw, db = model.gradients(X, y)
    assert dw == pytest.approx(-((y - y_hat) @ X), rel=1e-12)  # -(y - y_hat) . x
    assert db == pytest.approx(-(y - y_hat).sum(), rel=1e-12)
    assert model.cost(X, y).data == pytest.approx(0.5 * ((y - y_hat) ** 2).sum(), rel=1e-12)
    assert all(p.grad == 0.0 for p in model.parameters())  # gradients() leaves no residue


def _least_squares_cost(X: np.ndarray, y: np.ndarray) -> float:
    A = np.c_[X, np.ones(len(X))]
    solution = np.linalg.lstsq(A, y, rcond=None)[0]
    return 0.5 * float(((A @ solution - y) ** 2).sum())


def test_adaline_learning_rates_slow_good_and_diverging():
    """The slides' claim, on the AND table, batch mode, 30 epochs (J_min = 0.125):
    lr 0.01 creeps down (0.466 -> 0.236, still ~1.9 J_min); lr 0.1 gets within 3% of J_min;
    lr 0.5 overshoots: the weights flip sign every epoch and the cost grows 4.1-4.8x per epoch."""
    X, y = datasets.and_gate()
    j_min = _least_squares_cost(X, y)
    assert j_min == pytest.approx(0.125)
    slow = Adaline(2, lr=0.01, seed=0).fit(X, y, epochs=30)
    good = Adaline(2, lr=0.1, seed=0).fit(X, y, epochs=30)
    wild_model = Adaline(2, lr=0.5, seed=0)
    biases = []
    wild = []
    for _ in range(30):
        wild += wild_model.fit(X, y, epochs=1)
        biases.append(wild_model.bias)
    assert all(b < a for a, b in zip(slow, slow[1:]))  # steadily down...
    assert slow[-1] > 1.5 * j_min  # ...but far from the minimum after 30 epochs
    assert good[-1] < 1.03 * j_min
    assert all(b > 4 * a for a, b in zip(wild, wild[1:]))  # up, every epoch
    assert wild[-1] > 1e15
    assert all(a * b < 0 for a, b in zip(biases[1:], biases[2:]))  # oscillating sign


def test_adaline_online_with_a_large_rate_never_settles():
    """Online (per sample) at lr 0.5 the weights cycle: the cost stays at 0.3125, 2.5 J_min."""
    X, y = datasets.and_gate()
    online = Adaline(2, lr=0.5, seed=0, mode="online").fit(X, y, epochs=30)
    assert online[-1] == pytest.approx(0.3125, rel=1e-6) and online[-2] == pytest.approx(online[-1], rel=1e-6)
    good = Adaline(2, lr=0.1, seed=0, mode="online").fit(X, y, epochs=30)
    assert good[-1] < 1.03 * 0.125


def test_adaline_divergence_stops_before_overflow_and_warns():
    X, y = datasets.and_gate()
    model = Adaline(2, lr=0.5, seed=0)
    with pytest.warns(DivergenceWarning, match="diverged"):
        history = model.fit(X, y, epochs=2000)
    assert model.diverged_ and history[-1] == math.inf and len(history) < 2000
    assert all(math.isfinite(p.data) for p in model.parameters())


def test_adaline_regression_on_a_noisy_line():
    X, y = datasets.noisy_line(50, slope=2.0, intercept=-1.0, noise=0.1, seed=0)
    model = Adaline(1, lr=0.01, seed=0)
    history = model.fit(X, y, epochs=200)
    assert not model.diverged_ and model.cost_ is history
    assert history[-1] == pytest.approx(_least_squares_cost(X, y), rel=1e-3)
    assert model.weights[0] == pytest.approx(2.0, abs=0.1) and model.bias == pytest.approx(-1.0, abs=0.1)
    assert model.predict([[0.5]])[0] == pytest.approx(0.0, abs=0.1)


# -- SigmoidNeuron -------------------------------------------------------------------------


def test_sigmoid_neuron_on_separable_blobs():
    X, y = datasets.blobs(100, distance=5.0, seed=0)
    assert Perceptron(2, seed=0).fit(X, y, epochs=100)[-1] == 0  # proof that the set is separable
    model = SigmoidNeuron(2, lr=0.5, seed=0)
    history = model.fit(X, y, epochs=50)
    accuracy = (model.predict(X) == y).mean()
    assert accuracy >= 0.95  # measured: 0.99 (and 0.97 on the overlapping default blobs)
    assert history.loss[-1] < 0.1 < 0.69 < history.loss[0]  # from log(2) at the start; measured 0.035
    probs = model.predict_proba(X)
    assert ((probs >= 0.5) == (model.predict(X) == 1)).all()
    assert model(X[0]).data == pytest.approx(probs[0])
    assert model.history_ is history


# -- bad input: clear errors, nothing half-trained -----------------------------------------

BAD_DATA = [
    ([[0.0, 0.0, 1.0]], [0.0], "X has 3 features per sample but the model takes 2"),
    ([[0.0, 0.0], [1.0, 1.0]], [0.0, 2.0], r"y\[1\] = 2 is not a label in \{0, 1\}"),
    (np.empty((0, 2)), [], "X is empty"),
    ([[0.0, math.nan], [1.0, 1.0]], [0.0, 1.0], "X contains nan at row 0, column 1"),
    ([[0.0, 0.0], [1.0, 1.0]], [0.0, math.nan], r"y\[1\] = nan"),
    ([[0.0, 0.0], [1.0, 1.0]], [0.0], "y has 1 labels but X has 2 samples"),
    ([[0.0, 0.0], [1.0]], [0.0, 1.0], "rectangular"),
]


@pytest.mark.parametrize(
    ("make", "X", "y", "message"),
    [
        pytest.param(make, X, y, message, id=f"{make.__name__}-{i}")
        for make in (Perceptron, SigmoidNeuron, Adaline)
        for i, (X, y, message) in enumerate(BAD_DATA)
        # Adaline does regression: any finite target is a label (tested below)
        if not (make is Adaline and "not a label" in message)
    ],
)
def test_bad_data_is_refused_before_any_weight_changes(make, X, y, message):
    model = make(2, seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=message):
        model.fit(X, y)
    assert [p.data for p in model.parameters()] == before


@pytest.mark.parametrize("make", [Perceptron, SigmoidNeuron, Adaline], ids=lambda m: m.__name__)
def test_data_that_is_not_numbers_is_a_type_error(make):
    model = make(2, seed=0)
    with pytest.raises(TypeError, match="X must be a 2-D array of numbers"):
        model.fit([["a", "b"]], [1.0])
    with pytest.raises(TypeError, match="y must be a 1-D array of numbers"):
        model.fit([[0.0, 1.0]], ["one"])


@pytest.mark.parametrize("make", [Perceptron, SigmoidNeuron, Adaline], ids=lambda m: m.__name__)
def test_a_bad_sample_is_named_by_the_model(make):
    with pytest.raises(ValueError, match=f"{make.__name__} takes 2 inputs, got 3"):
        make(2, seed=0)([1.0, 2.0, 3.0])


def test_adaline_accepts_real_targets_and_refuses_a_bad_epoch_count():
    model = Adaline(2, seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match="epochs"):
        model.fit([[0.0, 1.0]], [2.5], epochs=0)
    assert [p.data for p in model.parameters()] == before
    model.fit([[0.0, 1.0]], [2.5], epochs=1)
    assert [p.data for p in model.parameters()] != before


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Perceptron(2, lr=0.0), "lr"),
        (lambda: Perceptron(2, lr=math.nan), "lr"),
        (lambda: Adaline(2, mode="minibatch"), "mode"),
        (lambda: SigmoidNeuron(0), "n_inputs"),
        (lambda: Perceptron(2, init_scale=-1.0), "init_scale"),
        (lambda: Adaline(2, init_scale=math.inf), "init_scale must be a finite number >= 0, got inf"),
    ],
)
def test_bad_model_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_shared_activation_object_is_one_parameter():
    """One PReLU object for a whole layer: its slope is listed once, so SGD steps it once."""
    shared = PReLU(0.1)
    model = MLP(2, [3, 1], activation=shared, seed=0)
    params = model.parameters()
    assert sum(p is shared.alpha for p in params) == 1
    assert len(params) == 3 * 3 + 4 + 1


# -- safe stops: no infinite weight, nothing half-trained ----------------------------------


@pytest.mark.parametrize("make", [Perceptron, SigmoidNeuron, Adaline], ids=lambda m: m.__name__)
def test_a_huge_learning_rate_never_writes_an_infinite_weight(make):
    """Issue 10: Perceptron(2, lr=1e308).fit(10 * X, y) ended with weights [inf, inf]."""
    X, y = datasets.and_gate()
    model = make(2, lr=1e308, seed=0)
    with pytest.warns(DivergenceWarning, match=r"'w\d'\)? would go from .* to -?inf"):
        model.fit(10 * X, y)
    assert all(math.isfinite(p.data) for p in model.parameters())
    assert model.diverged_ if make is not SigmoidNeuron else model.history_.stopped == "diverged"


def test_perceptron_divergence_is_not_convergence():
    X, y = datasets.and_gate()
    model = Perceptron(2, lr=1e308, seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(10 * X, y)
    assert [w.category for w in caught] == [DivergenceWarning]
    assert model.converged_ is False and model.diverged_


def _interrupt_after(model, calls: int, error: type[BaseException] = KeyboardInterrupt):
    """Make the model's neuron raise ``error`` (Ctrl-C by default) on its ``calls``-th forward."""
    forward = model.neuron.forward
    seen = []

    def interrupted(xs):
        seen.append(1)
        if len(seen) == calls:
            raise error()
        return forward(xs)

    model.neuron.forward = interrupted


@pytest.mark.parametrize("make", [Perceptron, SigmoidNeuron, Adaline], ids=lambda m: m.__name__)
@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
def test_ctrl_c_mid_fit_puts_the_weights_back(make, error):
    """Issue 10: fit restored the weights on Exception only; Ctrl-C left a half-trained model."""
    X, y = datasets.xor_gate()  # never converges: every epoch changes the weights
    model = make(2, lr=0.5, seed=0)
    before = [(p.data, p.grad) for p in model.parameters()]
    _interrupt_after(model, 4 * 5 + 2, error)  # in the sixth epoch
    # The scalar engine calls the neuron for every sample; the tape only while tracing
    # (test_tape_training interrupts a fit on the tape).
    engine = {"engine": "scalar"} if make is SigmoidNeuron else {}
    with pytest.raises(error):
        model.fit(X, y, epochs=50, **engine)
    assert [(p.data, p.grad) for p in model.parameters()] == before
