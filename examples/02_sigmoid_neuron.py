"""The sigmoid neuron: cross-entropy, the slides' four-case table (corrected), and training.

The slides define ``L = -1/N sum_j [t_j log(p_j) + (1 - t_j) log(1 - p_j)]`` and tabulate the four
cases p, t in {0, 1}. Two corrections, computed below:

* ``p_j`` is the *predicted* probability and ``t_j`` the *desired* output (the slide has the two
  descriptions swapped), and the worked cases substitute them the wrong way round;
* ``0 * log(0)`` is taken as its limit 0 -- the cases with ``L = 0`` need it.

Then a sigmoid neuron ``p = sigmoid(w . x + b)`` learns AND and two point clouds by gradient descent
on the cross-entropy; ``backward()`` gives ``dL/dz = p - t`` for each sample, which is checked.

    python examples/02_sigmoid_neuron.py out/
"""

from __future__ import annotations

import math

import numpy as np
from _support import heading, parse_args, pyplot, save

from autograd_gates import Value
from autograd_gates.activations import sigmoid
from autograd_gates.losses import binary_cross_entropy
from autograd_gates.optim import SGD


def cross_entropy_term(p: float, t: float) -> float:
    """``-[t log p + (1 - t) log(1 - p)]`` for one sample, with ``0 log 0 = 0`` (its limit)."""
    total = 0.0
    for weight, q in ((t, p), (1 - t, 1 - p)):
        if weight == 0:
            continue  # 0 * log(q) -> 0, even for q = 0
        total += weight * (math.log(q) if q > 0 else -math.inf)
    return -total + 0.0  # + 0.0 turns -0.0 into 0.0


def four_case_table() -> None:
    heading("The slides' four cases: p = predicted probability, t = desired output")
    print(" p  t  error p - t   L (exact, 0 log 0 = 0)   L (library, p clipped to [1e-12, 1 - 1e-12])")
    for p in (0.0, 1.0):
        for t in (0.0, 1.0):
            exact = cross_entropy_term(p, t)
            library = binary_cross_entropy([t], [Value(p)]).data
            print(f" {p:g}  {t:g}  {p - t:+g}          {exact:<23g}  {library:.4g}")
    print("substituting correctly, e.g. p = 0, t = 1:  L = -[1 log(0) + (1 - 1) log(1 - 0)] = inf")
    print("(the slide writes 0 log(1) + (1 - 0) log(1 - 1): t and p swapped; the value inf is right)")
    print("close to the corners the loss is large but finite:")
    for p, t in ((0.01, 1.0), (0.5, 1.0), (0.99, 1.0)):
        print(f"   p = {p:<4g} t = {t:g}:  L = {cross_entropy_term(p, t):.4f}")


def neuron(w: list[Value], b: Value, x) -> Value:
    return sigmoid(sum((wi * float(xi) for wi, xi in zip(w, x)), b))


