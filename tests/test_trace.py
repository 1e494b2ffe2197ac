"""The derivation trace against the slides' last chapter, line by line, and against backward()."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from autograd_gates import GateError, Value, explain, maximum
from autograd_gates.engine.formula import parse_rule
from autograd_gates.engine.gates import gate_examples
from autograd_gates.engine.value import apply_gate
from autograd_gates.show.trace import MAX_FOLDED, Derivation, format_number, formula_text


def leaves(**values: float) -> list[Value]:
    return [Value(v, name) for name, v in values.items()]


def forward_lines(d: Derivation) -> list[str]:
    return [s.rule for s in d.forward]


def backward_lines(d: Derivation) -> list[str]:
    return [s.rule for s in d.backward]


# -- the slides' examples ("Se Tornando Expert em Gradientes"), line by line -------------------


def test_slides_a_times_b() -> None:
    # x = a * b ; da = b * dx ; db = a * dx
    a, b = leaves(a=2, b=-3)
    d = explain(a * b)
    assert forward_lines(d) == ["x = a * b"]
    assert backward_lines(d) == ["da = b * dx", "db = a * dx"]
    assert d.gradients == {"a": -3.0, "b": 2.0}


def test_slides_a_plus_b() -> None:
    # x = a + b ; da = 1 * dx ; db = 1 * dx
    a, b = leaves(a=2, b=-3)
    d = explain(a + b)
    assert forward_lines(d) == ["x = a + b"]
    assert backward_lines(d) == ["da = 1 * dx", "db = 1 * dx"]


def test_slides_a_plus_b_plus_c_folded() -> None:
    # The slides' conclusion: "a derivada da soma sempre sera 1 * dx": da = db = dc = 1 * dx
    a, b, c = leaves(a=1, b=2, c=3)
    d = explain(a + b + c)
    assert forward_lines(d) == ["x = a + b + c"]
    assert backward_lines(d) == ["da = 1 * dx", "db = 1 * dx", "dc = 1 * dx"]


def test_slides_a_plus_b_plus_c_with_q() -> None:
    # q = a + b ; x = q + c ; dq = 1 * dx ; dc = 1 * dx ; da = 1 * dq ; db = 1 * dq
    a, b, c = leaves(a=1, b=2, c=3)
    q = a + b
    q.label = "q"
    d = explain(q + c)
    assert forward_lines(d) == ["q = a + b", "x = q + c"]
    # The slides list these in a scrambled order; the trace gives reverse topological order.
    assert backward_lines(d) == ["dq = 1 * dx", "dc = 1 * dx", "da = 1 * dq", "db = 1 * dq"]


def test_slides_a_times_b_plus_c_with_q() -> None:
    # q = a * b ; x = q + c ; dq = 1 * dx ; dc = 1 * dx ; db = a * dq ; da = b * dq
    a, b, c = leaves(a=2, b=-3, c=10)
    q = a * b
    q.label = "q"
    d = explain(q + c)
    assert forward_lines(d) == ["q = a * b", "x = q + c"]
    assert sorted(backward_lines(d)) == sorted(["dq = 1 * dx", "dc = 1 * dx", "db = a * dq", "da = b * dq"])
    assert [s.text() for s in d.backward] == [
        "dq = 1 * dx = 1 * 1 = 1",
        "dc = 1 * dx = 1 * 1 = 1",
        "da = b * dq = (-3) * 1 = -3",
        "db = a * dq = 2 * 1 = 2",
    ]


def test_slides_a_times_b_plus_c_folded() -> None:
    a, b, c = leaves(a=2, b=-3, c=10)
    d = explain(a * b + c)
    assert forward_lines(d) == ["x = a * b + c"]
    assert backward_lines(d) == ["da = b * dx", "db = a * dx", "dc = 1 * dx"]


def test_slides_a_times_a_shows_accumulation() -> None:
    # x = a * a ; da = 2a * dx -- one mul node with operands (a, a): two paths that add up.
    (a,) = leaves(a=3)
    d = explain(a * a)
    assert forward_lines(d) == ["x = a * a"]
    assert backward_lines(d) == ["da = a * dx + a * dx"]
    (step,) = d.backward
    assert len(step.terms) == 2 and [t.operand for t in step.terms] == ["a", "b"]
    assert step.value == 2 * 3.0  # = 2a * dx
    assert "2 paths add up" in d.text()


def test_slides_sum_of_squares() -> None:
    # x = a*a + b*b + c*c ; da = 2a * dx ; db = 2b * dx ; dc = 2c * dx
    a, b, c = leaves(a=1, b=-2, c=3)
    d = explain(a * a + b * b + c * c)
    assert forward_lines(d) == ["x = a * a + b * b + c * c"]
    assert backward_lines(d) == ["da = a * dx + a * dx", "db = b * dx + b * dx", "dc = c * dx + c * dx"]
    assert d.gradients == {"a": 2.0, "b": -4.0, "c": 6.0}


def test_slides_big_example_line_by_line() -> None:
    # x = ((a*b + c)*d)^2 ; x1 = a*b + c ; x2 = x1*d ; x = x2*x2 ;
    # dx2 = 2x2 * dx ; dx1 = d * dx2 ; dd = x1 * dx2 ; da = b * dx1 ; db = a * dx1 ; dc = 1 * dx1
    a, b, c, d_ = leaves(a=2, b=-3, c=10, d=-2)
    d = explain(((a * b + c) * d_) ** 2)
    # The slides write the square as x2 * x2; the library has a pow gate, x2 ** 2, whose
    # local derivative "2 * a" gives the slides' dx2 = 2x2 * dx.
    assert forward_lines(d) == ["x1 = a * b + c", "x2 = x1 * d", "x = x2 ** 2"]
    assert backward_lines(d) == [
        "dx2 = 2 * x2 * dx",
        "dx1 = d * dx2",
        "dd = x1 * dx2",
        "da = b * dx1",
        "db = a * dx1",
        "dc = 1 * dx1",
    ]
    assert [s.text() for s in d.forward] == [
        "x1 = a * b + c = 2 * (-3) + 10 = 4",
        "x2 = x1 * d = 4 * (-2) = -8",
        "x = x2 ** 2 = (-8) ** 2 = 64",
    ]
    assert [s.text() for s in d.backward] == [
        "dx2 = 2 * x2 * dx = 2 * (-8) * 1 = -16",
        "dx1 = d * dx2 = (-2) * (-16) = 32",
        "dd = x1 * dx2 = 4 * (-16) = -64",
        "da = b * dx1 = (-3) * 32 = -96",
        "db = a * dx1 = 2 * 32 = 64",
        "dc = 1 * dx1 = 1 * 32 = 32",
    ]


def test_slides_one_over_a() -> None:
    # Slides: x = 1/a ; da = (1/(a*a)) * dx -- they drop the minus sign (see the errata);
    # the div gate's rule for its divisor, -a / (b * b), gives -1 / (a * a).
    (a,) = leaves(a=2)
    d = explain(1 / a)
    assert forward_lines(d) == ["x = 1 / a"]
    assert backward_lines(d) == ["da = -1 / (a * a) * dx"]
    assert d.gradients["a"] == -0.25


def test_slides_quotient_decomposed_like_the_slides() -> None:
    # x1 = a + b ; x2 = c + d ; x3 = 1/x2 ; x = x1 * x3 ;
    # dx1 = x3 * dx ; dx3 = x1 * dx ; dx2 = (1/(x2*x2)) * dx3 [sign dropped on the slides] ;
    # dc = 1 * dx2 ; dd = 1 * dx2 ; da = 1 * dx1 ; db = 1 * dx1
    a, b, c, d_ = leaves(a=1, b=2, c=3, d=5)
    d = explain((a + b) * (1 / (c + d_)))
    assert forward_lines(d) == ["x1 = a + b", "x2 = c + d", "x3 = 1 / x2", "x = x1 * x3"]
    assert backward_lines(d) == [
        "dx1 = x3 * dx",
        "dx3 = x1 * dx",
        "dx2 = -1 / (x2 * x2) * dx3",
        "dc = 1 * dx2",
        "dd = 1 * dx2",
        "da = 1 * dx1",
        "db = 1 * dx1",
    ]
    assert d.gradients == pytest.approx({"a": 1 / 8, "b": 1 / 8, "c": -3 / 64, "d": -3 / 64})


def test_quotient_as_one_div_gate() -> None:
    a, b, c, d_ = leaves(a=1, b=2, c=3, d=5)
    d = explain((a + b) / (c + d_))
    assert forward_lines(d) == ["x1 = a + b", "x2 = c + d", "x = x1 / x2"]
    assert backward_lines(d)[:2] == ["dx1 = 1 / x2 * dx", "dx2 = -x1 / (x2 * x2) * dx"]


@pytest.mark.parametrize(
    ("a_value", "b_value", "expected"),
    [(3.0, 1.0, (1.0, 0.0)), (1.0, 3.0, (0.0, 1.0)), (2.0, 2.0, (0.5, 0.5))],
)
def test_slides_max(a_value: float, b_value: float, expected: tuple[float, float]) -> None:
    # x = max(a, b) ; da = x == a ? 1 * dx : 0 ; db = x == b ? 1 * dx : 0 (a tie splits evenly)
    a, b = leaves(a=a_value, b=b_value)
    d = explain(maximum(a, b))
    assert forward_lines(d) == ["x = max(a, b)"]
    assert [s.of for s in d.backward] == ["a", "b"]
    assert (d.gradients["a"], d.gradients["b"]) == expected


@pytest.mark.parametrize(("a_value", "expected"), [(2.0, 1.0), (-2.0, 0.0), (0.0, 0.0)])
def test_slides_relu(a_value: float, expected: float) -> None:
    # x = max(0, a) ; da = a > 0 ? 1 * dx : 0
    (a,) = leaves(a=a_value)
    d = explain(a.relu())
    assert forward_lines(d) == ["x = relu(a)"]
    assert backward_lines(d) == ["da = (1 if a > 0 else 0) * dx"]
    assert d.gradients["a"] == expected


# -- the rules come from the gate table --------------------------------------------------------


def _same_formula(left: str, right: str) -> bool:
    return parse_rule(left) == parse_rule(right)


@pytest.mark.parametrize("gate", gate_examples(), ids=lambda g: f"{g.name}{g.exponent or ''}")
def test_every_gate_is_written_with_its_table_rule(gate) -> None:
    a, b = Value(2.0, "a"), Value(3.0, "b")
    node = apply_gate(gate, *(a, b)[: gate.arity])
    d = explain(node)
    (forward,) = d.forward
    assert forward.rule.startswith("x = ")
    assert _same_formula(forward.rule[4:], gate.expr)
    assert [s.of for s in d.backward] == list(gate.operands)
    for step, local in zip(d.backward, gate.local):
        assert step.name == f"d{step.of}"
        assert _same_formula(step.rule.split(" = ", 1)[1], f"({local}) * dx")
        expected = gate.partials(*(p.data for p in node.parents), node.data)[gate.operands.index(step.of)]
        assert step.value == expected


# -- numbers from the graph, and agreement with backward() ------------------------------------


def test_explain_does_not_touch_gradients() -> None:
    a, b = leaves(a=2, b=-3)
    x = a * b + a
    explain(x)
    assert (a.grad, b.grad, x.grad) == (0.0, 0.0, 0.0)


def test_accumulation_across_gates() -> None:
    a, b = leaves(a=2, b=-3)
    d = explain(a * b + a)
    assert backward_lines(d) == ["da = b * dx + 1 * dx", "db = a * dx"]
    assert d.gradients == {"a": -2.0, "b": 2.0}


def test_every_gate_mode_names_each_gate() -> None:
    a, b, c, d_ = leaves(a=2, b=-3, c=10, d=-2)
    d = explain(((a * b + c) * d_) ** 2, inline_sums=False)
    assert forward_lines(d) == ["x1 = a * b", "x2 = x1 + c", "x3 = x2 * d", "x = x3 ** 2"]
    assert backward_lines(d)[:4] == ["dx3 = 2 * x3 * dx", "dx2 = d * dx3", "dd = x2 * dx3", "dx1 = 1 * dx2"]


def test_names_avoid_the_users_labels() -> None:
    x, y = Value(1.0, "x"), Value(2.0, "y")
    d = explain((x * y) * (x + y))
    assert d.output == "f"
    assert forward_lines(d) == ["f1 = x * y", "f2 = x + y", "f = f1 * f2"]
    twin = Value(3.0, "x")  # two different inputs with the same label get different names
    d = explain(x * twin)
    assert [name for name, _ in d.inputs] == ["x", "x_2"]


def test_no_automatic_name_is_a_label_or_has_a_label_for_its_gradient() -> None:
    x, f, y, out = (Value(1.0, n) for n in ("x", "f", "y", "out"))
    d = explain((x * f) * (y * out))  # every usual output name is taken
    assert d.output == "x_2" and forward_lines(d)[-1].startswith("x_2 = ")
    dx, a = Value(2.0, "dx"), Value(3.0, "a")
    d = explain(dx * a)  # output "x" would make "dx" both an input and the output's gradient
    assert d.output == "f" and backward_lines(d) == ["ddx = a * df", "da = dx * df"]
    dx1 = Value(2.0, "dx1")
    d = explain(dx1 * a + a, inline_sums=False)
    assert forward_lines(d) == ["t1 = dx1 * a", "x = t1 + a"]  # dx1 is a label: the x family is taken


def test_unlabelled_leaves_are_constants() -> None:
    (a,) = leaves(a=2)
    d = explain(3 * a - 1)
    # 3 and 1 are constant leaves, written as their values; a - 1 is one sub gate.
    assert forward_lines(d) == ["x = 3 * a - 1"]
    assert backward_lines(d) == ["da = 3 * dx"]
    assert d.gradients == {"a": 3.0}
    assert explain(3 * a - 1, inline_sums=False).lines() == [
        "x1 = 3 * a",
        "x = x1 - 1",
        "dx1 = 1 * dx",
        "da = 3 * dx1",
    ]


def test_a_leaf_as_the_root() -> None:
    (a,) = leaves(a=2)
    d = explain(a)
    assert d.forward == () and d.backward == ()
    assert "forward: (no gates)" in d.text()


def test_seed_is_used() -> None:
    a, b = leaves(a=2, b=-3)
    d = explain(a * b, seed=2.0)
    assert d.gradients == {"a": -6.0, "b": 4.0}


def test_explain_rejects_non_values() -> None:
    with pytest.raises(TypeError, match="needs a Value"):
        explain(3.0)  # type: ignore[arg-type]


# -- output formats ------------------------------------------------------------------------------


def slides_example() -> Derivation:
    a, b, c, d_ = leaves(a=2, b=-3, c=10, d=-2)
    return explain(((a * b + c) * d_) ** 2)


def test_latex_is_an_align_block_ready_for_slides() -> None:
    latex = slides_example().latex()
    lines = latex.splitlines()
    assert lines[0] == r"\begin{align*}" and lines[-1] == r"\end{align*}"
    assert r"x_{1} &= a \cdot b + c = 2 \cdot \left(-3\right) + 10 = 4 \\" in lines
    assert r"x &= {x_{2}}^{2} = {\left(-8\right)}^{2} = 64 \\[6pt]" in lines
    assert r"dx_{2} &= 2 \cdot x_{2} \cdot dx = 2 \cdot \left(-8\right) \cdot 1 = -16 \\" in lines
    assert lines[-2] == r"dc &= 1 \cdot dx_{1} = 1 \cdot 32 = 32"
    # braces balance on every line: pasteable
    assert all(line.count("{") == line.count("}") for line in lines)


def test_latex_fractions_and_cases() -> None:
    (a,) = leaves(a=2)
    assert r"\frac{-1}{a \cdot a} \cdot dx" in explain(1 / a).latex()
    assert (
        r"\begin{cases} 1 & a > 0 \\ 0 & \text{otherwise} \end{cases} \cdot dx" in explain(a.relu()).latex()
    )


def test_markdown_tables() -> None:
    md = slides_example().markdown()
    assert "| `x1 = a * b + c` | `2 * (-3) + 10` | 4 |" in md
    assert "| `da = b * dx1` | `(-3) * 32` | -96 |" in md
    assert md == slides_example()._repr_markdown_()


def test_text_has_both_passes_in_order() -> None:
    text = str(slides_example())
    assert text.index("forward:") < text.index("x1 = a * b + c") < text.index("backward (dx = 1):")
    assert text.index("dx2 = 2 * x2 * dx") < text.index("dc = 1 * dx1")


def test_format_number() -> None:
    assert [format_number(v) for v in (4.0, -0.5, 1 / 3, 1e-8, -0.0, math.inf)] == [
        "4",
        "-0.5",
        "0.333333",
        "1e-08",
        "0",
        "inf",
    ]


def test_formulas_keep_needed_parentheses_only() -> None:
    for text in ["a - (b - c)", "(a + b) * c", "a ** b ** c", "(-a) ** 2", "-a ** 2", "a / (b * c)"]:
        rendered = formula_text(parse_rule(text))
        assert rendered == text and _same_formula(rendered, text), (text, rendered)


# -- property: the trace's numbers are backward()'s numbers --------------------------------------

_UNARY = [lambda v: v.exp(), lambda v: v.tanh(), lambda v: v.relu(), lambda v: v * v, lambda v: -v]
_BINARY = [lambda u, v: u + v, lambda u, v: u * v, lambda u, v: u - v, maximum, lambda u, v: u * 0.5 + v]


@st.composite
def circuits(draw: st.DrawFn) -> tuple[Value, list[Value]]:
    inputs = [Value(draw(st.floats(-2, 2, allow_nan=False)), name) for name in "abc"]
    pool = list(inputs)
    for _ in range(draw(st.integers(1, 8))):
        try:
            if draw(st.booleans()):
                node = draw(st.sampled_from(_UNARY))(draw(st.sampled_from(pool)))
            else:
                u, v = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
                node = draw(st.sampled_from(_BINARY))(u, v)
        except GateError:  # exp of a square of a square... overflows: not a circuit to trace
            reject()
        pool.append(node)  # later nodes may reuse earlier ones: shared subexpressions
    return pool[-1], inputs


@settings(max_examples=60, deadline=None)
@given(circuits(), st.booleans())
def test_trace_numbers_match_backward(circuit: tuple[Value, list[Value]], inline_sums: bool) -> None:
    root, inputs = circuit
    d = explain(root, inline_sums=inline_sums)
    root.backward()
    for name, grad in d.gradients.items():
        leaf = next(v for v in inputs if v.label == name)
        assert grad == pytest.approx(leaf.grad, rel=1e-9, abs=1e-12)
    for step in d.forward:
        assert step.value == step.node.data
    for step in d.backward:
        assert step.value == pytest.approx(step.node.grad, rel=1e-9, abs=1e-12)
        assert step.value == pytest.approx(math.fsum(t.value for t in step.terms), rel=1e-9, abs=1e-12)


def test_long_sums_are_cut_into_lines_and_need_no_recursion() -> None:
    (a,) = leaves(a=1)
    x = a
    for _ in range(3000):
        x = x + a
    d = explain(x)
    assert d.gradients == {"a": 3001.0}
    assert all(len(step.gates) <= MAX_FOLDED for step in d.forward)
    assert d.forward[0].rule == "x1 = " + " + ".join(["a"] * 9)
    da = d.backward[-1]
    assert da.of == "a" and len(da.terms) == 3001 and da.value == 3001.0
    assert d.latex().count(r"\\") == len(d.forward) + len(d.backward)  # every row rendered
