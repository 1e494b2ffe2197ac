"""Every worked example of the slides' last chapter ("Se Tornando Expert em Gradientes") traced,
checked and drawn, and the chapter's matrix rule proved with scalar gates.

For each expression: the derivation trace in the slides' notation (``explain``), every gradient
checked against a numerical estimate (``numerical_grad``), and the circuit drawing with values and
gradients (``draw_dot``), written as ``circuit_<name>.png`` into the output folder.

Then the slides' matrix rule: for ``Y = X W^T`` and an upstream gradient ``dY`` of Y's shape::

    dW = dY^T X        dX = dY W

(the slide says ``dY = dY.dot(W)``; the left-hand side should be ``dX``). Every entry of ``Y`` is
built from scalar ``Value`` gates, backprop runs from ``L = sum_ij Y_ij * dY_ij`` (whose gradient
with respect to ``Y`` is exactly ``dY``), and the gradients that reach ``W`` and ``X`` are compared
with numpy's matrix products (figure ``matrix_gradients.png``).

    python examples/05_gradients_expert.py out/
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from _support import heading, parse_args, pyplot, save, shrink_png

from autograd_gates import Value, draw_dot, explain, maximum, numerical_grad, topological_order

# A circuit deeper than this is drawn top to bottom: left to right it would be too wide for a page
# (the sigmoid neuron's 7 gates make a 2,900-pixel strip), and a docs page shrinks its text.
MAX_DEPTH_LEFT_TO_RIGHT = 2

# name, what the slides write, the inputs (label -> value), the expression built from Values
EXAMPLES: list[tuple[str, str, dict[str, float], Callable[..., Value]]] = [
    ("mul", "x = a * b", {"a": 2.0, "b": -3.0}, lambda a, b: a * b),
    ("add", "x = a + b", {"a": 2.0, "b": -3.0}, lambda a, b: a + b),
    ("add3", "x = a + b + c", {"a": 2.0, "b": -3.0, "c": 10.0}, lambda a, b, c: a + b + c),
    ("mul_add", "x = a * b + c", {"a": 2.0, "b": -3.0, "c": 10.0}, lambda a, b, c: a * b + c),
    ("square", "x = a * a", {"a": 3.0}, lambda a: a * a),
    (
        "sum_of_squares",
        "x = a * a + b * b + c * c",
        {"a": 2.0, "b": -3.0, "c": 10.0},
        lambda a, b, c: a * a + b * b + c * c,
    ),
    (
        "nested",
        "x = ((a * b + c) * d) ** 2",
        {"a": 2.0, "b": -3.0, "c": 10.0, "d": -2.0},
        lambda a, b, c, d: ((a * b + c) * d) ** 2,
    ),
    ("reciprocal", "x = 1 / a", {"a": 4.0}, lambda a: 1 / a),
    (
        "fraction",
        "x = (a + b) / (c + d)",
        {"a": 2.0, "b": -3.0, "c": 10.0, "d": -2.0},
        lambda a, b, c, d: (a + b) / (c + d),
    ),
    (
        "fraction_as_slides",
        "x = (a + b) * (1 / (c + d))   (the slides' x1 * x3 with x3 = 1 / x2)",
        {"a": 2.0, "b": -3.0, "c": 10.0, "d": -2.0},
        lambda a, b, c, d: (a + b) * (1 / (c + d)),
    ),
    ("max", "x = max(a, b)", {"a": 2.0, "b": -3.0}, lambda a, b: maximum(a, b)),
    ("relu", "x = max(0, a)", {"a": 2.0}, lambda a: a.relu()),
    ("relu_negative", "x = max(0, a) at a < 0", {"a": -1.5}, lambda a: a.relu()),
    ("chain", "f = (x + y) * z", {"x": -2.0, "y": 5.0, "z": -4.0}, lambda x, y, z: (x + y) * z),
    (
        "sigmoid_neuron",
        "f(w, x) = 1 / (1 + exp(-(w0 * x0 + w1 * x1 + w2)))",
        {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0},
        lambda w0, x0, w1, x1, w2: 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp()),
    ),
]


def build(inputs: dict[str, float], expression: Callable[..., Value]) -> tuple[Value, list[Value]]:
    leaves = [Value(v, name) for name, v in inputs.items()]
    return expression(*leaves), leaves


def depth(root: Value) -> int:
    """The number of gates on the longest path from a leaf to ``root``."""
    depths: dict[Value, int] = {}
    for node in topological_order(root):
        depths[node] = 1 + max(depths[p] for p in node.parents) if node.parents else 0
    return depths[root]


def draw(root: Value, path: Path) -> str:
    """Render the circuit (values and gradients) to ``path``, a PNG; or say why it could not."""
    from autograd_gates.show.drawing import RendererNotFound, RenderError

    rankdir = "LR" if depth(root) <= MAX_DEPTH_LEFT_TO_RIGHT else "TB"
    try:
        written = draw_dot(root, rankdir=rankdir).render(path)
    except (RendererNotFound, RenderError) as exc:  # no Graphviz program: the trace shows it all
        return f"no drawing ({type(exc).__name__}): {exc}"
    shrink_png(written)
    return f"figure: {written}"


def matmul_transposed(X: list[list[Value]], W: list[list[Value]]) -> list[list[Value]]:
    """``Y = X W^T`` from scalar gates: ``Y[i][j] = sum_k X[i][k] * W[j][k]``."""
    return [[sum((xk * wk for xk, wk in zip(row, wrow)), Value(0.0)) for wrow in W] for row in X]


def matrix_rule(out: Path) -> None:
    """Backprop a random upstream dY through Y = X W^T built from scalars; compare with numpy."""
    rng = np.random.default_rng(0)
    W_np = rng.standard_normal((5, 10))  # W = np.random.randn(5, 10)
    X_np = rng.standard_normal((3, 10))  # X = np.random.randn(3, 10)
    dY_np = rng.standard_normal((3, 5))  # dY = np.random.randn(*Y.shape)

    W = [[Value(w, f"W{i}{k}") for k, w in enumerate(row)] for i, row in enumerate(W_np)]
    X = [[Value(x, f"X{i}{k}") for k, x in enumerate(row)] for i, row in enumerate(X_np)]
    Y = matmul_transposed(X, W)

    # Backprop an arbitrary upstream gradient dY: L = sum Y * dY has dL/dY_ij = dY_ij.
    L = sum((y * float(d) for yrow, drow in zip(Y, dY_np) for y, d in zip(yrow, drow)), Value(0.0))
    L.backward()

    Y_engine = np.array([[y.data for y in row] for row in Y])
    dW_engine = np.array([[w.grad for w in row] for row in W])
    dX_engine = np.array([[x.grad for x in row] for row in X])
    dW_numpy = dY_np.T @ X_np
    dX_numpy = dY_np @ W_np

    heading("Y = X W^T from scalar Values, then backprop of a random upstream dY")
    print(f"shapes: X {X_np.shape}, W {W_np.shape}, Y {Y_engine.shape}, dY {dY_np.shape}")
    print(f"shapes of the gradients: dW {dW_engine.shape} (= W's), dX {dX_engine.shape} (= X's)")
    y_err = np.max(np.abs(Y_engine - X_np @ W_np.T))
    dw_err = np.max(np.abs(dW_engine - dW_numpy))
    dx_err = np.max(np.abs(dX_engine - dX_numpy))
    print(f"max |Y  (engine) - X.dot(W.T)| = {y_err:.1e}")
    print(f"max |dW (engine) - dY.T.dot(X)| = {dw_err:.1e}")
    print(f"max |dX (engine) - dY.dot(W)|   = {dx_err:.1e}")
    agree = max(y_err, dw_err, dx_err) < 1e-12
    print("the matrix rule holds: dW = dY^T X and dX = dY W" if agree else "MISMATCH: the matrix rule failed")
    print("(the slide writes 'dY = dY.dot(W)'; the left-hand side is dX, the gradient of X)")

    plt = pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(2, 3, figsize=(7, 4.2))
    panels = [
        ("dW from backward()", dW_engine),
        ("dW = dY^T X (numpy)", dW_numpy),
        ("|difference| dW", np.abs(dW_engine - dW_numpy)),
        ("dX from backward()", dX_engine),
        ("dX = dY W (numpy)", dX_numpy),
        ("|difference| dX", np.abs(dX_engine - dX_numpy)),
    ]
    for ax, (title, matrix) in zip(axes.flat, panels):
        is_diff = title.startswith("|")
        limit = np.max(np.abs(matrix)) if not is_diff else None
        image = ax.imshow(
            matrix,
            cmap="Greys" if is_diff else "RdBu_r",
            vmin=0 if is_diff else -limit,
            vmax=max(1e-15, float(matrix.max())) if is_diff else limit,
        )
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle("Gradients of Y = X W^T: the scalar engine agrees with the matrix rule")
    save(fig, out, "matrix_gradients.png")


def main() -> None:
    args = parse_args(__doc__)
    examples = EXAMPLES[:7] + EXAMPLES[-2:] if args.quick else EXAMPLES
    worst = 0.0
    for name, slides, inputs, expression in examples:
        heading(slides)
        print("at " + ", ".join(f"{k} = {v:g}" for k, v in inputs.items()))
        root, leaves = build(inputs, expression)
        if slides.startswith("f"):
            root.label = "f"  # the slides call this output f; its steps become f1, f2, ...
        print(explain(root))
        root.backward()
        numeric = numerical_grad(expression, list(inputs.values())).values
        for leaf, estimate in zip(leaves, numeric):
            worst = max(worst, abs(leaf.grad - estimate) / max(1.0, abs(estimate)))
        print("numerical check: " + ", ".join(f"d{leaf.label} ~ {v:.6g}" for leaf, v in zip(leaves, numeric)))
        print(draw(root, args.out / f"circuit_{name}.png"))
    print()
    verdict = "every gradient agrees with a central difference" if worst < 1e-6 else "MISMATCH"
    print(f"{verdict} (largest relative difference {worst:.1e})")
    matrix_rule(args.out)


if __name__ == "__main__":
    main()
