"""autograd_gates and micrograd side by side, in one process, on the same work.

    python benchmarks/bench_micrograd.py --runs 11   # the full run (a few minutes)
    python benchmarks/bench_micrograd.py --quick     # tiny sizes, one run: a smoke test

Six measurements, each on identical work for both engines, each shown as a ratio:

1. build + backward of a random graph of ``+ - * / relu **2`` (about 50,000 gates). The
   program is generated once with plain floats -- every value is checked to stay bounded under
   both engines' float semantics (micrograd divides as ``a * b**-1`` and subtracts as
   ``a + (b * -1)``; here each is one gate) -- and then replayed by each engine inside the timed
   region. The graph is layered so that every node feeds the next layer and the root depends
   on all of them, and shallow enough (about 110 gates deep) for micrograd's recursive backward.
   A last row repeats it while the process holds 1,000,000 more objects (``--other-objects``):
   the collector's full collections wait until the objects that survived grow by a quarter, so
   they are rarer, and micrograd faster, in a process that already holds many objects.
2. one training step of micrograd's demo: MLP 2-16-16-1 (relu, last layer linear) on 100
   two-moons points, hinge loss ``(1 + -y*score).relu()`` averaged, plus ``1e-4`` L2; forward,
   zero_grad, backward and SGD update. Both models start from micrograd's weights, and the
   script asserts that both engines compute the very same loss.
3. training steps of a sigmoid neuron (logistic regression on 100 points of two 2-D blobs,
   mean squared error): forward, zero_grad, backward and SGD update. micrograd 0.1.0 has no
   ``exp``; it gets one exactly as in Karpathy's micrograd lecture, and its sigmoid is
   ``(1 + (-z).exp()) ** -1``: four gates and two constant leaves. Ours is ``z.sigmoid()``,
   one gate; a second row builds ours the way micrograd's is built, to show what the one gate
   is worth. The script asserts both engines compute the same losses (to 1e-12).
4. bytes per gate: tracemalloc over building the graph of (1), divided by its gate count; and
   the extra peak while backpropagating it.
5. the deepest chain ``y = y + 1`` each engine can backpropagate.
6. growth: build + backward cost per gate of the program of (1) at 1k, 10k, 100k and 1M gates
   (width ``max(500, gates // 200)``, so about 200 gates deep from 100k on), collector on and
   off. micrograd runs up to ``--micrograd-max`` gates (100,000 by default: at 1M a run takes it
   about 25 s, collector on and off, and 1.4 GB, which would double the length of the full run).

The garbage collector, fairly: autograd_gates' ``backward()`` raises the cyclic collector's
young-generation threshold, process-wide, to a tenth of the largest graph it has seen
(``autograd_gates/engine/collector.py``). So before every timed run the script undoes that
(``restore_collector()``), which leaves micrograd with the thresholds a micrograd user has
(Python's defaults); before each of our timed runs it then lets the policy adapt with one
untimed run of the same work (a user's first build, or first training step). The collector is
on inside the timed region, except in the "gc off" rows and columns, which disable it there
only; ``gc.collect()`` runs before each timed run and again after the graph is dropped, outside
the timed region, so micrograd's cyclic garbage (each node's closure refers back to the node)
is never billed to the next run. Times are CPU time of the process (``--wall`` for wall-clock);
the engines alternate run by run, and best and median of the runs are shown.
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
from autograd_gates.datasets import blobs  # noqa: E402
from autograd_gates.engine.collector import restore_collector  # noqa: E402

MG, OURS = "micrograd", "autograd_gates"
ENGINES: dict[str, type] = {MG: MicrogradValue, OURS: Value}

# CPU time of this process: both engines are single-threaded, and on a shared machine it
# does not count the time other processes hold the CPU. --wall switches to wall-clock time.
clock = time.process_time


class MicrogradExpValue(MicrogradValue):
    """micrograd's Value with the ``exp`` of Karpathy's micrograd lecture, which 0.1.0 lacks."""

    def exp(self) -> MicrogradValue:
        x = self.data
        out = MicrogradExpValue(math.exp(x), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out


def micrograd_sigmoid(z: MicrogradValue) -> MicrogradValue:
    """The lecture's sigmoid, ``(1 + (-z).exp()) ** -1``: neg, exp, add and pow gates.

    micrograd's operators make their results with its own class, which has no ``exp``; so the
    lecture's method is called through the subclass: the same code, on the same node.
    """
    return (1 + MicrogradExpValue.exp(-z)) ** -1


def our_sigmoid(z: Value) -> Value:
    """One gate: ``x = sigmoid(a)``, ``da = x * (1 - x) * dx``."""
    return z.sigmoid()


def our_sigmoid_as_micrograd_builds_it(z: Value) -> Value:
    """Ours, built from the same four gates as micrograd's (to show what the one gate is worth)."""
    return (1 + (-z).exp()) ** -1


