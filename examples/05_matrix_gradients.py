"""The slides' matrix rule, proved by the scalar engine.

The slides write, for ``Y = X W^T`` and an upstream gradient ``dY`` of Y's shape::

    dW = dY^T X        dX = dY W

(the slide says ``dY = dY.dot(W)``; the left-hand side should be ``dX``). Here every entry of
``Y`` is built from scalar ``Value`` gates, backprop runs from ``L = sum_ij Y_ij * dY_ij`` (whose
gradient with respect to ``Y`` is exactly ``dY``), and the gradients that reach ``W`` and ``X``
are compared with numpy's matrix products.

    python examples/05_matrix_gradients.py out/
"""

from __future__ import annotations

import numpy as np
from _support import heading, parse_args, pyplot, save

from autograd_gates import Value


def matmul_transposed(X: list[list[Value]], W: list[list[Value]]) -> list[list[Value]]:
    """``Y = X W^T`` from scalar gates: ``Y[i][j] = sum_k X[i][k] * W[j][k]``."""
    return [[sum((xk * wk for xk, wk in zip(row, wrow)), Value(0.0)) for wrow in W] for row in X]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
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
    save(fig, args.out, "matrix_gradients.png")


if __name__ == "__main__":
    main()
