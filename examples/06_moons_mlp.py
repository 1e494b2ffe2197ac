"""micrograd's demo: a 2-16-16-1 MLP learns the two moons, and its decision boundary.

As in micrograd's demo notebook: 100 points with noise 0.1, labels -1/+1, the max-margin (hinge)
loss plus an L2 penalty of 1e-4, full-batch SGD with the learning rate 1.0 - 0.9 k / 100 for
100 steps. Every gradient comes from ``backward()`` through the gates. The full run reaches 100%
training accuracy; ``--quick`` trains a smaller network for a few steps (a smoke run).

    python examples/06_moons_mlp.py out/
"""

from __future__ import annotations

import numpy as np
from _support import heading, parse_args, pyplot, save

from autograd_gates.datasets import moons, signed
from autograd_gates.nn import MLP
from autograd_gates.training import fit


def main() -> None:
    args = parse_args(__doc__)
    X, y01 = moons(n_samples=100, noise=0.1, seed=1)
    y = signed(y01)  # hinge loss labels: -1 and +1
    hidden = [8, 8] if args.quick else [16, 16]
    steps = 10 if args.quick else 100
    model = MLP(2, [*hidden, 1], activation="relu", seed=1337)

    heading(f"MLP 2-{'-'.join(map(str, hidden))}-1 on two moons: {len(model.parameters())} parameters")
    history = fit(
        model,
        X,
        y,
        loss="hinge",
        l2=1e-4,
        lr_schedule=lambda k: 1.0 - 0.9 * k / 100,
        epochs=steps,
        progress=False,
    )
    for k in sorted({0, *range(0, history.epochs, max(1, history.epochs // 10)), history.epochs - 1}):
        print(f"step {k:3d}  loss {history.loss[k]:.4f}  accuracy {history.accuracy[k]:4.0%}")
    scores = np.array([model(x).data for x in X])
    final_accuracy = float(np.mean(np.sign(scores) == y))
    print(f"after {history.steps} steps: training accuracy {final_accuracy:.0%} ({history.seconds:.1f} s)")

    plt = pyplot()
    if plt is None:
        return
    side = 25 if args.quick else 60
    xs = np.linspace(X[:, 0].min() - 0.6, X[:, 0].max() + 0.6, side)
    ys = np.linspace(X[:, 1].min() - 0.6, X[:, 1].max() + 0.6, side)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.array([model([a, b]).data for a, b in zip(gx.ravel(), gy.ravel())]).reshape(gx.shape)
    fig, (left, right) = plt.subplots(2, 1, figsize=(7, 6.4), gridspec_kw={"height_ratios": [1.4, 1]})
    left.contourf(gx, gy, grid > 0, levels=[-0.5, 0.5, 1.5], colors=["#c6dbef", "#fcbba1"], alpha=0.9)
    left.contour(gx, gy, grid, levels=[0.0], colors="black", linewidths=1)
    left.scatter(*X[y < 0].T, c="tab:blue", edgecolor="k", s=20, label="y = -1")
    left.scatter(*X[y > 0].T, c="tab:red", edgecolor="k", s=20, label="y = +1")
    left.set_title(f"Decision boundary after {history.steps} steps ({final_accuracy:.0%} correct)")
    left.legend(loc="upper right")
    (loss_line,) = right.plot(history.loss, label="loss (hinge + L2)")
    right.set_xlabel("step")
    right.set_ylabel("loss")
    twin = right.twinx()
    (accuracy_line,) = twin.plot(history.accuracy, color="tab:green", label="accuracy (right axis)")
    twin.set_ylabel("accuracy")
    twin.set_ylim(0.4, 1.02)
    twin.grid(False)
    right.set_title("Training")
    right.legend(handles=[loss_line, accuracy_line], loc="center right")
    save(fig, args.out, "moons_decision_boundary.png")


if __name__ == "__main__":
    main()
