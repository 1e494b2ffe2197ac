"""The perceptron rule on AND and OR: starting points, learning rates, and XOR, which it cannot learn.

The perceptron ``y_hat = step(w . x + b)`` learns with the perceptron rule, one sample at a time,
not with a gradient (the step's derivative is 0)::

    w_i = w_i + lr * (y - y_hat) * x_i        b = b + lr * (y - y_hat)

    python examples/00_perceptron.py out/
"""

from __future__ import annotations

import warnings

import numpy as np
from _support import heading, parse_args, pyplot, save

from autograd_gates.datasets import and_gate, or_gate, xor_gate
from autograd_gates.nn import Perceptron
from autograd_gates.training import ConvergenceWarning

# The slides' "Caso 01" and "Caso 02": two different starting points (w1, w2, b).
STARTS = {"start 1": (1.0, -1.0, 0.5), "start 2": (-0.5, 0.8, -0.2)}


def perceptron_from(start: tuple[float, float, float], lr: float) -> Perceptron:
    model = Perceptron(2, lr=lr)
    *w, b = start
    for weight, value in zip(model.neuron.w, w):
        weight.data = value
    model.neuron.b.data = b
    return model


def train_by_epoch(model: Perceptron, X, y, max_epochs: int):
    """Train one epoch at a time; return the (w1, w2, b) after each epoch and the errors per epoch."""
    path = [(*model.weights, model.bias)]
    errors: list[int] = []
    accuracies: list[float] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch rarely converges; we check below
        for _ in range(max_epochs):
            errors += model.fit(X, y, epochs=1)
            path.append((*model.weights, model.bias))
            accuracies.append(float(np.mean(model.predict(X) == y)))
            if errors[-1] == 0:
                break
    return path, errors, accuracies


def describe(name: str, errors: list[int], path) -> str:
    w1, w2, b = path[-1]
    weights = f"w = [{w1:+.3f}, {w2:+.3f}], b = {b:+.3f}"
    if errors[-1] == 0:
        return f"{name}: converged after {len(errors)} epochs ({sum(errors)} updates); {weights}"
    return f"{name}: not converged after {len(errors)} epochs; {weights}"


def boundary(ax, w1: float, w2: float, b: float, **style) -> None:
    """Draw the line w1 x1 + w2 x2 + b = 0 on [-0.5, 1.5]^2."""
    xs = np.array([-0.5, 1.5])
    if abs(w2) > 1e-12:
        ax.plot(xs, -(w1 * xs + b) / w2, **style)
    elif abs(w1) > 1e-12:
        ax.axvline(-b / w1, **style)


def points(ax, X, y, title: str) -> None:
    for label, marker, color in ((0, "o", "tab:blue"), (1, "s", "tab:red")):
        chosen = X[y == label]
        ax.scatter(*chosen.T, marker=marker, s=90, c=color, edgecolor="k", zorder=3, label=f"y = {label}")
    ax.set_xlim(-0.5, 1.5)
    ax.set_ylim(-0.5, 1.5)
    ax.set_aspect("equal")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(title)


