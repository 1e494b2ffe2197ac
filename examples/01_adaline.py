"""Adaline vs the perceptron on the same data; Adaline's gradients from backward() vs the closed form.

Adaline keeps the perceptron's ``w . x + b`` but drops the step: its output is linear, so it knows
*how much* it erred and can follow the gradient of ``J = 1/2 sum_i (y_i - y_hat_i)^2``::

    dJ/dw = -sum_i (y_i - y_hat_i) x_i        w = w - lr * dJ/dw = w + lr * sum_i (y_i - y_hat_i) x_i

(The slide writes the update as ``w - lr (y - y_hat) x``; with the error ``y - y_hat`` the sign is
``+``, as the derivation on the same slide gives.)

    python examples/01_adaline.py out/
"""

from __future__ import annotations

import warnings

import numpy as np
from _support import heading, parse_args, pyplot, save

from autograd_gates.datasets import and_gate, blobs
from autograd_gates.nn import Adaline, Perceptron
from autograd_gates.training import ConvergenceWarning, DivergenceWarning


def closed_form(model: Adaline, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The slides' result: dJ/dw = -(y - y_hat) . X, dJ/db = -sum (y - y_hat)."""
    error = y - (X @ model.weights + model.bias)
    return -(error @ X), -float(error.sum())


def accuracy_of_line(predict, X, y) -> float:
    return float(np.mean(predict(X) == y))


def critical_learning_rate(X: np.ndarray) -> float:
    """The rate below which batch gradient descent on J is stable: 2 / the largest eigenvalue of X^T X.

    (X with a column of ones for the bias.)
    """
    augmented = np.hstack([X, np.ones((len(X), 1))])
    return float(2 / np.linalg.eigvalsh(augmented.T @ augmented).max())


def learning_rate_runs(X: np.ndarray, y: np.ndarray, rates, epochs: int) -> dict:
    """Adaline trained from the same start at each rate.

    Returns ``{rate: (cost per epoch, "it converges" or "it diverges")}``.
    """
    runs = {}
    for lr in rates:
        model = Adaline(2, lr=lr, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            history = model.fit(X, y, epochs=epochs)
        trend = "it diverges" if model.diverged_ or history[-1] > history[0] else "it converges"
        runs[lr] = history, trend
    return runs


def plot_adaline_vs_perceptron(X, y, adaline: Adaline, perceptron: Perceptron, runs: dict, critical: float):
    """The two separating lines, Adaline's cost at each learning rate, and Adaline's outputs."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(7, 6.4))
    panels = fig.subplot_mosaic([["lines", "outputs"], ["cost", "cost"]])
    left, middle, right = panels["lines"], panels["cost"], panels["outputs"]
    for label, marker, color in ((0, "o", "tab:blue"), (1, "s", "tab:red")):
        left.scatter(*X[y == label].T, marker=marker, c=color, s=16, edgecolor="k", label=f"y = {label}")
    xs = np.array([X[:, 0].min(), X[:, 0].max()])
    (w1, w2), b = adaline.weights, adaline.bias
    label = "Adaline: w.x + b = 0.5"
    left.plot(xs, (0.5 - b - w1 * xs) / w2, color="tab:green", linewidth=2, label=label)
    (p1, p2), pb = perceptron.weights, perceptron.bias
    label = "Perceptron: w.x + b = 0"
    left.plot(xs, -(pb + p1 * xs) / p2, color="tab:purple", linestyle="--", linewidth=2, label=label)
    left.set_ylim(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5)
    left.set_title("The two separating lines")
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    for lr, (history, trend) in runs.items():
        finite = [c for c in history if np.isfinite(c)]
        middle.plot(range(1, len(finite) + 1), finite, marker="o", markersize=2, label=f"lr = {lr}: {trend}")
    middle.set_yscale("log")
    middle.set_xlabel("epoch")
    middle.set_ylabel("J = 1/2 sum (y - y_hat)^2")
    middle.set_title(f"Adaline's cost (log scale); stable only for lr < {critical:.5f}")
    middle.legend()
    outputs = adaline.predict(X)
    bins = np.linspace(outputs.min(), outputs.max(), 25)
    right.hist(outputs[y == 0], bins=bins, color="tab:blue", alpha=0.7, label="y = 0")
    right.hist(outputs[y == 1], bins=bins, color="tab:red", alpha=0.7, label="y = 1")
    right.axvline(0.5, color="black", linestyle="--", label="threshold 0.5")
    right.set_xlabel("Adaline's output w.x + b")
    right.set_ylabel("samples")
    right.set_title("Adaline knows how much it errs")
    right.set_ylim(0, right.get_ylim()[1] * 1.35)  # room for the legend above the bars
    right.legend(loc="upper left")
    return fig


def main() -> None:
    args = parse_args(__doc__)

    heading("Gradients of J = 1/2 sum (y - y_hat)^2: backward() vs the closed form")
    X, y = blobs(n_samples=100, distance=5.0, seed=1)
    worst = 0.0
    for seed in range(5):
        model = Adaline(2, seed=seed, init_scale=1.0)
        dw, db = model.gradients(X, y)
        dw_closed, db_closed = closed_form(model, X, y)
        worst = max(worst, float(np.max(np.abs(dw - dw_closed))), abs(db - db_closed))
        if seed == 0:
            print(f"at w = {np.round(model.weights, 3).tolist()}, b = {model.bias:.3f}:")
            print(f"   backward():  dJ/dw = {np.round(dw, 6).tolist()}, dJ/db = {db:.6f}")
            print(f"   closed form: dJ/dw = {np.round(dw_closed, 6).tolist()}, dJ/db = {db_closed:.6f}")
    print(f"5 random weight vectors: max |backward() - closed form| = {worst:.1e}")

    heading("Adaline and the perceptron on the same data (two blobs)")
    epochs = 20 if args.quick else 50
    adaline = Adaline(2, lr=0.0025, seed=0)
    cost = adaline.fit(X, y, epochs=epochs)

    def adaline_predict(data):
        return (adaline.predict(data) >= 0.5).astype(float)

    adaline_acc = accuracy_of_line(adaline_predict, X, y)
    print(f"Adaline (batch, lr 0.0025): cost {cost[0]:.3f} -> {cost[-1]:.3f} in {len(cost)} epochs, "
          f"accuracy {adaline_acc:.0%}")
    perceptron = Perceptron(2, lr=0.1, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        errors = perceptron.fit(X, y, epochs=epochs)
    perceptron_acc = accuracy_of_line(perceptron.predict, X, y)
    state = "converged" if perceptron.converged_ else "did not converge"
    print(f"Perceptron (lr 0.1): {state} in {len(errors)} epochs, errors per epoch {errors[:8]}, "
          f"accuracy {perceptron_acc:.0%}")
    print("the perceptron stops at the first line with no error; Adaline settles on the least-squares line,")
    print("which it approaches smoothly because its cost is differentiable")

    X_and, y_and = and_gate()
    on_and = Adaline(2, lr=0.1, seed=0)
    and_cost = on_and.fit(X_and, y_and, epochs=300 if not args.quick else 100)
    outputs = on_and.predict(X_and)
    weights = np.round(on_and.weights, 3).tolist()
    print(f"Adaline on AND: w = {weights}, b = {on_and.bias:.3f}, cost {and_cost[-1]:.3f}")
    labels = (outputs >= 0.5).astype(int).tolist()
    print(f"   outputs {np.round(outputs, 2).tolist()} -> threshold 0.5 -> {labels}")

    heading("Learning rate: gradient descent overshoots when the step is too large")
    critical = critical_learning_rate(X)
    print(f"batch gradient descent on J is stable only for lr < 2 / max eigenvalue of X^T X = {critical:.5f}")
    runs = learning_rate_runs(X, y, (0.0005, 0.0025, 0.004), epochs)
    for lr, (history, trend) in runs.items():
        change = f"cost {history[0]:.4g} -> {history[-1]:.4g} after {len(history)} epochs"
        print(f"learning rate {lr}: {change}: {trend}")

    if pyplot() is None:
        return
    figure = plot_adaline_vs_perceptron(X, y, adaline, perceptron, runs, critical)
    save(figure, args.out, "adaline_vs_perceptron.png")


if __name__ == "__main__":
    main()
