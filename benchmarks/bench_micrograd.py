"""autograd_gates and micrograd side by side, in one process, on the same graphs.

    python benchmarks/bench_micrograd.py            # the full run (about 20 s)
    python benchmarks/bench_micrograd.py --quick    # tiny sizes, one run: a smoke test

Four measurements, each on identical work for both engines:

1. build + backward of a random graph of ``+ - * / relu **2`` (about 50,000 gates). The
   program is generated once with plain floats -- every value is checked to stay bounded under
   both engines' float semantics (micrograd divides as ``a * b**-1`` and subtracts as
   ``a + (b * -1)``) -- and then replayed by each engine inside the timed region. The graph is
   layered so that every node feeds the next layer and the root depends on all of them, and
   shallow enough (about 110 gates deep) for micrograd's recursive backward.
2. one training step of micrograd's demo: MLP 2-16-16-1 (relu, last layer linear) on 100
   two-moons points, hinge loss ``(1 + -y*score).relu()`` averaged, plus ``1e-4`` L2; forward,
   zero_grad, backward and SGD update. Both models start from micrograd's weights, and the
   script asserts that both engines compute the very same loss.
3. bytes per gate: tracemalloc over building the graph of (1), divided by its gate count; and
   the extra peak while backpropagating it.
4. the deepest chain ``y = y + 1`` each engine can backpropagate.

Fair timing: the garbage collector is left on (as a user has it) inside the timed region,
except in the rows marked "gc off", which disable it there only; ``gc.collect()`` runs before
each timed run and again after the graph is dropped, outside the timed region, so micrograd's
cyclic garbage (each node's closure refers back to the node) is never billed to the next run.
Times are CPU time of the process (``--wall`` for wall-clock); the engines alternate run by
run, and best and median of the runs are shown.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    from micrograd.engine import Value as MicrogradValue
    from micrograd.nn import MLP as MicrogradMLP
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("this benchmark needs micrograd: pip install -e '.[bench]'  (micrograd==0.1.0)")

# Benchmark the checkout this script lives in, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograd_gates import Value, topological_order  # noqa: E402

ENGINES: dict[str, type] = {"micrograd": MicrogradValue, "autograd_gates": Value}

# CPU time of this process: both engines are single-threaded, and on a shared machine it
# does not count the time other processes hold the CPU. --wall switches to wall-clock time.
clock = time.process_time

# -- (1) the random program ------------------------------------------------------------------

ADD, SUB, MUL, DIV, RELU, SQUARE = range(6)
OP_NAMES = ("+", "-", "*", "/", "relu", "**2")
UNARY = (RELU, SQUARE)


@dataclass(frozen=True)
class Program:
    """Leaf values, then one step ``(op, i, j)`` per gate; node ``i`` (and ``j``) are earlier nodes.

    The last step is the root. ``j`` is -1 for a unary op.
    """

    leaves: list[float]
    steps: list[tuple[int, int, int]]
    depth: int  # the longest path, in steps, from a leaf to the root


def _ours(op: int, a: float, b: float) -> float:
    """One step under autograd_gates' float semantics."""
    if op == ADD:
        return a + b
    if op == SUB:
        return a + (b * -1.0)
    if op == MUL:
        return a * b
    if op == DIV:
        return a / b
    if op == RELU:
        return a if a > 0 else 0.0
    return a**2.0


def _micrograd(op: int, a: float, b: float) -> float:
    """One step under micrograd's float semantics (division is ``a * b**-1``)."""
    if op == DIV:
        return a * b**-1
    if op == RELU:
        return 0 if a < 0 else a
    return _ours(op, a, b)


