"""How long Graphviz takes to lay out circuits of different shapes, and how much memory.

    python benchmarks/bench_drawing.py                      # every shape, every renderer found
    python benchmarks/bench_drawing.py --shape fan --sizes 20 40 60 --format svg
    python benchmarks/bench_drawing.py --quick              # two tiny cases: a smoke test

The numbers chose ``DrawingLimits``' defaults (see docs/drawing.md, "Limits"). Each row is
one render of ``draw_dot(root).source`` by one renderer, run as a subprocess with a timeout
(``--timeout``, default 60 s) and an address-space cap (``--memory-mb``, default 8000) so a
blow-up cannot take the machine; the time is wall-clock and the memory the renderer's peak
resident size. ``drawing_size`` shows what the limits look at. Shapes:

* ``fan``:   ``a + a + ... + a``: one input feeds a gate at every level (the worst case);
* ``fan4``, ``fan16``: ``i0 + i1 + i2 + i3 + i0 + ...``: 4 (16) inputs, each at every 4th (16th) level;
* ``chain``: ``a0 + a1 + ... + a(n-1)``: n inputs, each used once;
* ``flat``:  ``a*w0 + a*w1 + ...`` summed as a balanced tree: ``a`` feeds n gates at one depth;
* ``mlp``:   an MLP 2-n-n-1 (tanh) on one sample.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from autograd_gates import Value, draw_dot
from autograd_gates.models.nn import MLP
from autograd_gates.show.drawing import find_renderer
from autograd_gates.show.limits import drawing_size

SIZES = {
    "fan": [20, 30, 40, 50, 60, 80],
    "fan4": [40, 50, 60, 80],
    "fan16": [60, 80, 100, 120],
    "chain": [250, 500, 1000, 2000, 3000],
    "flat": [250, 500, 1000, 2000],
    "mlp": [8, 16, 24, 32],
}


def shape(kind: str, n: int) -> Value:
    if kind == "fan":
        a = Value(1.0, "a")
        x = a
        for _ in range(n - 1):
            x = x + a
    elif kind in ("fan4", "fan16"):
        k = int(kind[3:])
        inputs = [Value(1.0, f"i{j}") for j in range(k)]
        x = inputs[0]
        for i in range(1, n):
            x = x + inputs[i % k]
    elif kind == "chain":
        x = Value(1.0, "a0")
        for i in range(1, n):
            x = x + Value(1.0, f"a{i}")
    elif kind == "flat":
        a = Value(1.0, "a")
        xs = [a * Value(float(i), f"w{i}") for i in range(n)]
        while len(xs) > 1:
            xs = [xs[i] + xs[i + 1] if i + 1 < len(xs) else xs[i] for i in range(0, len(xs), 2)]
        x = xs[0]
    elif kind == "mlp":
        out = MLP(2, [n, n, 1], seed=0)([Value(0.5, "x0"), Value(-0.3, "x1")])
        x = out[0] if isinstance(out, list) else out
    else:
        raise ValueError(kind)
    x.backward()
    return x


def render(cmd: list[str], source: bytes, timeout: float, memory_mb: int) -> tuple[str, float, float]:
    """Run one render; (outcome, seconds, peak resident MB)."""
    limit = memory_mb << 20

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=sink, stderr=subprocess.DEVNULL, preexec_fn=cap
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            proc.stdin.write(source)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # (already reaped by wait4)
    code = proc.returncode
    outcome = "ok" if code == 0 else f"timeout {timeout:g}s" if seconds >= timeout else f"exit {code}"
    return outcome, seconds, usage.ru_maxrss / 1024


def renderers(names: list[str] | None) -> list[Path]:
    if names:
        return [Path(shutil.which(n) or n) for n in names]
    found = [find_renderer().path]
    dot = shutil.which("dot")
    if dot and Path(dot) != found[0]:
        found.append(Path(dot))
    return found


def version(path: Path) -> str:
    done = subprocess.run([str(path), "-V"], capture_output=True, text=True, timeout=30)
    return (done.stderr or done.stdout).strip().splitlines()[0] if done.returncode == 0 else path.name


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", choices=sorted(SIZES), action="append", help="shapes to run (default: all)")
    p.add_argument("--sizes", type=int, nargs="+", help="sizes n (default: per shape)")
    p.add_argument("--format", default="svg", choices=["svg", "png"])
    p.add_argument("--renderer", action="append", help="renderer programs (default: the one found, and dot)")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--memory-mb", type=int, default=8000)
    p.add_argument("--quick", action="store_true", help="two tiny cases (a smoke test)")
    args = p.parse_args(argv)
    if os.name != "posix":
        print("needs POSIX (resource limits, wait4)")
        return 1
    cases = [("fan", 10), ("chain", 20)] if args.quick else [
        (kind, n) for kind in (args.shape or sorted(SIZES)) for n in (args.sizes or SIZES[kind])
    ]
    programs = renderers(args.renderer)
    machine = f"{platform.machine()}, {os.cpu_count()} cores"
    print(f"Python {platform.python_version()}, {machine}; format {args.format}")
    for path in programs:
        print(f"  {path}: {version(path)}")
    print("| shape | n | nodes | edges | skipped ranks | busiest node | " + " | ".join(
        f"{p.name} time, peak" for p in programs) + " |")
    print("|---|---:|---:|---:|---:|---:|" + "---|" * len(programs))
    for kind, n in cases:
        root = shape(kind, n)
        size = drawing_size(root)
        source = draw_dot(root).source.encode()
        cells = []
        for path in programs:
            cmd = [str(path), "-Kdot", f"-T{args.format}"]
            if args.format == "png":
                cmd += ["-Gdpi=96", "-Gsize=62.5,62.5"]  # draw_dot's default cap, 6000 pixels
            outcome, seconds, mb = render(cmd, source, args.timeout, args.memory_mb)
            cells.append(f"{seconds:.2f} s, {mb:.0f} MB" + ("" if outcome == "ok" else f" ({outcome})"))
        print(f"| {kind} | {n} | {size.nodes} | {size.edges} | {size.skipped_ranks} | "
              f"{size.busiest_skipped_ranks} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