def fair_start(name: str, warm_up: Callable[[], object] | None = None) -> None:
    """Put the collector where each engine's user has it, before a timed run.

    Our collector policy is undone for both engines (micrograd's user has Python's thresholds);
    ours then adapts with ``warm_up``, one untimed run of the same work.
    """
    restore_collector()
    if name != MG and warm_up is not None:
        warm_up()


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
    root: tuple[float, float]  # the root's value under our float semantics and micrograd's


def _ours(op: int, a: float, b: float) -> float:
    """One step under autograd_gates' float semantics."""
    if op == ADD:
        return a + b
    if op == SUB:
        return a - b
    if op == MUL:
        return a * b
    if op == DIV:
        return a / b
    if op == RELU:
        return a if a > 0 else 0.0
    return a**2.0


def _micrograd(op: int, a: float, b: float) -> float:
    """One step under micrograd's float semantics (``a * b**-1``, ``a + (b * -1)``)."""
    if op == SUB:
        return a + (b * -1)
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
    return Program(leaves, steps, depth[-1], values[-1])


def growth_width(n_gates: int) -> int:
    """The width of the growth programs: it grows with the graph, so the depth stays about 200."""
    return max(500, n_gates // 200)


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


def check_our_graph(program: Program) -> int:
    """Our graph of the program: every leaf and every step's result feeds the root, whose value
    is the program's own (bit for bit), and every gradient is finite. Returns the node count."""
    nodes = replay(Value, program)
    root = nodes[-1]
    root.backward()
    reached = {id(node) for node in topological_order(root)}
    missed = sum(1 for node in nodes if id(node) not in reached)
    assert not missed, f"the root does not depend on {missed} of the program's {len(nodes)} nodes"
    assert root.data == program.root[0], f"root {root.data!r}, the program computes {program.root[0]!r}"
    assert all(math.isfinite(n.grad) for n in nodes[: len(program.leaves)]), "a gradient overflowed"
    return len(reached)


def check_graph_agreement(program: Program) -> dict[str, float]:
    """Both engines compute the program's root value and the same leaf gradients (up to rounding)."""
    nodes_ours = check_our_graph(program)
    results = {}
    for name, cls in ENGINES.items():
        nodes = replay(cls, program)
        root = nodes[-1]
        root.backward()
        grads = [float(n.grad) for n in nodes[: len(program.leaves)]]
        results[name] = (float(root.data), grads, count_nodes(root))
        del nodes, root
        gc.collect()
    (root_mg, grads_mg, n_mg), (root_ag, grads_ag, _) = results[MG], results[OURS]
    assert root_mg == program.root[1], f"micrograd's root {root_mg!r}, its semantics give {program.root[1]!r}"
    assert _close(root_ag, root_mg, abs(root_mg)), f"root values differ: {root_ag!r} vs {root_mg!r}"
    scale = max(abs(g) for g in grads_mg)
    worst = max(abs(a - b) for a, b in zip(grads_ag, grads_mg)) / scale
    assert worst <= 1e-9, f"leaf gradients differ by {worst:.2e} of the largest"
    return {
        "root": root_ag,
        "max_abs_grad": scale,
        "grad_rel_diff": worst,
        "nodes_ours": nodes_ours,
        "nodes_micrograd": n_mg,
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
    root = nodes[-1].data
    del nodes
    gc.collect()
    expected = program.root[0 if value_cls is Value else 1]
    assert root == expected, f"{value_cls.__module__}: root {root!r}, expected {expected!r}"
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
    return {MG: reference, OURS: MLP(reference)}


def check_training_agreement(points, labels) -> float:
    """Both engines' first step gives the same loss, bit for bit, and the same updated weights."""
    models = fresh_models()
    losses = {name: training_step(models[name], ENGINES[name], points, labels).data for name in ENGINES}
    assert losses[OURS] == losses[MG], f"losses differ: {losses}"
    after = {name: [p.data for p in m.parameters()] for name, m in models.items()}
    for ours, theirs in zip(after[OURS], after[MG]):
        assert _close(ours, theirs, 1.0, 1e-12), f"updated weights differ: {ours!r} vs {theirs!r}"
    return losses[MG]


def time_training_step(name: str, points, labels, collector: bool = True) -> float:
    model = fresh_models()[name]
    gc.collect()
    was_enabled = gc.isenabled()
    if not collector:
        gc.disable()
    try:
        start = clock()
        loss = training_step(model, ENGINES[name], points, labels)
        elapsed = clock() - start
    finally:
        if was_enabled:
            gc.enable()
    del loss, model
    gc.collect()
    return elapsed


# -- (3) a sigmoid neuron: logistic regression on two blobs ----------------------------------------

SIGMOID_START = (0.5, -0.3, 0.1)  # w1, w2, b
SIGMOID_RATE = 0.5
SIGMOID_STEPS = 10  # steps per timed run


def blob_points(n: int = 100, seed: int = 0) -> tuple[list[tuple[float, float]], list[float]]:
    """``autograd_gates.datasets.blobs`` (labels 0 and 1) as Python floats."""
    X, y = blobs(n, seed=seed)
    return [(float(a), float(b)) for a, b in X], [float(t) for t in y]


def sigmoid_training(
    value_cls: type, sigmoid: Callable, points: Sequence[tuple[float, float]], labels: Sequence[float],
    steps: int,
) -> tuple[list[float], list[float], list]:
    """``steps`` steps of SGD on a sigmoid neuron from ``SIGMOID_START``, mean squared error.

    Each step: forward, zero_grad, backward, update. Returns each step's loss, the gradients of
    the first step, and the parameters (Values) after the last step.
    """
    params = [value_cls(v) for v in SIGMOID_START]
    w1, w2, b = params
    scale = 1.0 / len(points)
    losses, first_grads = [], []
    for _ in range(steps):
        loss = sum((sigmoid(w1 * x1 + w2 * x2 + b) - y) ** 2 for (x1, x2), y in zip(points, labels)) * scale
        for p in params:
            p.grad = 0.0
        loss.backward()
        if not first_grads:
            first_grads = [p.grad for p in params]
        for p in params:
            p.data -= SIGMOID_RATE * p.grad
        losses.append(loss.data)
    return losses, first_grads, params


SIGMOID_VARIANTS: dict[str, tuple[type, Callable]] = {
    MG: (MicrogradValue, micrograd_sigmoid),
    OURS: (Value, our_sigmoid),
    "ours, 4-gate sigmoid": (Value, our_sigmoid_as_micrograd_builds_it),
}


def check_sigmoid_agreement(points, labels, steps: int = SIGMOID_STEPS) -> dict[str, object]:
    """All variants give the same loss at every step (1e-12 relative), the same first gradients
    and the same final weights (1e-12); also the nodes one step's graph holds in each."""
    runs = {
        name: sigmoid_training(cls, sigmoid, points, labels, steps)
        for name, (cls, sigmoid) in SIGMOID_VARIANTS.items()
    }
    reference_losses, reference_grads, reference_params = runs[MG]
    assert reference_losses[-1] < reference_losses[0], "the neuron did not learn"
    scale = max(abs(g) for g in reference_grads)
    for name, (losses, grads, params) in runs.items():
        for step, (ours, theirs) in enumerate(zip(losses, reference_losses)):
            assert _close(ours, theirs, 0.0, 1e-12), (
                f"{name}: step {step} loss {ours!r}, micrograd's {theirs!r}"
            )
        for ours, theirs in zip(grads, reference_grads):
            assert _close(ours, theirs, scale, 1e-12), f"{name}: gradient {ours!r}, micrograd's {theirs!r}"
        for p, q in zip(params, reference_params):
            assert _close(p.data, q.data, 1.0, 1e-12), f"{name}: weight {p.data!r}, micrograd's {q.data!r}"
    nodes = {}
    for name, (cls, sigmoid) in SIGMOID_VARIANTS.items():
        w1, w2, b = (cls(v) for v in SIGMOID_START)
        loss = sum((sigmoid(w1 * x1 + w2 * x2 + b) - y) ** 2 for (x1, x2), y in zip(points, labels))
        nodes[name] = count_nodes(loss * (1.0 / len(points)))
    return {"losses": reference_losses, "nodes": nodes}


def time_sigmoid_training(variant: str, points, labels) -> float:
    """Seconds per step, over ``SIGMOID_STEPS`` steps from the same start."""
    cls, sigmoid = SIGMOID_VARIANTS[variant]
    gc.collect()
    start = clock()
    sigmoid_training(cls, sigmoid, points, labels, SIGMOID_STEPS)
    elapsed = clock() - start
    gc.collect()
    return elapsed / SIGMOID_STEPS


# -- (4) memory ------------------------------------------------------------------------------------


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


# -- (5) depth -----------------------------------------------------------------------------------


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


# -- (6) growth: cost per gate from 1k to 1M gates ---------------------------------------------------


def measure_growth(sizes: Sequence[int], micrograd_max: int, runs: int, seed: int) -> list[dict[str, object]]:
    """For each size: build + backward seconds per run, per engine, collector on and off.

    Both engines' results are checked (micrograd's against ours where it runs, ours against the
    program's own values everywhere); micrograd is skipped above ``micrograd_max`` gates.
    """
    results = []
    for size in sizes:
        program = make_program(size, width=growth_width(size), seed=seed)
        names = [MG, OURS] if size <= micrograd_max else [OURS]
        if MG in names:
            check_graph_agreement(program)
        else:
            check_our_graph(program)
        on, off = (_growth_timings(program, names, runs, collector) for collector in (True, False))
        results.append({"gates": len(program.steps), "depth": program.depth, "on": on, "off": off})
    restore_collector()
    return results


def _growth_timings(program: Program, names: Sequence[str], runs: int, collector: bool) -> dict[str, list]:
    def timed(name: str) -> float:
        if collector:
            fair_start(name, lambda: time_graph(Value, program))
        else:  # with the collector off, its thresholds do not matter
            restore_collector()
        return sum(time_graph(ENGINES[name], program, collector))

    return _timings(runs, timed, names)


# -- the report --------------------------------------------------------------------------------


def _timings(
    runs: int, measure: Callable[[str], object], names: Sequence[str] = (MG, OURS)
) -> dict[str, list]:
    """``measure(engine)`` for each run, the engines taking turns at going first."""
    results: dict[str, list] = {name: [] for name in names}
    for run in range(runs):
        for name in names if run % 2 == 0 else names[::-1]:
            results[name].append(measure(name))
    return results


def _fmt_time(best: float, median: float) -> str:
    if best < 1e-3:
        unit, scale, digits = "us", 1e6, 1
    elif best < 1:
        unit, scale, digits = "ms", 1e3, 1
    else:
        unit, scale, digits = "s", 1.0, 2
    return f"{best * scale:.{digits}f} / {median * scale:.{digits}f} {unit}"


def _ratio(theirs: list[float], ours: list[float]) -> str:
    return (f"{min(theirs) / min(ours):.1f}x / "
            f"{statistics.median(theirs) / statistics.median(ours):.1f}x faster")


def _per_gate(samples: list[float], gates: int) -> str:
    return f"{min(samples) / gates * 1e6:.2f} / {statistics.median(samples) / gates * 1e6:.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one run (a smoke test)")
    parser.add_argument("--gates", type=int, default=50_000, help="gates in the random graph (1)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per engine")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random graphs")
    parser.add_argument("--depth", type=int, default=1_000_000, help="chain depth to try with ours (5)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")],
                        default=[1_000, 10_000, 100_000, 1_000_000], help="gates of the growth graphs (6)")
    parser.add_argument("--micrograd-max", type=int, default=100_000,
                        help="largest growth graph micrograd is timed on (at 1M: ~25 s and 1.4 GB per run)")
    parser.add_argument("--other-objects", type=int, default=1_000_000,
                        help="objects kept alive in the last row of (1) (the collector cost depends on them)")
    parser.add_argument("--wall", action="store_true", help="time with the wall clock, not CPU time")
    args = parser.parse_args(argv)
    if args.quick:
        args.gates, args.runs, args.depth = min(args.gates, 600), 1, min(args.depth, 3_000)
        args.other_objects = min(args.other_objects, 10_000)
        args.sizes, args.micrograd_max = [300, 1_000], 1_000
        args.points = 8
    else:
        args.points = 100
    return args


