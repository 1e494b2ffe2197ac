"""Handwritten digits on the tape: an MLP made of gates learns 1,797 8x8 images in seconds.

The 8x8 digits that scikit-learn ships (UCI's optical recognition set: 1,797 images, 64 pixels of
0..16, 10 classes). An ``MLP(64, [32, 10])`` with tanh, softmax cross-entropy, mini-batch SGD.
Every gradient comes from the gates' rules: ``fit(..., engine="tape")`` traces one sample's
circuit (about 4,800 gates) once and replays it for each batch as a program, its layers fused
into matrix products. The same run on the scalar engine would build and walk a circuit per
sample; the script times one batch both ways. With PyTorch installed (``pip install -e
".[bench]"``) the same model is trained with tensors from the same weights on the same batches,
and reaches the same test accuracy. ``--quick`` trains for two epochs (a smoke run).

    python examples/digits_tape.py out/

Writes ``digits_tape.png`` (loss, accuracy, and test digits as classified) and ``tape_trace.png``
(how a traced circuit becomes a program, the drawing of ``docs/tape.md``).
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from _support import heading, parse_args, pyplot, save

from autograd_gates import Tape, Value
from autograd_gates.nn import MLP
from autograd_gates.training import fit

BATCH = 32
LEARNING_RATE = 0.1
HIDDEN = 32


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels scaled to [0, 1], labels 0..9, and the 8x8 images (for the figure)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("this example needs scikit-learn, which ships the digits: "
                 "pip install 'autograd_gates[examples]'")
    digits = load_digits()
    return digits.data / 16.0, digits.target.astype(float), digits.images


def split(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A quarter of the samples held out for testing, drawn with ``seed``."""
    order = np.random.default_rng(seed).permutation(n)
    return order[n // 4 :], order[: n // 4]


def class_scores(model: MLP, X: np.ndarray) -> np.ndarray:
    """The model's 10 outputs for every row of ``X``, replayed on a tape of the model alone."""

    def outputs(*pixels: Value):
        out = model(list(pixels))
        return out[0], {f"class {k}": o for k, o in enumerate(out)}

    tape = Tape.trace(outputs, X[0], model.parameters())
    tape.forward(X)
    return np.column_stack([tape.output(f"class {k}") for k in range(10)])


def one_scalar_step(X: np.ndarray, y: np.ndarray) -> float:
    """Seconds for one batch on the scalar engine: the circuit of Values built and walked."""
    model = MLP(64, [HIDDEN, 10], activation="tanh", seed=0)
    start = time.perf_counter()
    fit(model, X, y, loss="softmax_cross_entropy", lr=LEARNING_RATE, epochs=1, progress=False,
        engine="scalar")
    return time.perf_counter() - start


def torch_twin(model_weights: list[float], X: np.ndarray, y: np.ndarray, Xtest: np.ndarray,
               epochs: int, seed: int) -> np.ndarray | None:
    """The same MLP in PyTorch (float64), trained from the same weights on the same batches: its
    predictions for ``Xtest`` (None without PyTorch)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    first = torch.nn.Linear(64, HIDDEN, dtype=torch.float64)
    second = torch.nn.Linear(HIDDEN, 10, dtype=torch.float64)
    weights = iter(model_weights)  # autograd_gates' order: each neuron's weights, then its bias
    with torch.no_grad():
        for layer in (first, second):
            for row in range(layer.out_features):
                layer.weight[row] = torch.tensor([next(weights) for _ in range(layer.in_features)])
                layer.bias[row] = next(weights)
    net = torch.nn.Sequential(first, torch.nn.Tanh(), second)
    optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
    inputs, labels = torch.tensor(X), torch.tensor(y, dtype=torch.long)
    rng = np.random.default_rng(seed)  # fit's shuffling: one permutation per epoch
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for lo in range(0, len(X), BATCH):
            batch = torch.tensor(order[lo : lo + BATCH])
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(inputs[batch]), labels[batch]).backward()
            optimizer.step()
    with torch.no_grad():
        return net(torch.tensor(Xtest)).argmax(dim=1).numpy()


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    X, y, images = load()
    train, test = split(len(X))
    epochs = 2 if args.quick else 40

    model = MLP(64, [HIDDEN, 10], activation="tanh", seed=0)
    initial = [p.data for p in model.parameters()]
    heading(f"MLP 64-{HIDDEN}-10 (tanh) on {len(train)} digits, {len(test)} held out: "
            f"{len(initial):,} parameters")
    history = fit(model, X[train], y[train], loss="softmax_cross_entropy", lr=LEARNING_RATE,
                  epochs=epochs, batch_size=BATCH, seed=0, progress=True, engine="tape")
    for k in sorted({0, *range(0, history.epochs, max(1, history.epochs // 5)), history.epochs - 1}):
        print(f"epoch {k + 1:3d}  loss {history.loss[k]:.4f}  training accuracy {history.accuracy[k]:6.1%}")
    predicted = class_scores(model, X[test]).argmax(axis=1)
    accuracy = float(np.mean(predicted == y[test]))
    print(f"on the tape: {history.steps} steps in {history.seconds:.1f} s; test accuracy {accuracy:.1%}")

    tape_step = history.seconds / max(history.steps, 1)
    scalar_step = one_scalar_step(X[train][:BATCH], y[train][:BATCH])
    print(f"one batch of {BATCH}: {tape_step * 1e3:.1f} ms on the tape (with the optimizer's step), "
          f"{scalar_step * 1e3:.0f} ms on the scalar engine")

    twin = torch_twin(initial, X[train], y[train], X[test], epochs, seed=0)
    if twin is None:
        print("PyTorch is not installed: pip install -e '.[bench]' to train the same model with tensors")
    else:
        same = int(np.sum(twin == predicted))
        print(f"PyTorch, the same model from the same weights on the same batches: test accuracy "
              f"{float(np.mean(twin == y[test])):.1%} ({same} of {len(test)} predictions the same)")

    plt = pyplot()
    if plt is None:
        return
    plot_training(plt, history, images[test], predicted, y[test], accuracy, args.out)
    plot_trace(plt, args.out)


def plot_training(plt, history, images, predicted, labels, accuracy, out) -> None:
    fig = plt.figure(figsize=(7, 5))
    grid = fig.add_gridspec(4, 8, height_ratios=[2.6, 0.35, 1, 1], hspace=0.5)
    curve = fig.add_subplot(grid[0, :])
    epochs = np.arange(1, history.epochs + 1)
    curve.plot(epochs, history.loss, color="tab:blue", label="training loss (cross-entropy)")
    curve.set_xlabel("epoch")
    curve.set_ylabel("loss")
    twin = curve.twinx()
    twin.plot(epochs, history.accuracy, color="tab:orange", label="training accuracy")
    twin.axhline(accuracy, color="tab:green", linestyle="--", label=f"test accuracy {accuracy:.1%}")
    twin.set_ylabel("accuracy")
    twin.set_ylim(0, 1.02)
    lines = curve.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    curve.legend(lines, [line.get_label() for line in lines], loc="center right")
    curve.set_title(f"MLP 64-{HIDDEN}-10 trained on the tape: {history.steps} steps, {history.seconds:.1f} s")
    wrong = np.flatnonzero(predicted != labels)[:4]  # a few mistakes among the digits shown
    shown = sorted([*wrong, *np.flatnonzero(predicted == labels)[: 16 - len(wrong)]])
    for k, i in enumerate(shown):
        ax = fig.add_subplot(grid[2 + k // 8, k % 8])
        ax.imshow(images[i], cmap="gray_r")
        right = predicted[i] == labels[i]
        ax.set_title(f"{int(predicted[i])}" + ("" if right else f" (is {int(labels[i])})"),
                     color="black" if right else "tab:red", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    with warnings.catch_warnings():  # tight_layout cannot place the twin axes; the grid already does
        warnings.simplefilter("ignore", UserWarning)
        save(fig, out, "digits_tape.png")


def plot_trace(plt, out) -> None:
    """One neuron's circuit, its program, and the program fused: the drawing of docs/tape.md."""
    w0, w1, b = Value(0.5, "w0"), Value(-1.0, "w1"), Value(0.25, "b")
    x0, x1 = Value(2.0, "x0"), Value(1.0, "x1")
    root = (w0 * x0 + w1 * x1 + b).relu()
    root.backward()
    tape = Tape(root, [x0, x1], [w0, w1, b])
    forward = tape.source("fused").split("def backward")[0].splitlines()[2:]
    fused = [line.strip() for line in forward if line.strip() and not line.strip().startswith("return")]
    fig = plt.figure(figsize=(7, 4.2))
    grid = fig.add_gridspec(2, 2, width_ratios=[0.8, 1.2])
    circuit = fig.add_subplot(grid[:, 0])
    program, replay = fig.add_subplot(grid[0, 1]), fig.add_subplot(grid[1, 1])
    for ax in (circuit, program, replay):
        ax.axis("off")
    drawn = _drawing(root)
    if drawn is not None:
        circuit.imshow(drawn)
    else:
        circuit.text(0.0, 0.5, "relu(w0 * x0 + w1 * x1 + b)", family="monospace", fontsize=8)
    circuit.set_title("1. the circuit of one sample,\ntraced once (x0 = 2, x1 = 1)", fontsize=9)
    program.text(0.0, 1.0, str(tape.program), family="monospace", fontsize=7.5, va="top")
    program.set_title("2. the program: one op per gate, in topological order;\n"
                      "a per-sample op holds one value per row of the batch", fontsize=9, loc="left")
    replay.text(0.0, 1.0, "\n".join(fused), family="monospace", fontsize=7.5, va="top")
    replay.set_title("3. compiled and fused: the sum of products is a matrix\n"
                     "product; X, B1 hold one column per sample", fontsize=9, loc="left")
    save(fig, out, "tape_trace.png")


def _drawing(root: Value):
    """The circuit drawn by draw_dot as an image array, or None without a Graphviz renderer."""
    import io

    import matplotlib.image as mpimg

    from autograd_gates import draw_dot
    from autograd_gates.show.drawing import RendererNotFound, RenderError

    try:
        png = draw_dot(root, rankdir="TB").pipe("png")
    except (RendererNotFound, RenderError):
        return None
    return mpimg.imread(io.BytesIO(png), format="png")


if __name__ == "__main__":
    main()
