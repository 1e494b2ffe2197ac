"""The benchmark against micrograd runs, and both engines compute the same things in it.

Also pins the engine's speed-tuned internals (the iterative topological sort and the
backward loop) to their plain reference forms, on random graphs. No timing is asserted.
"""

from __future__ import annotations

import gc
import importlib.util
import math
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_gates import Value, topological_order

BENCH_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_micrograd.py"


@pytest.fixture(scope="module")
def bench():
    pytest.importorskip("micrograd", reason="the benchmark compares against micrograd (extra 'bench')")
    spec = importlib.util.spec_from_file_location("bench_micrograd", BENCH_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


# -- the benchmark script ----------------------------------------------------------------------


def test_quick_run_prints_the_tables(bench, capsys):
    results = bench.run(["--quick"])
    out = capsys.readouterr().out
    assert "| measurement | micrograd | autograd_gates | ratio |" in out
    rows = ("(1) build", "(1) backward", "more objects alive", "(2) MLP training step",
            "(3) sigmoid neuron training step", "(4) bytes per gate", "(5) deepest chain")
    for row in rows:
        assert row in out
    assert "| gates | depth | micrograd, gc on | autograd_gates, gc on | ratio |" in out
    assert results["ours_depth_seconds"] is not None
    # micrograd's recursive topological sort stops short of Python's recursion limit.
    assert 100 < results["deepest_micrograd"] < sys.getrecursionlimit()
    # Each growth size was timed for both engines, collector on and off, once (--quick).
    assert [size["gates"] for size in results["growth"]] == [299, 999]
    for size in results["growth"]:
        for samples in (size["on"], size["off"]):
            assert sorted(samples) == ["autograd_gates", "micrograd"]
            assert all(len(times) == 1 and times[0] >= 0 for times in samples.values())


def test_random_program_stays_bounded_and_feeds_the_root(bench):
    program = bench.make_program(3_000, width=100, seed=3)
    assert 2_900 <= len(program.steps) <= 3_000
    assert {op for op, _, _ in program.steps} == set(range(6))  # every op is exercised
    agreement = bench.check_graph_agreement(program)  # asserts every node feeds the root
    assert math.isfinite(agreement["root"]) and agreement["root"] == program.root[0]
    assert agreement["grad_rel_diff"] <= 1e-9


def test_replayed_program_matches_its_float_semantics(bench):
    program = bench.make_program(400, width=20, seed=5)
    nodes = bench.replay(Value, program)
    values = list(program.leaves)
    for op, i, j in program.steps:
        values.append(bench._ours(op, values[i], values[j] if j >= 0 else 0.0))
    assert [n.data for n in nodes] == values
    assert values[-1] == program.root[0]


def test_a_node_cut_off_from_the_root_is_caught(bench):
    program = bench.make_program(400, width=20, seed=5)
    # A last step that uses only its own operand leaves the rest of the graph behind.
    cut = bench.Program(program.leaves, [*program.steps, (bench.RELU, len(program.leaves), -1)],
                        program.depth, program.root)
    with pytest.raises(AssertionError, match="does not depend on"):
        bench.check_our_graph(cut)


def test_timed_runs_check_the_root_they_computed(bench):
    program = bench.make_program(300, width=20, seed=2)
    for engine in bench.ENGINES.values():
        build, backward = bench.time_graph(engine, program)
        assert build >= 0 and backward >= 0
    root = (program.root[0] + 1, program.root[1])
    wrong = bench.Program(program.leaves, program.steps, program.depth, root)
    with pytest.raises(AssertionError, match="expected"):
        bench.time_graph(Value, wrong, collector=False)


def test_growth_programs_stay_shallow_enough_for_micrograd(bench):
    program = bench.make_program(100_000, width=bench.growth_width(100_000), seed=0)
    assert bench.growth_width(1_000_000) == 5_000 and bench.growth_width(1_000) == 500
    assert 150 <= program.depth <= 250 < sys.getrecursionlimit()


def test_both_engines_give_the_same_training_loss(bench):
    points, labels = bench.two_moons(10)
    loss = bench.check_training_agreement(points, labels)  # asserts equality bit for bit
    assert loss > 0


def test_our_mlp_copies_micrograds_weights(bench):
    models = bench.fresh_models()
    ours = [p.data for p in models["autograd_gates"].parameters()]
    theirs = [p.data for p in models["micrograd"].parameters()]
    assert len(ours) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert ours == theirs


def test_two_moons_is_seeded_and_labelled(bench):
    points, labels = bench.two_moons(20)
    assert points == bench.two_moons(20)[0]
    assert sorted(set(labels)) == [-1.0, 1.0] and labels.count(1.0) == 10
    assert all(len(p) == 2 and all(isinstance(c, float) for c in p) for p in points)


def test_micrograds_lecture_exp_and_sigmoid(bench):
    z = bench.MicrogradValue(0.3)
    s = bench.micrograd_sigmoid(z)
    s.backward()
    expected = 1 / (1 + math.exp(-0.3))
    assert s.data == pytest.approx(expected, rel=1e-15)
    assert z.grad == pytest.approx(expected * (1 - expected), rel=1e-14)
    # neg (a constant -1 and a product), exp, 1 + (a constant and a sum), ** -1: built from micrograd's gates.
    assert bench.count_nodes(s) == 7


def test_sigmoid_neuron_agrees_across_engines_and_learns(bench):
    points, labels = bench.blob_points(20)
    assert sorted(set(labels)) == [0.0, 1.0] and all(isinstance(c, float) for p in points for c in p)
    result = bench.check_sigmoid_agreement(points, labels, steps=5)
    assert result["losses"][-1] < result["losses"][0]
    assert set(result["nodes"]) == set(bench.SIGMOID_VARIANTS)


def test_sigmoid_agreement_catches_a_different_function(bench, monkeypatch):
    points, labels = bench.blob_points(10)
    variants = dict(bench.SIGMOID_VARIANTS)
    variants["autograd_gates"] = (Value, lambda z: (z * 0.5).tanh() * 0.5 + 0.5000001)  # almost sigmoid
    monkeypatch.setattr(bench, "SIGMOID_VARIANTS", variants)
    with pytest.raises(AssertionError, match="autograd_gates: step 0 loss"):
        bench.check_sigmoid_agreement(points, labels, steps=2)


def test_fair_start_gives_micrograd_the_users_thresholds_and_lets_ours_adapt(bench):
    from autograd_gates.engine.collector import restore_collector

    restore_collector()
    before = gc.get_threshold()
    program = bench.make_program(20_000, width=200, seed=1)

    def warm_up():
        bench.time_graph(Value, program)

    try:
        bench.fair_start("autograd_gates", warm_up)
        adapted = gc.get_threshold()
        assert adapted[0] > before[0]  # backward() of a 20,000-gate graph raised the young threshold
        bench.fair_start("micrograd", warm_up)
        assert gc.get_threshold() == before  # micrograd is timed as its user has the collector
    finally:
        restore_collector()
    assert gc.get_threshold() == before


# -- the tuned internals against their reference forms -----------------------------------------


def reference_order(root: Value) -> list[Value]:
    """The recursive depth-first search the iterative one must reproduce exactly."""
    order: list[Value] = []
    seen: set[Value] = set()

    def visit(node: Value) -> None:
        if node in seen:
            return
        seen.add(node)
        for operand in node.parents:
            visit(operand)
        order.append(node)

    visit(root)
    return order


def reference_backward(root: Value) -> None:
    """The chain rule read straight from the gate table, node by node."""
    order = reference_order(root)
    for node in order:
        if node.gate is not None:
            node.grad = 0.0
    root.grad += 1.0
    for node in reversed(order):
        if node.gate is not None:
            operands = node.parents
            partials = node.gate.partials(*(p.data for p in operands), node.data)
            for operand, partial in zip(operands, partials):
                operand.grad += partial * node.grad


STEP = st.tuples(st.sampled_from(["+", "*", "-", "max", "relu", "neg", "**2", "/"]), st.integers(0, 10**6),
                 st.integers(0, 10**6))


def build(leaf_values: list[float], steps: list[tuple[str, int, int]]) -> tuple[list[Value], Value]:
    """A random graph with shared subexpressions: each step picks any earlier nodes.

    Factors pass through tanh first, so no value can overflow in 25 steps.
    """
    leaves = [Value(v, label=f"x{k}") for k, v in enumerate(leaf_values)]
    nodes = list(leaves)
    for op, i, j in steps:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        if op == "+":
            nodes.append(a + b)
        elif op == "*":
            nodes.append(a * b.tanh())
        elif op == "-":
            nodes.append(a - b)
        elif op == "max":
            nodes.append(a.max(b))
        elif op == "relu":
            nodes.append(a.relu())
        elif op == "neg":
            nodes.append(-a)
        elif op == "**2":
            nodes.append(a.tanh() ** 2)
        else:
            nodes.append(a / (b * b + 1.0))
    return leaves, nodes[-1]


@settings(max_examples=60, deadline=None)
@given(
    leaf_values=st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=4),
    steps=st.lists(STEP, min_size=1, max_size=25),
)
def test_order_and_gradients_match_the_reference_forms(leaf_values, steps):
    leaves, root = build(leaf_values, steps)
    order = topological_order(root)
    assert order == reference_order(root)

    root.backward()
    ours = [leaf.grad for leaf in leaves]
    intermediates = [node.grad for node in order]
    root.zero_grad()
    reference_backward(root)
    # Same order, same operations: the same floats, bit for bit (NaN-free by construction).
    assert [leaf.grad for leaf in leaves] == ours
    assert [node.grad for node in order] == intermediates


