"""Coming from micrograd: its README example and its demo notebook run here with only the import
lines changed, and give micrograd's numbers.

Each program below is run twice, as text, by ``exec``: once after micrograd's import lines and
once after ours. Nothing else in the program changes. The programs are copied from micrograd
(the README's examples and the code cells of ``demo.ipynb``); the demo's plotting lines are left
out (no figure is compared), and so is its ``from sklearn.datasets import make_moons``:
scikit-learn is not a dependency here, so ``make_moons`` below re-implements sklearn's function
line for line (same arcs, same ``np.random`` draws in the same order). That it is faithful is
checked by the published numbers: micrograd, fed this data, prints the notebook's own losses.

Weights: with ``seed=None`` our ``Neuron`` draws its weights from Python's ``random`` exactly as
micrograd's does, so after ``random.seed(1337)`` both libraries build the same network. The
tests that copy micrograd's weights into ours check the arithmetic without relying on that.
"""

from __future__ import annotations

import contextlib
import gc
import io
import random
import re

import numpy as np
import pytest

micrograd_engine = pytest.importorskip("micrograd.engine")
micrograd_nn = pytest.importorskip("micrograd.nn")

from autograd_gates import Value  # noqa: E402
from autograd_gates import nn as our_nn  # noqa: E402
from autograd_gates.training import fit  # noqa: E402

MICROGRAD = "from micrograd.engine import Value\nfrom micrograd.nn import Neuron, Layer, MLP\n"
OURS = "from autograd_gates import Value\nfrom autograd_gates.nn import Neuron, Layer, MLP\n"

TOLERANCE = 1e-9


def make_moons(n_samples=100, shuffle=True, noise=None, random_state=None):
    """scikit-learn's ``make_moons`` (sklearn/datasets/_samples_generator.py), with
    ``random_state=None``: the global ``np.random`` state, as the demo uses it."""
    generator = np.random.mtrand._rand if random_state is None else np.random.RandomState(random_state)
    n_samples_out = n_samples // 2
    n_samples_in = n_samples - n_samples_out
    outer_circ_x = np.cos(np.linspace(0, np.pi, n_samples_out))
    outer_circ_y = np.sin(np.linspace(0, np.pi, n_samples_out))
    inner_circ_x = 1 - np.cos(np.linspace(0, np.pi, n_samples_in))
    inner_circ_y = 1 - np.sin(np.linspace(0, np.pi, n_samples_in)) - 0.5
    X = np.vstack([np.append(outer_circ_x, inner_circ_x), np.append(outer_circ_y, inner_circ_y)]).T
    y = np.hstack([np.zeros(n_samples_out, dtype=np.intp), np.ones(n_samples_in, dtype=np.intp)])
    if shuffle:  # sklearn.utils.shuffle: a permutation of the indices, drawn from the same generator
        indices = np.arange(n_samples)
        generator.shuffle(indices)
        X, y = X[indices], y[indices]
    if noise is not None:
        X += generator.normal(scale=noise, size=X.shape)
    return X, y


def run(imports: str, program: str, **names: object) -> dict:
    """Execute ``imports + program`` in a fresh namespace and return it."""
    namespace = {"__name__": "program", **names}
    exec(compile(imports + program, "<program>", "exec"), namespace)
    return namespace


def close(ours: float, theirs: float) -> bool:
    return abs(ours - theirs) <= TOLERANCE * max(1.0, abs(theirs))


# -- micrograd's README ---------------------------------------------------------------------

README_EXAMPLE = """
a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
print(f'{g.data:.4f}') # prints 24.7041, the outcome of this forward pass
g.backward()
print(f'{a.grad:.4f}') # prints 138.8338, i.e. the numerical value of dg/da
print(f'{b.grad:.4f}') # prints 645.5773, i.e. the numerical value of dg/db
"""


def test_readme_example_prints_micrograds_numbers(capsys):
    theirs = run(MICROGRAD, README_EXAMPLE)
    printed = capsys.readouterr().out
    ours = run(OURS, README_EXAMPLE)
    assert capsys.readouterr().out == printed == "24.7041\n138.8338\n645.5773\n"
    for name in "abcdefg":
        assert close(ours[name].data, theirs[name].data), name
    assert close(ours["a"].grad, theirs["a"].grad) and close(ours["b"].grad, theirs["b"].grad)


README_NEURON = """
from {package} import nn
n = nn.Neuron(2)
x = [Value(1.0), Value(-2.0)]
y = n(x)
y.backward()
"""