def train(X: np.ndarray, y: np.ndarray, lr: float, epochs: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = [Value(float(v), f"w{i}") for i, v in enumerate(rng.normal(0, 0.5, X.shape[1]))]
    b = Value(0.0, "b")
    optimizer = SGD([*w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = binary_cross_entropy(y, [neuron(w, b, x) for x in X])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
    return w, b, losses


def accuracy(w, b, X, y) -> float:
    return float(np.mean([(neuron(w, b, x).data >= 0.5) == bool(t) for x, t in zip(X, y)]))


def plot_sigmoid_neuron(losses_and: list[float], losses: list[float], X, y, w: list[Value], b: Value):
    """Cross-entropy of one sample, the training losses, and the learned probability over the plane."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(7, 6.4))
    panels = fig.subplot_mosaic([["one sample", "loss"], ["plane", "plane"]], height_ratios=[1, 1.3])
    left, middle, right = panels["one sample"], panels["loss"], panels["plane"]
    ps = np.linspace(0.001, 0.999, 300)
    left.plot(ps, [cross_entropy_term(p, 1.0) for p in ps], label="t = 1:  -log(p)")
    left.plot(ps, [cross_entropy_term(p, 0.0) for p in ps], label="t = 0:  -log(1 - p)")
    left.set_xlabel("predicted probability p")
    left.set_ylabel("cross-entropy L")
    left.set_title("Cross-entropy of one sample")
    left.set_ylim(0, 7)
    left.legend()
    middle.plot(losses_and, label="AND")
    middle.plot(losses, label="point clouds")
    middle.set_xlabel("epoch")
    middle.set_ylabel("mean cross-entropy")
    middle.set_title("Training loss")
    middle.set_yscale("log")
    ticks = [0.01, 0.03, 0.1, 0.3, 1]
    middle.set_yticks(ticks, [f"{t:g}" for t in ticks])
    middle.minorticks_off()
    middle.legend()
    grid = np.linspace(-3.5, 3.5, 60)
    gx, gy = np.meshgrid(grid, grid)
    probability = 1 / (1 + np.exp(-(w[0].data * gx + w[1].data * gy + b.data)))
    shade = right.contourf(gx, gy, probability, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
    right.contour(gx, gy, probability, levels=[0.5], colors="black")
    right.scatter(*X[y == 0].T, c="tab:blue", edgecolor="k", s=18, label="t = 0")
    right.scatter(*X[y == 1].T, c="tab:red", edgecolor="k", s=18, label="t = 1")
    right.set_title("Point clouds: learned p (black line: p = 0.5)")
    right.set_aspect("equal")
    right.legend(loc="upper left")
    fig.colorbar(shade, ax=right, shrink=0.9, label="p")
    return fig


def main() -> None:
    args = parse_args(__doc__)
    four_case_table()

    heading("backward() through sigmoid and cross-entropy gives dL/dz = p - t")
    for z_value, t in ((2.0, 0.0), (-1.0, 1.0), (0.5, 1.0)):
        z = Value(z_value, "z")
        p = sigmoid(z)
        binary_cross_entropy([t], [p]).backward()
        print(f"z = {z_value:+g}, t = {t:g}:  p = {p.data:.4f}", end="   ")
        print(f"dL/dz = {z.grad:+.6f}   p - t = {p.data - t:+.6f}")

    heading("Learning AND with a sigmoid neuron (gradient descent on the cross-entropy)")
    X_and = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y_and = np.array([0, 0, 0, 1], dtype=float)
    epochs = 300 if args.quick else 2000
    w, b, losses_and = train(X_and, y_and, lr=1.0, epochs=epochs)
    print(f"{epochs} epochs, learning rate 1.0: loss {losses_and[0]:.4f} -> {losses_and[-1]:.4f}")
    for x, t in zip(X_and, y_and):
        print(f"   x = {x.astype(int).tolist()}  t = {t:g}  p = {neuron(w, b, x).data:.3f}")
    print(f"accuracy on AND: {accuracy(w, b, X_and, y_and):.0%}")

    heading("Two point clouds")
    rng = np.random.default_rng(1)
    n = 20 if args.quick else 50
    X = np.vstack([rng.normal((-1, -1), 0.8, (n, 2)), rng.normal((1.2, 1.0), 0.8, (n, 2))])
    y = np.array([0.0] * n + [1.0] * n)
    epochs = 40 if args.quick else 150
    w, b, losses = train(X, y, lr=0.5, epochs=epochs, seed=2)
    print(f"{2 * n} points, {epochs} epochs: loss {losses[0]:.4f} -> {losses[-1]:.4f}", end=", ")
    print(f"accuracy {accuracy(w, b, X, y):.0%}")
    print(f"learned w = [{w[0].data:.3f}, {w[1].data:.3f}], b = {b.data:.3f}")

    if pyplot() is None:
        return
    save(plot_sigmoid_neuron(losses_and, losses, X, y, w, b), args.out, "sigmoid_neuron.png")

if __name__ == "__main__":
    main()
