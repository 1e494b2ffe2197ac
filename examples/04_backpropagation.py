"""Four ways to find out how to change the inputs: random search, random local search,
the numerical gradient and the analytic gradient (backpropagation).

First on the slides' circuit ``f(x, y) = x * y`` at x = -2, y = 3: which small change of the
inputs makes the output a little larger? Then on a sigmoid neuron learning AND, where each
strategy gets the same budget of circuit evaluations and we see how low its loss gets.

    python examples/04_backpropagation.py out/
"""

from __future__ import annotations

import numpy as np
from _support import heading, parse_args, pyplot, save

from autograd_gates import Value
from autograd_gates.losses import binary_cross_entropy_with_logits

STEP = 0.01  # how far the inputs may move: the slides' "leve" change
H = 1e-4  # the numerical derivative's step


def f(x: float, y: float) -> float:
    return x * y


def cosine(u: np.ndarray, v: np.ndarray) -> float:
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def multiply_gate_strategies(
    rng: np.random.Generator, tries: int, x0: float = -2.0, y0: float = 3.0
) -> list[dict]:
    """Each strategy's best move of the inputs of ``f(x, y) = x * y``, to make ``f`` a little larger.

    One dict per strategy: its name, its cost, the new ``f``, how far the inputs moved, the cosine
    between the move and the true gradient ``(y, x)``, and the gradient it estimated (if any).
    """
    start = f(x0, y0)
    true_direction = np.array([y0, x0])  # df/dx = y, df/dy = x
    rows = []

    # 1. Random search: random points anywhere in the box, keep the best. It ignores "a little".
    points = rng.uniform(-5, 5, (tries, 2))
    best = points[np.argmax([f(*p) for p in points])]
    move = best - (x0, y0)
    rows.append({"name": "random search", "cost": f"{tries} evaluations", "new_f": f(*best),
                 "moved": float(np.linalg.norm(move)), "cosine": cosine(move, true_direction)})

    # 2. Random local search: small random tweaks around the point, keep the best.
    tweaks = rng.uniform(-1, 1, (tries, 2)) * STEP
    outputs = [f(x0 + dx, y0 + dy) for dx, dy in tweaks]
    best_tweak = tweaks[int(np.argmax(outputs))]
    rows.append({"name": "random local search", "cost": f"{tries} evaluations", "new_f": max(outputs),
                 "moved": float(np.linalg.norm(best_tweak)), "cosine": cosine(best_tweak, true_direction)})

    # 3. Numerical gradient: nudge each input by h, 1 + 2 evaluations (forward differences).
    grad_numeric = np.array([(f(x0 + H, y0) - start) / H, (f(x0, y0 + H) - start) / H])
    step = STEP * grad_numeric / np.linalg.norm(grad_numeric)
    new_f = f(x0 + step[0], y0 + step[1])
    rows.append({"name": "numerical gradient", "cost": "3 evaluations", "new_f": new_f,
                 "moved": STEP, "cosine": cosine(grad_numeric, true_direction), "gradient": grad_numeric})

    # 4. Analytic gradient: one forward and one backward pass through the gates.
    x, y = Value(x0, "x"), Value(y0, "y")
    out = x * y
    out.backward()
    grad = np.array([x.grad, y.grad])
    step = STEP * grad / np.linalg.norm(grad)
    new_f = f(x0 + step[0], y0 + step[1])
    rows.append({"name": "analytic gradient", "cost": "1 forward + 1 backward", "new_f": new_f,
                 "moved": STEP, "cosine": cosine(grad, true_direction), "gradient": grad})
    return rows


def multiply_gate(rng: np.random.Generator, tries: int) -> None:
    x0, y0 = -2.0, 3.0
    start = f(x0, y0)
    heading(f"f(x, y) = x * y at x = {x0:g}, y = {y0:g}: f = {start:g}. Raise f, moving the inputs a little")
    print(f"{'strategy':22s} {'cost':>32s}   new f      moved by   direction vs gradient (cosine)")
    for row in multiply_gate_strategies(rng, tries, x0, y0):
        moved = f"{row['moved']:<10.3f}" if row["name"] == "random search" else f"{row['moved']:<10.4f}"
        line = f"{row['name']:22s} {row['cost']:>32s}   {row['new_f']:<10.4f} {moved} {row['cosine']:+.3f}"
        if row["name"] == "random search":
            line += "  (jumps far away)"
        elif row["name"] == "numerical gradient":
            line += f"  (df/dx ~ {row['gradient'][0]:.6f})"
        elif row["name"] == "analytic gradient":
            dx, dy = row["gradient"]
            line += f"  (df/dx = {dx:g} = y, df/dy = {dy:g} = x)"
        print(line)
    print("the gradient points straight uphill: no other move of the same length raises f more")


# -- a sigmoid neuron with many weights, same budget for every strategy ----------------------------

N_FEATURES = 20