def test_readme_neuron_gives_micrograds_value_and_gradients():
    random.seed(7)
    theirs = run(MICROGRAD, README_NEURON.format(package="micrograd"))
    random.seed(7)
    ours = run(OURS, README_NEURON.format(package="autograd_gates"))
    assert [p.data for p in ours["n"].parameters()] == [p.data for p in theirs["n"].parameters()]
    assert close(ours["y"].data, theirs["y"].data)
    for mine, theirs_ in zip(ours["x"] + ours["n"].parameters(), theirs["x"] + theirs["n"].parameters()):
        assert close(mine.grad, theirs_.grad)


# -- the MLP call shapes --------------------------------------------------------------------

TINY_MLP = """
n = MLP(3, [4, 4, 1])
xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
ys = [1.0, -1.0, -1.0, 1.0]
ypred = [n(x) for x in xs]
loss = sum((yout - ygt)**2 for ygt, yout in zip(ys, ypred))
n.zero_grad()
loss.backward()
for p in n.parameters():
    p.data += -0.05 * p.grad
ypred_after = [n(x).data for x in xs]
linear = Neuron(3, nonlin=False)
out = linear([1.0, -2.0, 0.5])
layer_out = Layer(3, 2, nonlin=False)([1.0, -2.0, 0.5])
"""


def test_a_one_output_mlp_returns_a_value_so_micrograds_loss_works():
    """Issue 11: MLP(3, [4, 4, 1])(x) returned a one-element list, so (yout - ygt)**2 raised TypeError."""
    random.seed(1)
    theirs = run(MICROGRAD, TINY_MLP)
    random.seed(1)
    ours = run(OURS, TINY_MLP)
    assert isinstance(ours["ypred"][0], Value)
    assert close(ours["loss"].data, theirs["loss"].data)
    for mine, their in zip(ours["n"].parameters(), theirs["n"].parameters()):
        assert close(mine.grad, their.grad) and close(mine.data, their.data)
    assert all(close(a, b) for a, b in zip(ours["ypred_after"], theirs["ypred_after"]))
    assert close(ours["out"].data, theirs["out"].data)  # Neuron(3, nonlin=False): linear, both sides
    assert isinstance(ours["layer_out"], list) and len(ours["layer_out"]) == 2


def test_copied_weights_give_micrograds_values_and_gradients():
    """Without relying on the shared random stream: micrograd's weights copied into a network of
    ours built from another seed, then one sample's output and every gradient compared."""
    random.seed(3)
    theirs = micrograd_nn.MLP(3, [4, 4, 1])
    ours = our_nn.MLP(3, [4, 4, 1], seed=123)
    assert [p.data for p in ours.parameters()] != [p.data for p in theirs.parameters()]
    for mine, their in zip(ours.parameters(), theirs.parameters()):
        mine.data = their.data
    x = [2.0, -3.0, 0.5]
    out_theirs = theirs([micrograd_engine.Value(v) for v in x])
    out_ours = ours([Value(v) for v in x])
    (out_theirs * out_theirs).backward()
    (out_ours * out_ours).backward()
    assert close(out_ours.data, out_theirs.data)
    for mine, their in zip(ours.parameters(), theirs.parameters()):
        assert close(mine.grad, their.grad)


# -- micrograd's demo notebook --------------------------------------------------------------

DEMO = """
np.random.seed(1337)
random.seed(1337)

# make up a dataset
X, y = make_moons(n_samples=100, noise=0.1)
y = y*2 - 1 # make y be -1 or 1

# initialize a model
model = MLP(2, [16, 16, 1]) # 2-layer neural network
print(model)
print("number of parameters", len(model.parameters()))

# loss function
def loss(batch_size=None):

    # inline DataLoader :)
    if batch_size is None:
        Xb, yb = X, y
    else:
        ri = np.random.permutation(X.shape[0])[:batch_size]
        Xb, yb = X[ri], y[ri]
    inputs = [list(map(Value, xrow)) for xrow in Xb]

    # forward the model to get scores
    scores = list(map(model, inputs))

    # svm "max-margin" loss
    losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    # L2 regularization
    alpha = 1e-4
    reg_loss = alpha * sum((p*p for p in model.parameters()))
    total_loss = data_loss + reg_loss

    # also get accuracy
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
    return total_loss, sum(accuracy) / len(accuracy)

total_loss, acc = loss()
print(total_loss, acc)

# optimization
for k in range(STEPS):

    # forward
    total_loss, acc = loss()

    # backward
    model.zero_grad()
    total_loss.backward()

    # update (sgd)
    learning_rate = 1.0 - 0.9*k/100
    for p in model.parameters():
        p.data -= learning_rate * p.grad

    if k % 1 == 0:
        print(f"step {k} loss {total_loss.data}, accuracy {acc*100}%")

# visualize decision boundary (the plotting lines left out)
h = 0.25
x_min, x_max = X[:, 0].min() - 1, X[:, 0].max() + 1
y_min, y_max = X[:, 1].min() - 1, X[:, 1].max() + 1
xx, yy = np.meshgrid(np.arange(x_min, x_max, h),
                     np.arange(y_min, y_max, h))
Xmesh = np.c_[xx.ravel(), yy.ravel()]
inputs = [list(map(Value, xrow)) for xrow in Xmesh]
scores = list(map(model, inputs))
Z = np.array([s.data > 0 for s in scores])
Z = Z.reshape(xx.shape)
"""

