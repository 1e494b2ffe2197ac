"""How often gradcheck is wrong: false alarms on a correct engine, and bugs it misses.

    python benchmarks/bench_checker.py            # the table of docs/gradcheck.md (a few minutes)
    python benchmarks/bench_checker.py --quick    # 50 checks per row: a smoke test

Each row draws random expressions with the library's own hypothesis strategies
(``expression_cases``, 3 variables, up to 12 leaves, a fixed seed) and counts gradcheck's
verdicts. On the correct engine every ``fail`` is a false alarm. The last row compares reverse
mode with the exact 60-digit reference (``checks/exact.py``) partial by partial.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout, installed or not

from autograd_gates import Value, build, gradcheck  # noqa: E402
from autograd_gates.checks.exact import exact_grad  # noqa: E402
from autograd_gates.checks.strategies import expression_cases, expressions  # noqa: E402

KINKY = st.sampled_from([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0])


def _run(n: int, strategy: st.SearchStrategy, check: Callable[[object], None], seed: int) -> None:
    @hypothesis_seed(seed)
    @settings(max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def loop(case: object) -> None:
        check(case)

    loop()


def verdicts(n: int, lo: float, hi: float, margin: float, seed: int) -> Counter[str]:
    counts: Counter[str] = Counter()

    def check(case: object) -> None:
        expr, xs = case  # type: ignore[misc]
        counts[gradcheck(expr, xs, raise_exception=False).outcome] += 1

    _run(n, expression_cases(3, lo=lo, hi=hi, margin=margin, max_leaves=12), check, seed)
    return counts


def kinky_verdicts(n: int, seed: int) -> Counter[str]:
    counts: Counter[str] = Counter()

    def check(case: object) -> None:
        expr, xs = case  # type: ignore[misc]
        try:
            value = build(expr, xs).data
        except (ValueError, ArithmeticError):
            return
        if abs(value) > 1e8:
            return
        counts[gradcheck(expr, xs, raise_exception=False).outcome] += 1

    _run(n, st.tuples(expressions(3, max_leaves=12), st.tuples(KINKY, KINKY, KINKY)), check, seed)
    return counts


def against_exact(n: int, seed: int) -> tuple[int, int, float]:
    """(partials compared, partials beyond 1e-9 relative with a 1e-12 floor, worst relative error)."""
    total, beyond, worst = 0, 0, 0.0

    def check(case: object) -> None:
        nonlocal total, beyond, worst
        expr, xs = case  # type: ignore[misc]
        leaves = [Value(x) for x in xs]
        build(expr, leaves).backward()
        for leaf, r in zip(leaves, exact_grad(expr, xs)):
            a = leaf.grad
            total += 1
            beyond += abs(a - r) > 1e-12 + 1e-9 * max(abs(a), abs(r))
            if abs(a - r) > 1e-12:
                worst = max(worst, abs(a - r) / max(abs(a), abs(r)))

    _run(n, expression_cases(3, max_leaves=12), check, seed)
    return total, beyond, worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 checks per row")
    parser.add_argument("--checks", type=int, default=3000, help="checks per row")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n = 50 if args.quick else args.checks

    def row(what: str, counts: Counter[str]) -> None:
        total = sum(counts.values())
        print(f"| {what}: {total:,} checks | {counts['fail']} fail, {counts['pass']:,} pass, "
              f"{counts['inconclusive']} inconclusive |")  # fmt: skip

    print("| experiment | result |")
    print("|---|---|")
    row("correct engine, inputs in [-3, 3], margin 1e-3", verdicts(n, -3.0, 3.0, 1e-3, args.seed))
    row("correct engine, inputs in [-30, 30]", verdicts(n, -30.0, 30.0, 1e-3, args.seed + 1))
    row("correct engine, inputs in [-0.01, 0.01], margin 1e-6", verdicts(n, -0.01, 0.01, 1e-6, args.seed + 2))
    row(
        "correct engine, inputs in {0, ±0.5, ±1, ±2} (kinks and ties everywhere)",
        kinky_verdicts(n, args.seed + 3),
    )
    total, beyond, worst = against_exact(n, args.seed + 4)
    print(
        f"| reverse mode vs the exact reference, [-3, 3]: {total:,} partial derivatives | {beyond} beyond "
        f"1e-9 relative with a 1e-12 absolute floor (worst {worst:.1e} relative) |"
    )


if __name__ == "__main__":
    main()