def _acceptable(op: int, a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float] | None:
    """The step's value under both semantics, or None if it would leave the safe range.

    Divisors stay away from 0, relu inputs away from its kink (the two engines' values differ
    in the last bits, and must not take different branches), and every value stays within
    [1e-3, 1e2] in magnitude, or is exactly 0, so that no value or gradient can overflow;
    the two semantics may differ by at most 1e-12 relative, so both engines compute the same.
    """
    if op == DIV and (abs(b[0]) < 0.25 or abs(b[1]) < 0.25):
        return None
    if op == RELU and (abs(a[0]) < 1e-3 or abs(a[1]) < 1e-3):
        return None
    x = (_ours(op, a[0], b[0]), _micrograd(op, a[1], b[1]))
    for v in x:
        if v != 0 and not 1e-3 <= abs(v) <= 1e2:
            return None
    # The two semantics round differently; cancellation and squaring would amplify that.
    if abs(x[0] - x[1]) > 1e-12 * abs(x[0]):
        return None
    return x


def make_program(n_gates: int = 50_000, width: int = 500, seed: int = 0) -> Program:
    """A layered random program of about ``n_gates`` gates whose root depends on every node.

    Layer 0 holds ``width`` leaves. Node k of each later layer takes node k of the layer
    before as its first operand (so every node is consumed) and, for a binary op, a random
    node of the two layers before as its second. The last layer is summed pairwise into the
    root.
    """
    rng = random.Random(seed)
    width = max(2, min(width, n_gates // 2))
    n_layers = max(1, (n_gates - (width - 1)) // width)
    leaves = [rng.choice((-1.0, 1.0)) * rng.uniform(0.5, 2.0) for _ in range(width)]
    values: list[tuple[float, float]] = [(x, x) for x in leaves]
    depth = [0] * width
    steps: list[tuple[int, int, int]] = []

    def emit(op: int, i: int, j: int, x: tuple[float, float]) -> int:
        steps.append((op, i, j))
        values.append(x)
        depth.append(1 + max(depth[i], depth[j] if j >= 0 else 0))
        return len(values) - 1

    layer = list(range(width))
    previous = layer
    for _ in range(n_layers):
        pool = layer + previous
        new_layer = []
        for i in layer:
            for _attempt in range(30):
                op = rng.randrange(6)
                j = -1 if op in UNARY else rng.choice(pool)
                x = _acceptable(op, values[i], values[j] if j >= 0 else (0.0, 0.0))
                if x is not None:
                    break
            else:  # rare: a - a is exactly 0 under both semantics
                op, j, x = SUB, i, (0.0, 0.0)
            new_layer.append(emit(op, i, j, x))
        previous, layer = layer, new_layer
    while len(layer) > 1:  # pairwise sum: log2(width) more levels
        paired = [emit(ADD, a, b, (values[a][0] + values[b][0], values[a][1] + values[b][1]))
                  for a, b in zip(layer[::2], layer[1::2])]
        layer = paired + ([layer[-1]] if len(layer) % 2 else [])
    return Program(leaves, steps, depth[-1])


def replay(value_cls: type, program: Program) -> list:
    """Build the program's graph with ``value_cls``; returns every node, the root last."""
    nodes = [value_cls(x) for x in program.leaves]
    push = nodes.append
    for op, i, j in program.steps:
        a = nodes[i]
        if op == ADD:
            push(a + nodes[j])
        elif op == MUL:
            push(a * nodes[j])
        elif op == SUB:
            push(a - nodes[j])
        elif op == DIV:
            push(a / nodes[j])
        elif op == RELU:
            push(a.relu())
        else:
            push(a**2)
    return nodes


def count_nodes(root: object) -> int:
    """Nodes ``root`` depends on, itself and constant leaves included, for either engine."""
    if isinstance(root, Value):
        return len(topological_order(root))
    seen = {id(root)}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def _close(x: float, y: float, scale: float, rtol: float = 1e-9) -> bool:
    return abs(x - y) <= rtol * max(scale, abs(x), abs(y), 1e-300)


def check_graph_agreement(program: Program) -> dict[str, float]:
    """Both engines compute the same root value and leaf gradients (up to rounding)."""
    results = {}
    for name, cls in ENGINES.items():
        nodes = replay(cls, program)
        root = nodes[-1]
        root.backward()
        grads = [float(n.grad) for n in nodes[: len(program.leaves)]]
        results[name] = (float(root.data), grads, count_nodes(root))
        del nodes, root
        gc.collect()
    (root_mg, grads_mg, _), (root_ag, grads_ag, n_ag) = results["micrograd"], results["autograd_gates"]
    n_created = len(program.leaves) + len(program.steps)  # one node per gate: a - b is one sub gate
    assert n_ag == n_created, f"the root depends on {n_ag} of {n_created} nodes"
    assert all(math.isfinite(g) for g in grads_ag), "a gradient overflowed"
    assert _close(root_ag, root_mg, abs(root_mg)), f"root values differ: {root_ag!r} vs {root_mg!r}"
    scale = max(abs(g) for g in grads_mg)
    worst = max(abs(a - b) for a, b in zip(grads_ag, grads_mg)) / scale
    assert worst <= 1e-9, f"leaf gradients differ by {worst:.2e} of the largest"
    return {
        "root": root_ag,
        "max_abs_grad": scale,
        "grad_rel_diff": worst,
        "nodes_ours": n_ag,
        "nodes_micrograd": results["micrograd"][2],
    }


def time_graph(value_cls: type, program: Program, collector: bool = True) -> tuple[float, float]:
    """Seconds to build, then to backpropagate, the program's graph.

    The garbage collector runs as usual in the timed region unless ``collector`` is False;
    either way it collects before the run and after the graph is dropped, untimed.
    """
    gc.collect()
    was_enabled = gc.isenabled()
    if not collector:
        gc.disable()
    try:
        start = clock()
        nodes = replay(value_cls, program)
        built = clock()
        nodes[-1].backward()
        done = clock()
    finally:
        if was_enabled:
            gc.enable()
    del nodes
    gc.collect()
    return built - start, done - built


# -- (2) micrograd's demo: one training step ----------------------------------------------------


def two_moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[list[list[float]], list[float]]:
    """sklearn's ``make_moons`` recipe with numpy: points and labels -1 / +1 (as Python floats)."""
    rng = np.random.default_rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n_inner)
    x = np.concatenate([np.cos(t_outer), 1 - np.cos(t_inner)])
    y = np.concatenate([np.sin(t_outer), 1 - np.sin(t_inner) - 0.5])
    points = np.stack([x, y], axis=1) + rng.normal(scale=noise, size=(n, 2))
    labels = np.concatenate([-np.ones(n_outer), np.ones(n_inner)])
    return points.tolist(), labels.tolist()


class Neuron:
    """A neuron made of plain autograd_gates Values, built exactly as micrograd builds its own."""

    def __init__(self, weights: list[float], bias: float, nonlin: bool) -> None:
        self.w = [Value(w) for w in weights]
        self.b = Value(bias)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Value]) -> Value:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]