def test_reset_intermediates_resets_exactly_the_gated_nodes():
    a, b = Value(2.0, "a"), Value(3.0, "b")
    x = a * b + a
    for node in topological_order(x):
        node.grad = 7.0
    order = topological_order(x, reset_intermediates=True)
    assert [node.grad for node in order] == [0.0 if node.gate else 7.0 for node in order]
    assert {id(n) for n in order if n.gate is None} == {id(a), id(b)}


# -- the tape benchmark --------------------------------------------------------------------------------

TAPE_BENCH_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_tape.py"


@pytest.fixture(scope="module")
def tape_bench(bench):
    spec = importlib.util.spec_from_file_location("bench_tape", TAPE_BENCH_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_tape_benchmark_quick_run_prints_every_engine(tape_bench, capsys):
    results = tape_bench.run(["--quick"])
    out = capsys.readouterr().out
    engines = ["micrograd", "scalar engine", "tape, interpreted", "tape, compiled", "tape, fused"]
    if tape_bench.HAS_TORCH:
        engines.append("PyTorch tensor MLP")
    for name in engines:
        assert f"| {name} |" in out
    assert set(results["times"]) == set(engines)
    assert "200 points, each engine in a fresh process" in out
    assert results["big"]["tape, fused"]["seconds"] > 0


def test_every_engine_computes_micrograds_loss_and_update(tape_bench):
    points, labels = tape_bench.demo.two_moons(30)
    losses = tape_bench.check_agreement(tape_bench.engines(points, labels))  # asserts to 1e-12
    assert len(set(round(v, 10) for v in losses.values())) == 1


def test_the_fused_tape_finds_micrograds_layers(tape_bench):
    from autograd_gates.engine.tape.compiler import Dense, Map, ParameterDot
    from autograd_gates.engine.tape.fusion import fused_schedule

    points, labels = tape_bench.demo.two_moons(10)
    step = tape_bench.TapeStep("fused", points, labels)
    items = fused_schedule(step.tape.program).items
    assert sum(isinstance(i, Dense) for i in items) == 3
    assert sum(isinstance(i, Map) for i in items) == 2
    assert sum(isinstance(i, ParameterDot) for i in items) == 1  # alpha * sum(p * p), starting at 0