def plot_starting_points(runs: dict):
    """AND and OR: the line each starting point starts on (dotted) and ends on (solid)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(7, 4))
    for ax, name in zip(axes, ("AND", "OR")):
        X, y = and_gate() if name == "AND" else or_gate()
        points(ax, X, y, name)
        for start_name, color in (("start 1", "tab:green"), ("start 2", "tab:purple")):
            path, _ = runs[name, start_name]
            boundary(ax, *path[0], color=color, linestyle=":", linewidth=1)
            boundary(ax, *path[-1], color=color, linewidth=2, label=f"{start_name}: final (dotted: initial)")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    fig.suptitle("The line each starting point ends on (a point on a line counts as y = 1)")
    return fig


def plot_learning_rates(lr_paths: dict):
    """AND from the same start with two learning rates: the line after every epoch."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(7, 3.6))
    X, y = and_gate()
    for ax, (lr, path) in zip(axes, lr_paths.items()):
        points(ax, X, y, f"AND, lr = {lr}: {len(path) - 1} epochs")
        shown = path if len(path) <= 12 else path[:: max(1, len(path) // 10)] + [path[-1]]
        for i, params in enumerate(shown):
            shade = 0.2 + 0.8 * i / max(1, len(shown) - 1)
            boundary(ax, *params, color=plt.cm.viridis(shade), linewidth=1.5 if params is path[-1] else 1)
        ax.text(-0.45, -0.45, "dark -> light: epoch by epoch", fontsize=8)
    return fig


def plot_xor(X_xor, y_xor, xor_path, xor_errors: list[int], runs: dict):
    """XOR: the last line (a point is always wrong) and the mistakes per epoch next to AND's and OR's."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(7, 4))
    points(left, X_xor, y_xor, "XOR: every line misclassifies a point")
    boundary(left, *xor_path[-1], color="tab:green", linewidth=2, label=f"line after epoch {len(xor_errors)}")
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    shown_epochs = min(40, len(xor_errors))  # by then XOR's weights cycle: later epochs repeat it
    curves = (
        ("XOR", xor_errors, 2.5),
        ("AND", runs["AND", "start 1"][1], 1),
        ("OR", runs["OR", "start 1"][1], 1),
    )
    for name, errors, width in curves:
        errors = errors[:shown_epochs]
        right.plot(range(1, len(errors) + 1), errors, marker="o", markersize=3, linewidth=width, label=name)
    right.set_xlabel("epoch")
    right.set_ylabel("mistakes (= weight updates)")
    right.set_title(f"Mistakes per epoch (first {shown_epochs})")
    right.set_yticks(range(5))
    right.legend()
    return fig


def main() -> None:
    args = parse_args(__doc__)
    max_epochs = 30 if args.quick else 100
    runs = {}

    heading("AND and OR with the perceptron rule (lr = 0.1), from two starting points")
    for name, (X, y) in (("AND", and_gate()), ("OR", or_gate())):
        for start_name, start in STARTS.items():
            path, errors, _ = train_by_epoch(perceptron_from(start, 0.1), X, y, max_epochs)
            runs[name, start_name] = path, errors
            print(f"{describe(name, errors, path)}   [{start_name}: w1, w2, b = {start}]")
    print("different starting points end on different, but equally correct, separating lines")

    heading("Learning rate: 0.01 vs 0.5 on AND, from start 1")
    X, y = and_gate()
    lr_paths = {}
    for lr in (0.01, 0.5):
        path, errors, _ = train_by_epoch(perceptron_from(STARTS["start 1"], lr), X, y, 1000)
        lr_paths[lr] = path
        print(describe(f"learning rate {lr}", errors, path))
    print("lr = 0.01 moves the line a little per update, so it needs many epochs; lr = 0.5 jumps,")
    print("reaching a solution in a few epochs. On separable data the perceptron converges for any lr > 0")
    print("(the perceptron convergence theorem); with lr too large it is gradient descent that overshoots,")
    print("see examples/01_adaline.py.")

    heading("XOR: not linearly separable")
    X_xor, y_xor = xor_gate()
    xor_path, xor_errors, accuracies = train_by_epoch(
        perceptron_from(STARTS["start 1"], 0.1), X_xor, y_xor, max_epochs
    )
    if xor_errors[-1]:
        print(f"XOR: not converged after {len(xor_errors)} epochs, best accuracy {max(accuracies):.0%}")
    else:
        print("XOR: converged (unexpected!)")
    print(f"errors per epoch: {xor_errors[:12]}{' ...' if len(xor_errors) > 12 else ''}")
    rounded = [tuple(round(v, 9) for v in params) for params in xor_path]
    period = next((p for p in range(1, len(rounded)) if rounded[-1 - p] == rounded[-1]), None)
    if period is not None:
        first = rounded.index(rounded[-1])
        print(f"the weights cycle: from epoch {first} on they come back every {period} epoch(s), forever")
    print("no line puts (0,1) and (1,0) on one side and (0,0), (1,1) on the other:")
    print("at least one of the four points is always misclassified")

    if pyplot() is None:
        return
    save(plot_starting_points(runs), args.out, "perceptron_and_or.png")
    save(plot_learning_rates(lr_paths), args.out, "perceptron_learning_rate.png")
    save(plot_xor(X_xor, y_xor, xor_path, xor_errors, runs), args.out, "perceptron_xor.png")

if __name__ == "__main__":
    main()