class MLP:
    """micrograd's MLP (same layer order, same float operations), with micrograd's weights."""

    def __init__(self, micrograd_mlp: MicrogradMLP) -> None:
        self.layers = [
            [Neuron([w.data for w in n.w], n.b.data, n.nonlin) for n in layer.neurons]
            for layer in micrograd_mlp.layers
        ]

    def __call__(self, x: Sequence[Value]) -> Value | list[Value]:
        for layer in self.layers:
            out = [n(x) for n in layer]
            x = out[0] if len(out) == 1 else out
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for n in layer for p in n.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


def training_step(model, value_cls: type, points: list[list[float]], labels: list[float]):
    """micrograd demo's loop body for step k = 0: loss, zero_grad, backward, SGD update."""
    inputs = [list(map(value_cls, row)) for row in points]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(labels, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    model.zero_grad()
    total_loss.backward()
    learning_rate = 1.0
    for p in model.parameters():
        p.data -= learning_rate * p.grad
    return total_loss


def fresh_models(seed: int = 1337) -> dict[str, object]:
    random.seed(seed)
    reference = MicrogradMLP(2, [16, 16, 1])
    return {"micrograd": reference, "autograd_gates": MLP(reference)}


def check_training_agreement(points, labels) -> float:
    """Both engines' first step gives the same loss, bit for bit, and the same updated weights."""
    models = fresh_models()
    losses = {name: training_step(models[name], ENGINES[name], points, labels).data for name in ENGINES}
    assert losses["autograd_gates"] == losses["micrograd"], f"losses differ: {losses}"
    after = {name: [p.data for p in m.parameters()] for name, m in models.items()}
    for ours, theirs in zip(after["autograd_gates"], after["micrograd"]):
        assert _close(ours, theirs, 1.0, 1e-12), f"updated weights differ: {ours!r} vs {theirs!r}"
    return losses["micrograd"]


def time_training_step(name: str, points, labels) -> float:
    model = fresh_models()[name]
    gc.collect()
    start = clock()
    loss = training_step(model, ENGINES[name], points, labels)
    elapsed = clock() - start
    del loss, model
    gc.collect()
    return elapsed


# -- (3) memory ------------------------------------------------------------------------------------


def bytes_per_gate(value_cls: type, program: Program) -> tuple[float, float]:
    """Bytes per gate of the program: held by the built graph, and the extra peak of backward.

    Measured with tracemalloc after a collection; only the root is kept (it reaches every node).
    """
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        nodes = replay(value_cls, program)
        root = nodes[-1]
        del nodes
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        root.backward()
        peak = tracemalloc.get_traced_memory()[1] - base - held
    finally:
        tracemalloc.stop()
    del root
    gc.collect()
    return held / len(program.steps), peak / len(program.steps)


# -- (4) depth -----------------------------------------------------------------------------------


def chain_backprops(value_cls: type, depth: int) -> float | None:
    """Seconds to backpropagate ``y = x + 1 + 1 + ...`` (``depth`` gates), or None on RecursionError.

    Checks dy/dx = 1.
    """
    x = value_cls(0.5)
    y = x
    for _ in range(depth):
        y = y + 1.0
    try:
        start = clock()
        y.backward()
        elapsed = clock() - start
    except RecursionError:
        return None
    finally:
        del y
        gc.collect()
    assert x.grad == 1, x.grad
    return elapsed


def deepest_micrograd_chain() -> int | None:
    """Bisect the longest chain micrograd backpropagates here (it recurses once per node).

    None if even twice the recursion limit works (then nothing here limits it).
    """
    low, high = 1, 2 * sys.getrecursionlimit()  # low works; high is assumed to fail
    if chain_backprops(MicrogradValue, high) is not None:
        return None
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if chain_backprops(MicrogradValue, mid) is not None else (low, mid)
    return low


# -- the report --------------------------------------------------------------------------------


def _timings(runs: int, measure: Callable[[str], object]) -> dict[str, list]:
    """``measure(engine)`` for each run, the engines taking turns at going first."""
    names = list(ENGINES)
    results: dict[str, list] = {name: [] for name in names}
    for run in range(runs):
        for name in names if run % 2 == 0 else names[::-1]:
            results[name].append(measure(name))
    return results


def _fmt_time(best: float, median: float) -> str:
    unit, scale = ("ms", 1e3) if best < 1 else ("s", 1.0)
    return f"{best * scale:.1f} / {median * scale:.1f} {unit}"


def run(argv: Sequence[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one run (a smoke test)")
    parser.add_argument("--gates", type=int, default=50_000, help="gates in the random graph (1)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per engine")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random graph")
    parser.add_argument("--depth", type=int, default=1_000_000, help="chain depth to try with ours (4)")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not CPU time")
    args = parser.parse_args(argv)
    global clock
    clock = time.perf_counter if args.wall else time.process_time
    if args.quick:
        args.gates, args.runs, args.depth = min(args.gates, 600), 1, min(args.depth, 3_000)
        n_points = 8
    else:
        n_points = 100

    print(
        f"Python {sys.version.split()[0]}, gc thresholds {gc.get_threshold()}, {args.runs} runs per engine, "
        + ("wall-clock" if args.wall else "CPU") + " time"
    )
    program = make_program(args.gates, seed=args.seed)
    agreement = check_graph_agreement(program)
    counts = [sum(1 for s in program.steps if s[0] == op) for op in range(6)]
    print(
        f"(1) random graph: {len(program.steps)} gates ("
        + ", ".join(f"{n} {name}" for n, name in zip(counts, OP_NAMES))
        + f"), {len(program.leaves)} leaves, depth {program.depth}; nodes created: "
        f"ours {agreement['nodes_ours']}, micrograd {agreement['nodes_micrograd']}; "
        f"root {agreement['root']:.6g}, leaf gradients agree to {agreement['grad_rel_diff']:.1e}"
    )
    graph = _timings(args.runs, lambda name: time_graph(ENGINES[name], program))
    graph_no_gc = _timings(args.runs, lambda name: time_graph(ENGINES[name], program, collector=False))

    points, labels = two_moons(n_points)
    loss = check_training_agreement(points, labels)
    print(f"(2) MLP 2-16-16-1 on {n_points} two-moons points: both engines' loss = {loss!r}")
    step = _timings(args.runs, lambda name: time_training_step(name, points, labels))

    memory = {name: bytes_per_gate(cls, program) for name, cls in ENGINES.items()}

    deepest_mg = deepest_micrograd_chain()
    ours_deep = chain_backprops(Value, args.depth)

    rows = []

    def timing_row(what: str, samples: dict[str, list[float]]) -> None:
        best = {name: min(s) for name, s in samples.items()}
        median = {name: statistics.median(s) for name, s in samples.items()}
        rows.append((
            what,
            _fmt_time(best["micrograd"], median["micrograd"]),
            _fmt_time(best["autograd_gates"], median["autograd_gates"]),
            f"{best['micrograd'] / best['autograd_gates']:.1f}x / "
            f"{median['micrograd'] / median['autograd_gates']:.1f}x faster",
        ))

    def memory_row(what: str, index: int) -> None:
        ours, theirs = memory["autograd_gates"][index], memory["micrograd"][index]
        rows.append((what, f"{theirs:.0f}", f"{ours:.0f}", f"{ours / theirs:.2f} of micrograd's"))

    n = len(program.steps)
    timing_row(f"(1) build {n:,}-gate graph", {k: [b for b, _ in v] for k, v in graph.items()})
    timing_row("(1) backward", {k: [w for _, w in v] for k, v in graph.items()})
    timing_row("(1) build + backward", {k: [b + w for b, w in v] for k, v in graph.items()})
    timing_row("(1) build, gc off while timed", {k: [b for b, _ in v] for k, v in graph_no_gc.items()})
    timing_row("(1) build + backward, gc off while timed",
               {k: [b + w for b, w in v] for k, v in graph_no_gc.items()})
    timing_row("(2) MLP training step", step)
    memory_row("(3) bytes per gate, graph of (1)", 0)
    memory_row("(3) extra peak bytes per gate during backward", 1)
    rows.append((
        "(4) deepest chain backpropagated",
        f"{deepest_mg:,} (RecursionError at {deepest_mg + 1:,})" if deepest_mg is not None
        else f"at least {2 * sys.getrecursionlimit():,}",
        f"{args.depth:,} (backward {ours_deep:.2f} s)" if ours_deep is not None
        else f"failed at {args.depth:,}",
        "",
    ))
    header = ("measurement", "micrograd", "autograd_gates", "ratio")
    print()
    print("times are best / median of the runs")
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return {"graph": graph, "graph_no_gc": graph_no_gc, "step": step, "memory": memory,
            "deepest_micrograd": deepest_mg, "ours_depth_seconds": ours_deep, "loss": loss,
            "agreement": agreement}


def main(argv: Sequence[str] | None = None) -> None:
    run(argv)


if __name__ == "__main__":
    main()