def run(argv: Sequence[str] | None = None) -> dict[str, object]:
    args = parse_arguments(argv)
    global clock
    clock = time.perf_counter if args.wall else time.process_time
    restore_collector()

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

    def graph_run(name: str, collector: bool) -> tuple[float, float]:
        fair_start(name, lambda: time_graph(Value, program))
        return time_graph(ENGINES[name], program, collector)

    graph = _timings(args.runs, lambda name: graph_run(name, True))
    graph_no_gc = _timings(args.runs, lambda name: graph_run(name, False))
    # The collector's full collections come when the objects it has seen survive grow by a
    # quarter, so the more objects a process already holds, the rarer they are for a new graph.
    other_objects = [[] for _ in range(args.other_objects)]
    graph_crowded = _timings(args.runs, lambda name: graph_run(name, True))
    del other_objects

    points, labels = two_moons(args.points)
    loss = check_training_agreement(points, labels)
    print(f"(2) MLP 2-16-16-1 on {args.points} two-moons points: both engines' loss = {loss!r}")

    def step_run(name: str, collector: bool) -> float:
        fair_start(name, lambda: time_training_step(OURS, points, labels))
        return time_training_step(name, points, labels, collector)

    step = _timings(args.runs, lambda name: step_run(name, True))
    step_no_gc = _timings(args.runs, lambda name: step_run(name, False))

    blob_xy, blob_labels = blob_points(args.points)
    sigmoid = check_sigmoid_agreement(blob_xy, blob_labels)
    sigmoid_nodes = sigmoid["nodes"]
    print(
        f"(3) sigmoid neuron on {args.points} blob points, {SIGMOID_STEPS} steps: losses agree to 1e-12, "
        f"{sigmoid['losses'][0]:.12g} -> {sigmoid['losses'][-1]:.12g}; nodes per step: "
        + ", ".join(f"{name} {n}" for name, n in sigmoid_nodes.items())
    )

    def sigmoid_run(variant: str) -> float:
        fair_start(variant, lambda: time_sigmoid_training(OURS, blob_xy, blob_labels))
        return time_sigmoid_training(variant, blob_xy, blob_labels)

    sigmoid_times = _timings(args.runs, sigmoid_run, list(SIGMOID_VARIANTS))

    restore_collector()
    memory = {name: bytes_per_gate(cls, program) for name, cls in ENGINES.items()}

    deepest_mg = deepest_micrograd_chain()
    restore_collector()
    ours_deep = chain_backprops(Value, args.depth)
    restore_collector()

    growth = measure_growth(args.sizes, args.micrograd_max, args.runs, args.seed)

    rows = []

    def timing_row(what: str, samples: dict[str, list[float]], ours: str = OURS) -> None:
        rows.append((
            what,
            _fmt_time(min(samples[MG]), statistics.median(samples[MG])),
            _fmt_time(min(samples[ours]), statistics.median(samples[ours])),
            _ratio(samples[MG], samples[ours]),
        ))

    def memory_row(what: str, index: int) -> None:
        ours, theirs = memory[OURS][index], memory[MG][index]
        rows.append((what, f"{theirs:.0f}", f"{ours:.0f}", f"{ours / theirs:.2f} of micrograd's"))

    n = len(program.steps)
    timing_row(f"(1) build {n:,}-gate graph", {k: [b for b, _ in v] for k, v in graph.items()})
    timing_row("(1) backward", {k: [w for _, w in v] for k, v in graph.items()})
    timing_row("(1) build + backward", {k: [b + w for b, w in v] for k, v in graph.items()})
    timing_row("(1) build, gc off while timed", {k: [b for b, _ in v] for k, v in graph_no_gc.items()})
    timing_row("(1) build + backward, gc off while timed",
               {k: [b + w for b, w in v] for k, v in graph_no_gc.items()})
    timing_row(f"(1) build + backward, {args.other_objects:,} more objects alive in the process",
               {k: [b + w for b, w in v] for k, v in graph_crowded.items()})
    timing_row("(2) MLP training step", step)
    timing_row("(2) MLP training step, gc off while timed", step_no_gc)
    timing_row("(3) sigmoid neuron training step (ours: one sigmoid gate)", sigmoid_times)
    timing_row("(3) the same, ours built like micrograd's: (1 + (-z).exp()) ** -1", sigmoid_times,
               "ours, 4-gate sigmoid")
    memory_row("(4) bytes per gate, graph of (1)", 0)
    memory_row("(4) extra peak bytes per gate during backward", 1)
    rows.append((
        "(5) deepest chain backpropagated",
        f"{deepest_mg:,} (RecursionError at {deepest_mg + 1:,})" if deepest_mg is not None
        else f"at least {2 * sys.getrecursionlimit():,}",
        f"{args.depth:,} (backward {ours_deep:.2f} s)" if ours_deep is not None
        else f"failed at {args.depth:,}",
        "",
    ))
    print()
    print("times are best / median of the runs")
    print()
    _table(("measurement", MG, OURS, "ratio"), rows)

    print()
    print("(6) build + backward, microseconds per gate (best / median), as the graph grows")
    print()
    growth_rows = []
    for size in growth:
        gates, on, off = size["gates"], size["on"], size["off"]
        row = [f"{gates:,}", str(size["depth"])]
        for samples in (on, off):
            if MG in samples:
                row += [_per_gate(samples[MG], gates), _per_gate(samples[OURS], gates),
                        _ratio(samples[MG], samples[OURS])]
            else:
                skipped = f"not run (> --micrograd-max {args.micrograd_max:,})"
                row += [skipped, _per_gate(samples[OURS], gates), ""]
        growth_rows.append(row)
    _table(("gates", "depth", "micrograd, gc on", "autograd_gates, gc on", "ratio",
            "micrograd, gc off", "autograd_gates, gc off", "ratio"), growth_rows)
    first, last = growth[0], growth[-1]
    print()
    for name in (OURS, MG):
        timed = [size for size in growth if name in size["on"]]
        for key, state in (("on", "gc on"), ("off", "gc off")):
            first, last = (min(size[key][name]) / size["gates"] for size in (timed[0], timed[-1]))
            print(f"{name}, {state}: cost per gate at {timed[-1]['gates']:,} gates = {last / first:.2f} x "
                  f"its cost at {timed[0]['gates']:,} (best times)")
    return {"graph": graph, "graph_no_gc": graph_no_gc, "graph_crowded": graph_crowded,
            "step": step, "step_no_gc": step_no_gc,
            "sigmoid": sigmoid_times, "sigmoid_nodes": sigmoid_nodes, "memory": memory,
            "deepest_micrograd": deepest_mg, "ours_depth_seconds": ours_deep, "loss": loss,
            "agreement": agreement, "growth": growth}


def main(argv: Sequence[str] | None = None) -> None:
    run(argv)


if __name__ == "__main__":
    main()
