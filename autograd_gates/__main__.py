"""``python -m autograd_gates``: the slides' worked example, forward and backward."""

from __future__ import annotations

from .value import Value


def main(argv: list[str] | None = None) -> int:
    a, b, c, d = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c"), Value(-2.0, "d")
    x = ((a * b + c) * d) ** 2
    x.backward()
    print("x = ((a*b + c)*d)**2  at a=2, b=-3, c=10, d=-2")
    print(f"x = {x.data:g}")
    for leaf in (a, b, c, d):
        print(f"dx/d{leaf.label} = {leaf.grad:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
