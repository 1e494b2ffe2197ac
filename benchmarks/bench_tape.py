"""micrograd's demo step on every engine, side by side in one run: micrograd, the scalar engine,
the tape at each level, and PyTorch's tensor MLP.

    python benchmarks/bench_tape.py            # the full run (a few minutes)
    python benchmarks/bench_tape.py --quick    # tiny sizes, one run: a smoke test

The step is micrograd's demo notebook's loop body: MLP 2-16-16-1 (relu, last layer linear) on
100 two-moons points, the hinge loss ``(1 + -y*score).relu()`` averaged, plus ``1e-4 * sum p*p``,
then zero_grad, backward and an SGD update (rate 1.0). Every engine starts from micrograd's own
initial weights (``random.seed(1337)``) and the same points; the script asserts that every
engine's loss equals micrograd's to 1e-12 (relative) and that the updated weights agree.

* micrograd 0.1.0 and the scalar engine build the circuit every step (``bench_micrograd``'s step).
* The tape traces the same per-sample circuit once (untimed, reported apart), then each step is
  ``forward(batch)``, ``backward()``, the update. Levels: interpreted, compiled, fused.
* PyTorch: ``nn.Linear`` layers, float64, ``torch.set_num_threads(1)``, the same weights, the same
  loss written with tensors, ``loss.backward()`` and the update under ``no_grad``. Only if torch is
  installed (``pip install -e ".[bench]"``).

Then a 10,000-sample batch (the same recipe, more points), each engine in a fresh process: the
time of a warm step, and the peak memory of the first step after setup (the tape traced and
compiled): the rise of the peak resident memory (``VmHWM``, reset just before) and, for the Python
engines, the peak that ``tracemalloc`` sees.

Times are CPU time (``time.process_time``) per step, best and median of the runs, the engines
taking turns; a fast step is timed as a loop of steps long enough to measure. Each timing runs in
a fresh process that holds only its own engine: Python's cyclic collector walks every object a
process holds, and micrograd (which makes work for it) would otherwise pay for torch's objects.
numpy's BLAS and PyTorch are held to one thread, so every engine uses one core.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads its BLAS: one thread, like torch below

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout this script lives in, installed or not
sys.path.insert(0, str(HERE))

import bench_micrograd as demo  # noqa: E402

from autograd_gates import Value  # noqa: E402
from autograd_gates.engine.tape import LEVELS, Tape  # noqa: E402

HAS_TORCH = importlib.util.find_spec("torch") is not None  # imported only by the process timing it

ALPHA = 1e-4
LEARNING_RATE = 1.0
clock = time.process_time


# -- one step per engine ----------------------------------------------------------------------------


def initial_weights(seed: int = 1337) -> list[tuple[list[list[float]], list[float]]]:
    """micrograd's MLP(2, [16, 16, 1]) weights: per layer, (one row of weights per neuron, biases)."""
    random.seed(seed)
    reference = demo.MicrogradMLP(2, [16, 16, 1])
    return [([[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons])
            for layer in reference.layers]


class ScalarStep:
    """micrograd's or this library's scalar engine: the demo's loop body, the circuit built each step."""

    def __init__(self, engine: str, points, labels) -> None:
        self.engine = engine
        self.points, self.labels = points, labels
        self.model = demo.fresh_models()[engine]

    def __call__(self) -> float:
        loss = demo.training_step(self.model, demo.ENGINES[self.engine], self.points, self.labels)
        return float(loss.data)

    def weights(self) -> list[float]:
        return [p.data for p in self.model.parameters()]


class TapeStep:
    """The same model (plain Values with micrograd's weights), traced once, replayed per step."""

    def __init__(self, level: str, points, labels) -> None:
        self.model = demo.fresh_models()["autograd_gates"]
        params = self.model.parameters()
        self.params = params
        self.batch = np.column_stack([np.asarray(points, dtype=float), np.asarray(labels, dtype=float)])

        def per_sample(x0: Value, x1: Value, y: Value) -> Value:
            score = self.model([x0, x1])
            return (1 + -y * score).relu()

        def total(data_loss: Value) -> Value:
            return data_loss + ALPHA * sum(p * p for p in params)

        start = clock()
        self.tape = Tape.trace(per_sample, self.batch[0], params, names=["x0", "x1", "y"],
                               reduce="mean", then=total, level=level)
        self.trace_seconds = clock() - start
        start = clock()
        if level != "interpreted":
            self.tape.source(level)  # compile (and fuse) now, not in the first timed step
        self.compile_seconds = clock() - start

    def __call__(self) -> float:
        loss = self.tape.forward(self.batch)
        for p in self.params:
            p.grad = 0.0
        self.tape.backward(inputs=False)
        for p in self.params:
            p.data -= LEARNING_RATE * p.grad
        return loss

    def weights(self) -> list[float]:
        return [p.data for p in self.params]


class TorchStep:
    """PyTorch's tensor MLP: nn.Linear layers, float64, one thread, micrograd's weights."""

    def __init__(self, points, labels) -> None:
        import torch

        self.torch = torch
        torch.set_num_threads(1)
        layers = []
        weights = initial_weights()
        for k, (rows, biases) in enumerate(weights):
            linear = torch.nn.Linear(len(rows[0]), len(rows), dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.tensor(rows, dtype=torch.float64))
                linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
            layers.append(linear)
            if k < len(weights) - 1:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.X = torch.tensor(points, dtype=torch.float64)
        self.y = torch.tensor(labels, dtype=torch.float64)

    def __call__(self) -> float:
        torch = self.torch
        scores = self.model(self.X)[:, 0]
        data_loss = torch.relu(1 + -self.y * scores).sum() * (1.0 / len(self.y))
        reg_loss = ALPHA * sum((p * p).sum() for p in self.model.parameters())
        total = data_loss + reg_loss
        self.model.zero_grad()
        total.backward()
        with torch.no_grad():
            for p in self.model.parameters():
                p -= LEARNING_RATE * p.grad
        return total.item()

    def weights(self) -> list[float]:
        out = []
        for layer in self.model:
            if isinstance(layer, self.torch.nn.Linear):
                for row, b in zip(layer.weight.tolist(), layer.bias.tolist()):
                    out.extend([*row, b])  # micrograd's order: a neuron's weights, then its bias
        return out


def engines(points, labels, with_micrograd: bool = True) -> dict[str, Callable[[], object]]:
    """Builders of a fresh step, by engine name, in the table's order."""
    made: dict[str, Callable[[], object]] = {}
    if with_micrograd:
        made["micrograd"] = lambda: ScalarStep("micrograd", points, labels)
    made["scalar engine"] = lambda: ScalarStep("autograd_gates", points, labels)
    for level in LEVELS:
        made[f"tape, {level}"] = lambda level=level: TapeStep(level, points, labels)
    if HAS_TORCH:
        made["PyTorch tensor MLP"] = lambda: TorchStep(points, labels)
    return made


# -- checks and timing --------------------------------------------------------------------------------


def check_agreement(builders: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Every engine's first-step loss equals the first engine's to 1e-12, and so do the updated weights."""
    losses, weights = {}, {}
    for name, build in builders.items():
        step = build()
        losses[name] = step()
        weights[name] = np.array(step.weights())
    first = next(iter(losses))
    for name, loss in losses.items():
        expected = losses[first]
        assert abs(loss - expected) <= 1e-12 * abs(expected), f"{name}: loss {loss!r} != {expected!r}"
        scale = np.max(np.abs(weights[first]))
        worst = np.max(np.abs(weights[name] - weights[first]))
        assert worst <= 1e-12 * scale, f"{name}: updated weights differ by {worst:.2e}"
    return losses


def time_step(step: Callable[[], object], budget: float) -> float:
    """CPU seconds per step: one step, or a loop of steps filling about ``budget`` seconds."""
    gc.collect()
    start = clock()
    step()
    once = clock() - start
    repeats = max(1, int(budget / max(once, 1e-6)))
    if repeats == 1:
        return once
    gc.collect()
    start = clock()
    for _ in range(repeats):
        step()
    return (clock() - start) / repeats


def timings(names: Sequence[str], runs: int, budget: float, n_points: int) -> dict[str, list[float]]:
    """Seconds per step, each engine timed ``runs`` times, each time in a fresh process.

    A process holds only its own engine (micrograd's, or torch and its objects): the cyclic
    collector walks every object a process holds, so an engine timed beside another's imports
    would pay for them. The engines take turns, run by run.
    """
    results: dict[str, list[float]] = {name: [] for name in names}
    for run in range(runs):
        for name in names if run % 2 == 0 else names[::-1]:
            results[name].append(_child(name, n_points, "time", budget)["seconds"])
    return results


def _child(name: str, n_points: int, what: str, budget: float = 0.2) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, "--points", str(n_points), "--measure", what,
         "--budget", str(budget)],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the big batch, one engine per process ------------------------------------------------------------


def _rss_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def child(engine: str, n_points: int, what: str, budget: float) -> dict[str, float | None]:
    """In a fresh process: ``"time"``, seconds per step of ``engine``; ``"memory"``, also the peak
    memory of its first step after setup."""
    points, labels = demo.two_moons(n_points)
    step = engines(points, labels)[engine]()  # a tape is traced and compiled here, not timed
    try:
        return _measure(step, engine, what, budget)
    except RecursionError:  # micrograd's recursive sort, on the 10,000-term sum of the losses
        return {"seconds": None, "rss_bytes": None, "traced_bytes": None, "failed": "RecursionError"}


def _measure(step: Callable[[], object], engine: str, what: str, budget: float) -> dict[str, float | None]:
    if what == "time":
        step()  # warm
        return {"seconds": time_step(step, budget)}
    gc.collect()
    # Memory: the first step, whose arrays (or tensors) the process has not held before; a later
    # step reuses the memory the allocator kept and would show no rise.
    reset = True
    try:
        Path("/proc/self/clear_refs").write_text("5")  # the peak resident size starts again here
    except OSError:
        reset = False
    before = _rss_kib("VmRSS")
    tracemalloc.start()
    step()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    peak = _rss_kib("VmHWM")
    rss = (peak - before) * 1024 if reset and peak is not None and before is not None else None
    gc.collect()
    seconds = time_step(step, budget)  # warm, and without tracemalloc (which slows Python engines)
    python_engine = engine != "PyTorch tensor MLP"
    return {"seconds": seconds, "rss_bytes": rss, "traced_bytes": traced if python_engine else None}


def big_batch(names: Sequence[str], n_points: int, budget: float) -> dict[str, dict]:
    return {name: _child(name, n_points, "memory", budget) for name in names}


# -- the report ---------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.3f} ms" if seconds < 0.01 else f"{seconds * 1e3:.1f} ms"


def _mib(n: float | None) -> str:
    return "–" if n is None else f"{n / 2**20:.1f} MiB"


def run(argv: Sequence[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and one run (a smoke test)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per engine")
    parser.add_argument("--budget", type=float, default=0.2,
                        help="seconds a fast engine's loop of steps fills")
    parser.add_argument("--big", type=int, default=10_000, help="points in the big batch (0: skip it)")
    parser.add_argument("--big-scalar", action="store_true",
                        help="also run micrograd and the scalar engine on the big batch (slow)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--measure", default="time", help=argparse.SUPPRESS)
    parser.add_argument("--points", type=int, default=100, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.points, args.measure, args.budget)))
        return {}
    if args.quick:
        args.runs, args.budget, args.points, args.big = 1, 0.01, 8, min(args.big, 200)

    points, labels = demo.two_moons(args.points)
    builders = engines(points, labels)
    tapes = {level: TapeStep(level, points, labels) for level in LEVELS}  # traced before torch loads
    losses = check_agreement(builders)
    torch_version = importlib.metadata.version("torch") if HAS_TORCH else None
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}"
          + (f", torch {torch_version}" if torch_version else ", torch not installed")
          + f"; {args.runs} runs, CPU time, one thread, each timing in a fresh process")
    print(f"MLP 2-16-16-1 on {args.points} two-moons points: every engine's loss = {losses['micrograd']!r} "
          f"(to 1e-12; spread {max(losses.values()) - min(losses.values()):.1e})")
    for level, step in tapes.items():
        print(f"tape, {level}: {len(step.tape)} ops, traced in {_ms(step.trace_seconds)}, "
              f"compiled in {_ms(step.compile_seconds)} (once per model)")

    times = timings(list(builders), args.runs, args.budget, args.points)
    best = {name: min(t) for name, t in times.items()}
    median = {name: statistics.median(t) for name, t in times.items()}
    rows = [("engine", "time per step (best / median)", "x micrograd (best / median)")]
    for name in times:
        rows.append((name, f"{_ms(best[name])} / {_ms(median[name])}",
                     f"{best['micrograd'] / best[name]:,.0f}x / {median['micrograd'] / median[name]:,.0f}x"))
    print()
    _table(rows)

    big = {}
    if args.big:
        names = [n for n in builders if n.startswith("tape") or n.startswith("PyTorch")]
        if args.big_scalar:
            names = list(builders)
        if args.quick:
            names = ["tape, fused"]
        big = big_batch(names, args.big, args.budget)
        print()
        print(f"{args.big:,} points, each engine in a fresh process:")
        print()
        rows = [("engine", "time per step", "memory of a step: resident rise", "tracemalloc peak")]
        for name, r in big.items():
            if r.get("failed"):
                rows.append((name, f"fails: {r['failed']}", "–", "–"))
            else:
                rows.append((name, _ms(r["seconds"]), _mib(r["rss_bytes"]), _mib(r["traced_bytes"])))
        _table(rows)
    return {"times": times, "losses": losses, "big": big,
            "ops": {level: len(step.tape) for level, step in tapes.items()}}


def _table(rows: list[tuple[str, ...]]) -> None:
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "|".join("---" for _ in rows[0]) + "|")
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")


def main(argv: Sequence[str] | None = None) -> None:
    run(argv)


if __name__ == "__main__":
    main()