# What the notebook printed for its first steps (demo.ipynb, cell 7).
PUBLISHED = [
    (0, 0.8958441028683222, 50.0),
    (1, 1.7235905336972022, 81.0),
    (2, 0.7429006313851131, 77.0),
]
STEP_LINE = re.compile(r"step (\d+) loss (\S+), accuracy (\S+)%")


def _steps(printed: str) -> list[tuple[int, float, float]]:
    return [(int(k), float(loss), float(acc)) for k, loss, acc in STEP_LINE.findall(printed)]


@pytest.fixture(scope="module")
def demo_runs():
    """The demo, three steps, through micrograd and through autograd_gates: for each, what it
    printed, its final parameters (data, grad) and its decision-boundary mesh ``Z``.

    The cyclic garbage collector is paused while each runs and the program's graphs are freed
    right after: no number depends on the collector, and micrograd's closures (a reference cycle
    per node) leave millions of objects that would otherwise slow a later, unrelated test.
    """
    names = {"np": np, "random": random, "make_moons": make_moons, "STEPS": len(PUBLISHED)}
    runs = {}
    for name, imports in (("micrograd", MICROGRAD), ("ours", OURS)):
        printed = io.StringIO()
        gc.disable()
        try:
            with contextlib.redirect_stdout(printed):
                namespace = run(imports, DEMO, **names)
            parameters = [(p.data, p.grad) for p in namespace["model"].parameters()]
            runs[name] = {"printed": printed.getvalue(), "parameters": parameters, "Z": namespace["Z"]}
            del namespace
        finally:
            gc.enable()
            gc.collect()
    return runs


def test_the_demo_prints_the_same_steps_as_micrograd(demo_runs):
    """Issue 11: the demo's hinge loss (1 + -yi*scorei).relu() raised "can't multiply sequence by
    non-int of type 'numpy.float64'" because the MLP returned a list."""
    theirs, ours = _steps(demo_runs["micrograd"]["printed"]), _steps(demo_runs["ours"]["printed"])
    assert len(ours) == len(theirs) == len(PUBLISHED)
    for (k, loss, acc), (k2, loss2, acc2) in zip(ours, theirs):
        assert k == k2 and acc == acc2 and close(loss, loss2)
    assert "number of parameters 337" in demo_runs["ours"]["printed"]


def test_the_demo_reproduces_the_notebooks_published_losses(demo_runs):
    for name in ("micrograd", "ours"):
        printed = _steps(demo_runs[name]["printed"])
        for (k, loss, acc), (k2, published, published_acc) in zip(printed, PUBLISHED):
            assert k == k2 and acc == published_acc
            assert abs(loss - published) <= 1e-12 * published, (name, k)


def test_the_demo_ends_with_the_same_model_and_decision_boundary(demo_runs):
    theirs, ours = demo_runs["micrograd"], demo_runs["ours"]
    assert len(ours["parameters"]) == len(theirs["parameters"]) == 337
    for (data, grad), (their_data, their_grad) in zip(ours["parameters"], theirs["parameters"]):
        assert close(data, their_data) and close(grad, their_grad)
    assert ours["Z"].shape == theirs["Z"].shape and (ours["Z"] == theirs["Z"]).all()


def test_fit_runs_the_demos_loop(demo_runs):
    """training.fit with the demo's settings takes micrograd's steps: same losses, same accuracy."""
    np.random.seed(1337)
    X, y = make_moons(n_samples=100, noise=0.1)
    random.seed(1337)
    model = our_nn.MLP(2, [16, 16, 1])
    history = fit(
        model,
        X,
        y * 2 - 1,
        loss="hinge",
        l2=1e-4,
        lr_schedule=lambda k: 1.0 - 0.9 * k / 100,
        epochs=len(PUBLISHED),
        progress=False,
    )
    for (_, loss, acc), fitted_loss, fitted_acc in zip(
        _steps(demo_runs["micrograd"]["printed"]), history.loss, history.accuracy
    ):
        assert close(fitted_loss, loss) and fitted_acc * 100 == acc
    for mine, (their_data, _) in zip(model.parameters(), demo_runs["micrograd"]["parameters"]):
        assert close(mine.data, their_data)
