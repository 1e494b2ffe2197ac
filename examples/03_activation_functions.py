"""Every activation of the slides and its derivative, and why a network of only linear layers is one layer.

Each derivative is what ``backward()`` returns through the activation's gate (each activation that is a
single function is one gate of the op table, with its rule); it is compared with the closed form the
slides give, e.g. sigmoid' = y (1 - y).
Then the slides' warning ("why build models only with linear layers?"): a stack of linear layers
10 -> 100 -> 200 -> 10 computes exactly one linear layer, which a tanh between the layers breaks.

    python examples/03_activation_functions.py out/
"""

from __future__ import annotations

import math

import numpy as np
from _support import heading, parse_args, pyplot, save

from autograd_gates import Value
from autograd_gates import activations as act

ALPHA = 0.1  # leaky ReLU slope, larger than the usual 0.01 so the figure shows it


def _sig(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# name, function, the slides' closed-form derivative (as a function of x and y = f(x))
ACTIVATIONS = [
    ("identity (linear)", act.identity, lambda x, y: 1.0),
    ("binary step", act.binary_step, lambda x, y: 0.0),
    ("sigmoid", act.sigmoid, lambda x, y: y * (1 - y)),
    ("tanh", act.tanh, lambda x, y: 1 - y * y),
    ("arctan", act.arctan, lambda x, y: 1 / (x * x + 1)),
    ("ReLU", act.relu, lambda x, y: 1.0 if x > 0 else 0.0),
    (f"leaky ReLU (alpha={ALPHA})", lambda v: act.leaky_relu(v, ALPHA), lambda x, y: 1.0 if x > 0 else ALPHA),
    ("ELU (alpha=1)", act.elu, lambda x, y: 1.0 if x > 0 else y + 1.0),
    ("softplus", act.softplus, lambda x, y: _sig(x)),
]


def curve(function, xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f'(x) at every x, the derivative from backward()."""
    ys, grads = [], []
    for x in xs:
        v = Value(float(x), "x")
        y = function(v)
        y.backward()
        ys.append(y.data)
        grads.append(v.grad)
    return np.array(ys), np.array(grads)


def linear_stack(sizes: list[int], rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (rng.standard_normal((n_out, n_in)) / math.sqrt(n_in), rng.standard_normal(n_out) * 0.1)
        for n_in, n_out in zip(sizes, sizes[1:])
    ]


def forward_values(layers, inputs: list[Value], between=None) -> list[Value]:
    """The layers applied with scalar Values; ``between`` is the activation between layers (None = none)."""
    h = inputs
    for index, (W, b) in enumerate(layers):
        h = [sum((float(w) * x for w, x in zip(row, h)), Value(float(bias))) for row, bias in zip(W, b)]
        if between is not None and index < len(layers) - 1:
            h = [between(v) for v in h]
    return h


def collapse(layers) -> tuple[np.ndarray, np.ndarray]:
    """The one layer a stack of linear layers equals: W = W3 W2 W1, b = W3 (W2 b1 + b2) + b3."""
    W, b = layers[0]
    for W_next, b_next in layers[1:]:
        W, b = W_next @ W, W_next @ b + b_next
    return W, b


def plot_activations(xs: np.ndarray, curves: dict):
    """Each activation (solid) and its derivative from backward() (dashed); ``curves`` from ``curve``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 3, figsize=(7, 6.5))
    for ax, (name, _, _) in zip(axes.flat, ACTIVATIONS):
        ys, grads = curves[name]
        ax.plot(xs, ys, label="f(x)", color="tab:blue", linewidth=2)
        ax.plot(xs, grads, label="f'(x) from backward()", color="tab:orange", linestyle="--")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set_title(name)
        ax.set_ylim(-1.6, 4.2)
    axes.flat[0].legend(loc="upper left")
    fig.suptitle("Activation functions (solid) and their derivatives from backward() (dashed)")
    return fig


def plot_linear_collapse():
    """A 1 -> 8 -> 8 -> 1 network on a line of inputs, without and with tanh between the layers."""
    import matplotlib.pyplot as plt

    small = linear_stack([1, 8, 8, 1], np.random.default_rng(7))
    small = [(W_ * 2.0, b_ * 10) for W_, b_ in small]
    line = np.linspace(-3, 3, 61)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    for between, label in ((None, "only linear layers"), (act.tanh, "tanh between the layers")):
        out = [forward_values(small, [Value(float(t))], between)[0].data for t in line]
        ax.plot(line, out, label=label, linewidth=2)
    ax.set_xlabel("input x")
    ax.set_ylabel("network output")
    ax.set_title("Same weights, 1 -> 8 -> 8 -> 1: linear layers collapse to a line")
    ax.legend()
    return fig


def main() -> None:
    args = parse_args(__doc__)
    xs = np.linspace(-4, 4, 41 if args.quick else 161)

    heading("Derivatives from backward() vs the slides' closed forms, on x in [-4, 4]")
    curves = {}
    for name, function, closed_form in ACTIVATIONS:
        ys, grads = curve(function, xs)
        expected = np.array([closed_form(x, y) for x, y in zip(xs, ys)])
        off_kink = xs != 0  # at x = 0 the kinked functions follow a convention, checked below
        error = np.max(np.abs(grads - expected)[off_kink])
        curves[name] = (ys, grads)
        shown = f"{name:24s} range [{ys.min():+.3f}, {ys.max():+.3f}]"
        print(f"{shown}   max |backward - closed form| = {error:.1e}")
    at_zero = {name: curve(function, np.array([0.0]))[1][0] for name, function, _ in ACTIVATIONS}
    print(
        "at the kink x = 0: relu'(0) = {:g} (the slides' rule), leaky'(0) = {:g}, elu'(0) = {:g}".format(
            at_zero["ReLU"], at_zero[f"leaky ReLU (alpha={ALPHA})"], at_zero["ELU (alpha=1)"]
        )
    )
    print("note: the slides' 'Leaky Relu' slide shows ELU's formula alpha (e^x - 1); leaky ReLU is alpha x.")

    heading("Softmax of the slides' example [0.1, 1.3, 2.5]")
    scores = [Value(s, f"y{i}") for i, s in enumerate((0.1, 1.3, 2.5))]
    probabilities = act.softmax(scores)
    print("softmax:", [round(p.data, 2) for p in probabilities], "(the slides: [0.07, 0.22, 0.72])")
    print(f"sum = {sum(p.data for p in probabilities):.12f}")
    p2 = probabilities[2]
    p2.backward()
    print(
        f"dS_2/dy_2 = {scores[2].grad:.4f} = p(1 - p) = {p2.data * (1 - p2.data):.4f};"
        f"  dS_2/dy_0 = {scores[0].grad:.4f} = -p_2 p_0 = {-p2.data * probabilities[0].data:.4f}"
    )
    print("(the slides' denominator e^0.1 + e^0.3 + e^2.5 should read e^0.1 + e^1.3 + e^2.5)")

    heading("Why not only linear layers? A stack of linear layers is one linear layer")
    rng = np.random.default_rng(3)
    sizes = [4, 8, 8, 2] if args.quick else [10, 100, 200, 10]
    layers = linear_stack(sizes, rng)
    W, b = collapse(layers)
    x_np = rng.standard_normal(sizes[0])
    x = [Value(float(v), f"x{i}") for i, v in enumerate(x_np)]
    outputs = forward_values(layers, x)
    deep = np.array([o.data for o in outputs])
    print(f"layers {' -> '.join(map(str, sizes))}: {sum(W_.size for W_, _ in layers)} weights")
    print(f"one layer W = W3 W2 W1 of shape {W.shape}: {W.size} weights")
    print(f"max |stack(x) - (W x + b)| = {np.max(np.abs(deep - (W @ x_np + b))):.1e}")
    outputs[0].backward()
    jacobian_row = np.array([v.grad for v in x])
    row_error = np.max(np.abs(jacobian_row - W[0]))
    print(f"backward() of output 0 gives d out_0/dx = row 0 of W: max difference {row_error:.1e}")
    # With tanh between the layers no single linear layer fits: least squares leaves a residual.
    samples = rng.standard_normal((30, sizes[0]))
    nonlinear = np.array(
        [[o.data for o in forward_values(layers, [Value(float(v)) for v in s], act.tanh)] for s in samples]
    )
    design = np.hstack([samples, np.ones((len(samples), 1))])
    fit, *_ = np.linalg.lstsq(design, nonlinear, rcond=None)
    residual = np.sqrt(np.mean((design @ fit - nonlinear) ** 2))
    linear_outputs = np.array([W @ s + b for s in samples])
    fit_lin, *_ = np.linalg.lstsq(design, linear_outputs, rcond=None)
    residual_lin = np.sqrt(np.mean((design @ fit_lin - linear_outputs) ** 2))
    print(f"best single linear layer fitted to the linear stack:    rms residual {residual_lin:.1e}")
    print(f"best single linear layer fitted to the stack with tanh: rms residual {residual:.3f}")

    if pyplot() is None:
        return
    save(plot_activations(xs, curves), args.out, "activations.png")
    save(plot_linear_collapse(), args.out, "linear_collapse.png")

if __name__ == "__main__":
    main()
