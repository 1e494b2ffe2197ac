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


def multiply_gate(rng: np.random.Generator, tries: int) -> None:
    x0, y0 = -2.0, 3.0
    start = f(x0, y0)
    true_direction = np.array([y0, x0])  # df/dx = y, df/dy = x
    heading(f"f(x, y) = x * y at x = {x0:g}, y = {y0:g}: f = {start:g}. Raise f, moving the inputs a little")
    print(f"{'strategy':22s} {'cost':>32s}   new f      moved by   direction vs gradient (cosine)")

    # 1. Random search: random points anywhere in the box, keep the best. It ignores "a little".
    points = rng.uniform(-5, 5, (tries, 2))
    best = points[np.argmax([f(*p) for p in points])]
    moved = np.linalg.norm(best - (x0, y0))
    print(f"{'random search':22s} {tries:>20d} evaluations   {f(*best):<10.4f} {moved:<10.3f} "
          f"{cosine(best - (x0, y0), true_direction):+.3f}  (jumps far away)")

    # 2. Random local search: small random tweaks around the point, keep the best.
    tweaks = rng.uniform(-1, 1, (tries, 2)) * STEP
    outputs = [f(x0 + dx, y0 + dy) for dx, dy in tweaks]
    best_tweak = tweaks[int(np.argmax(outputs))]
    print(f"{'random local search':22s} {tries:>20d} evaluations   {max(outputs):<10.4f} "
          f"{np.linalg.norm(best_tweak):<10.4f} {cosine(best_tweak, true_direction):+.3f}")

    # 3. Numerical gradient: nudge each input by h, 1 + 2 evaluations (forward differences).
    grad_numeric = np.array([(f(x0 + H, y0) - start) / H, (f(x0, y0 + H) - start) / H])
    step = STEP * grad_numeric / np.linalg.norm(grad_numeric)
    print(f"{'numerical gradient':22s} {3:>20d} evaluations   {f(x0 + step[0], y0 + step[1]):<10.4f} "
          f"{STEP:<10.4f} {cosine(grad_numeric, true_direction):+.3f}  (df/dx ~ {grad_numeric[0]:.6f})")

    # 4. Analytic gradient: one forward and one backward pass through the gates.
    x, y = Value(x0, "x"), Value(y0, "y")
    out = x * y
    out.backward()
    grad = np.array([x.grad, y.grad])
    step = STEP * grad / np.linalg.norm(grad)
    new_f = f(x0 + step[0], y0 + step[1])
    print(f"{'analytic gradient':22s} {'1 forward + 1 backward':>32s}   {new_f:<10.4f} {STEP:<10.4f} "
          f"{cosine(grad, true_direction):+.3f}  (df/dx = {x.grad:g} = y, df/dy = {y.grad:g} = x)")
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

    plt = pyplot()
    if plt is None:
        return
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
    save(fig, args.out, "backprop_strategies.png")


if __name__ == "__main__":
    main()
