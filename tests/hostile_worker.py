"""One case of tests/test_hostile.py, run in a subprocess under a time and memory budget.

Reads ``{"circuit": {...}, "format": "svg"}`` (JSON) from stdin, builds the circuit, writes
that one output with the library's defaults (drawings of labelled circuits with ``show_rules``,
so labels reach the edges too) and prints ``{"output": ...}`` (text, or base64
for PNG) or ``{"error": "DrawingTooLarge", "message": ...}`` as JSON on stdout.
"""

from __future__ import annotations

import base64
import json
import sys

from autograd_gates import Value, draw_dot, explain
from autograd_gates.stepper import stepper_html

FORMATS = ("dot", "svg", "png", "html", "text", "markdown", "latex")


def hostile_circuit(labels: list[str]) -> Value:
    """Every label but the last two names an input; those two name an intermediate and the output."""
    *inputs, middle, output = labels
    b = Value(-3.0, "b")
    total = None
    for i, label in enumerate(inputs):
        term = Value(float(i + 1), label) * b
        total = term if total is None else total + term
    mid = total * b
    mid.label = middle
    y = mid + 1.0
    y.label = output
    return y


def fan(n: int) -> Value:
    """``a + a + ... + a``, n terms: one input feeds a gate at every level."""
    a = Value(1.0, "a")
    x = a
    for _ in range(n - 1):
        x = x + a
    return x


def build(circuit: dict) -> Value:
    root = hostile_circuit(circuit["labels"]) if circuit["kind"] == "labels" else fan(circuit["n"])
    root.backward()
    return root


def output(root: Value, fmt: str, rules: bool) -> str | bytes:
    if fmt == "dot":
        return draw_dot(root, show_rules=rules).source
    if fmt in ("svg", "png"):
        return draw_dot(root, show_rules=rules).pipe(fmt)
    if fmt == "html":
        return stepper_html(root)
    derivation = explain(root)
    return {"text": derivation.text, "markdown": derivation.markdown, "latex": derivation.latex}[fmt]()


def main() -> None:
    case = json.loads(sys.stdin.read())
    root = build(case["circuit"])
    try:
        result = output(root, case["format"], rules=case["circuit"]["kind"] == "labels")
    except Exception as exc:  # reported to the test, which decides whether it was expected
        print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
        return
    if isinstance(result, bytes):
        print(json.dumps({"base64": base64.b64encode(result).decode("ascii")}))
    else:
        print(json.dumps({"output": result}))  # ensure_ascii: lone surrogates survive the trip


if __name__ == "__main__":
    main()
