"""Every worked example of the slides' last chapter ("Se Tornando Expert em Gradientes").

For each expression: the derivation trace in the slides' notation (``explain``), every gradient
checked against a numerical estimate (``numerical_grad``), and the circuit drawing with values and
gradients (``draw_dot``), written as ``circuit_<name>.png`` into the output folder.

    python examples/04_gradients_expert.py out/
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from _support import heading, parse_args, shrink_png

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


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
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


if __name__ == "__main__":
    main()