def neuron_data(rng: np.random.Generator, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Noisy labels from a hidden "teacher" neuron: no weights make the loss 0."""
    X = rng.normal(0, 1, (n, N_FEATURES))
    teacher = rng.normal(0, 3 / np.sqrt(N_FEATURES), N_FEATURES)
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ teacher)))).astype(float)
    return X, t


def neuron_loss(params: np.ndarray, X: np.ndarray, t: np.ndarray) -> float:
    z = X @ params[:-1] + params[-1]
    return float(np.mean(np.logaddexp(0, z) - t * z))  # cross-entropy of sigmoid(z), computed stably


def neuron_loss_and_grad(params: np.ndarray, X: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """The loss and its gradient by backpropagation through the gates."""
    w = [Value(float(v)) for v in params]
    logits = [sum((wi * float(xi) for wi, xi in zip(w, row)), w[-1]) for row in X]
    loss = binary_cross_entropy_with_logits(t, logits)
    loss.backward()
    return loss.data, np.array([v.grad for v in w])


def train_neuron(X: np.ndarray, t: np.ndarray, budget: int, rng: np.random.Generator):
    """Each strategy's best loss against the evaluations it has spent (a backward pass costs one)."""
    n_params = X.shape[1] + 1
    start = np.zeros(n_params)
    lr, sigma = 2.0, 0.05
    curves: dict[str, tuple[list[int], list[float]]] = {}

    # Random search: random weights anywhere in [-3, 3]^P, keep the best.
    losses = np.minimum.accumulate([neuron_loss(rng.uniform(-3, 3, n_params), X, t) for _ in range(budget)])
    curves["random search"] = (list(range(1, budget + 1)), list(losses))

    # Random local search: a small random tweak, kept when it lowers the loss.
    params, best = start.copy(), neuron_loss(start, X, t)
    history = [best]
    for _ in range(budget - 1):
        trial = params + rng.normal(0, sigma, n_params)
        loss = neuron_loss(trial, X, t)
        if loss < best:
            params, best = trial, loss
        history.append(best)
    curves["random local search"] = (list(range(1, budget + 1)), history)

    # Numerical gradient: central differences, 2 evaluations per parameter per step.
    cost = 2 * n_params + 1  # + 1 to measure the loss
    params, spent, counts, history = start.copy(), 0, [], []
    while spent + cost <= budget:
        grad = np.array(
            [
                (neuron_loss(params + H * e, X, t) - neuron_loss(params - H * e, X, t)) / (2 * H)
                for e in np.eye(n_params)
            ]
        )
        params = params - lr * grad
        spent += cost
        counts.append(spent)
        history.append(neuron_loss(params, X, t))
    curves["numerical gradient"] = (counts, history)

    # Analytic gradient: one forward and one backward pass per step.
    params, spent, counts, history = start.copy(), 0, [], []
    while spent + 2 <= budget:
        loss, grad = neuron_loss_and_grad(params, X, t)
        params = params - lr * grad
        spent += 2
        counts.append(spent)
        history.append(neuron_loss(params, X, t))
    curves["analytic gradient"] = (counts, history)
    return curves


def best_possible(X: np.ndarray, t: np.ndarray) -> float:
    """The lowest loss, from many cheap gradient steps (numpy's closed-form gradient)."""
    params = np.zeros(X.shape[1] + 1)
    A = np.hstack([X, np.ones((len(X), 1))])
    for _ in range(5000):
        p = 1 / (1 + np.exp(-(A @ params)))
        params -= 1.0 * A.T @ (p - t) / len(t)
    return neuron_loss(params, X, t)


def plot_strategies(curves: dict, optimum: float, n_params: int):
    """The loss each strategy reaches against the evaluations it spent (``curves``: ``train_neuron``'s)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, (counts, losses) in curves.items():
        ax.plot(counts, losses, label=name, linewidth=2)
    ax.set_xlabel("circuit evaluations spent (a backward pass counts as one)")
    ax.set_ylabel("loss (cross-entropy; the searches keep their best)")
    ax.set_yscale("log")
    ticks = [0.3, 0.4, 0.6, 1, 2, 3]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.axhline(optimum, color="black", linestyle=":", linewidth=1, label="lowest possible loss")
    ax.set_title(f"A sigmoid neuron with {n_params} parameters: four strategies, one budget")
    ax.legend(loc="upper right")
    return fig


def main() -> None:
    args = parse_args(__doc__)
    rng = np.random.default_rng(0)
    multiply_gate(rng, tries=100)

    budget = 200 if args.quick else 400
    X, t = neuron_data(rng)
    optimum = best_possible(X, t)
    n_params = X.shape[1] + 1
    heading(f"A sigmoid neuron with {n_params} parameters: each strategy gets {budget} circuit evaluations")
    print(f"(cross-entropy on {len(t)} noisy samples; the lowest possible loss is {optimum:.4f})")
    curves = train_neuron(X, t, budget, rng)
    for name, (counts, losses) in curves.items():
        gap = losses[-1] - optimum
        unit = "tries" if name.startswith("random") else "steps"
        print(f"{name:22s} {len(counts):4d} {unit}   final loss {losses[-1]:.4f}", end="   ")
        print(f"above the optimum by {gap:.4f}")
    print(f"random search guesses blindly in {n_params} dimensions; local search keeps lucky tweaks. The")
    print(f"numerical gradient pays 2 evaluations per parameter per step ({2 * n_params + 1} here); backprop")
    print("pays about 2 for all of them, whatever their number: for a million weights, 2,000,001 against 2.")

    if pyplot() is None:
        return
    save(plot_strategies(curves, optimum, n_params), args.out, "backprop_strategies.png")

if __name__ == "__main__":
    main()
