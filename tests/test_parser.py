"""The expression parser: a whitelist, errors that point at the fault, agreement with Python, and
one tree: what the parser reads is what the strategies generate, and what the printer writes
reads back to the same tree."""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_gates import GATES, GateError, Value, maximum, minimum, topological_order
from autograd_gates import build as build_circuit
from autograd_gates.checks.strategies import expressions
from autograd_gates.parser import (
    CARET_WIDTH,
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    parse,
    parse_rule,
    parse_with_spans,
)


def build(text: str, **values: float) -> Value:
    """What the command line does: parse, then build, with errors pointing into the text."""
    tree, spans = parse_with_spans(text)
    return build_circuit(tree, values, spans=spans, text=text)


# -- reading valid expressions --------------------------------------------------------------


def test_slides_example() -> None:
    e = parse("((a*b + c)*d)**2")
    assert e.variables == ("a", "b", "c", "d")
    x = build_circuit(e, {"a": 2, "b": -3, "c": 10, "d": -2})
    x.backward()
    assert x.data == 64.0
    leaves = {v.label: v.grad for v in topological_order(x) if v.gate is None and v.label}
    assert leaves == {"a": -96.0, "b": 64.0, "c": 32.0, "d": -64.0}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-a**2", -9.0),  # -(a**2), as in Python
        ("a**b**c", 3.0 ** (2.0**0.5)),  # right-associative
        ("a - b - c", 3 - 2 - 0.5),
        ("a / b / c", 3 / 2 / 0.5),
        ("a * -b", -6.0),
        ("a ** -1", 1 / 3),
        ("+a", 3.0),
        ("--a", 3.0),
        ("2 * 3 * a", 18.0),
        ("1e-3 * a", 0.003),
        (".5 * a", 1.5),
        ("max(a, b) + min(a, b)", 5.0),
        ("maximum(a, b) - minimum(a, b)", 1.0),
        ("abs(-a) + relu(-a) + exp(0) + log(1)", 4.0),
        ("  ( a )  ", 3.0),
        ("sqrt(a * a) + sin(pi / 2) + cos(0) + log(e)", 6.0),
        ("a - b", 1.0),
    ],
)
def test_values(text: str, expected: float) -> None:
    assert build(text, a=3.0, b=2.0, c=0.5).data == pytest.approx(expected, rel=1e-15)


def test_values_can_be_values() -> None:
    a = Value(2.0, "a")
    x = build_circuit(parse("a * a"), {"a": a})
    x.backward()
    assert a.grad == 4.0


def test_the_functions_are_the_tables() -> None:
    # Every function of the op table, by its name and its aliases, is a function of the language.
    for gate in GATES.values():
        if gate.operator is None:
            operands = ", ".join(["0.5"] * gate.arity)
            for name in (gate.name, *gate.aliases):
                assert parse(f"{name}({operands})").op == gate.name
    assert parse("pow(a, 2)").op == "pow" and parse("a ** 2").op == "powk"
    assert build("leaky_relu(a, 0.1)", a=-2.0).data == pytest.approx(-0.2)
    assert build("leaky_relu(a)", a=-2.0).data == pytest.approx(-0.02)
    assert build("elu(a, 2)", a=-1.0).data == pytest.approx(2 * (math.exp(-1) - 1))
    assert build("arctan(a) + softplus(a) + identity(a) + binary_step(a)", a=0.0).data == pytest.approx(
        math.log(2) + 1
    )


def test_large_exponents_and_long_literals_are_just_floats() -> None:
    # Every number is a float, so neither can take long or grow: the gates judge the result.
    assert build("a ** 1e9", a=1.0).data == 1.0
    assert build("a ** -2000", a=2.0).data == 2.0**-2000
    assert build("a ** (2 * 600)", a=1.001).data == pytest.approx(1.001**1200, rel=1e-12)
    assert build("1" * 100 + " * a", a=1.0).data == float("1" * 100)


def test_a_constant_expression_is_a_constant_value() -> None:
    x = build("2 ** 0.5 * 3")
    assert x.gate is None and x.data == pytest.approx(3 * 2**0.5)


def test_long_sums_need_no_recursion() -> None:
    x = build("+".join(["a"] * 3000), a=1.0)
    assert x.data == 3000.0


# -- errors that point at the fault -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("a.exp()", 1, "attribute access"),
        ("__import__('os')", 11, "strings are not allowed"),
        ("eval(a)", 0, "unknown function 'eval'"),
        ("a(b)", 0, "unknown function 'a'"),
        ("(a)(b)", 3, "expected an operator"),
        ("2a", 1, "expected an operator"),
        ("a b", 2, "expected an operator"),
        ("a +", 3, "ends where"),
        ("", 0, "ends where"),
        ("(a", 2, "expected ')'"),
        ("a)", 1, "unmatched ')'"),
        ("a ^ 2", 2, "'^' is not a power"),
        ("a[0]", 1, "subscripts"),
        ("a = 2", 2, "'=' is not part"),
        ("a ** 2000", 0, "a ** 2000 overflows a float"),
        ("b + 9 ** 9 ** 9", 4, "overflows a float"),
        ("1e999 * a", 0, "too large for a float"),
        ("exp", 0, "is a function"),
        ("max(a)", 0, "takes 2 argument(s), got 1"),
        ("exp(a, b)", 0, "takes 1 argument(s), got 2"),
        ("a; b", 1, "only one expression"),
        ("lambda: a", 6, "':'"),
        ("lambda + a", 0, "unexpected 'lambda'"),
        ("a if a > 0 else b", 2, "only allowed in rule texts"),
        ("a > 0", 2, "only allowed in rule texts"),
        ("e = 2", 2, "'=' is not part"),
        ("a # comment", 2, "unexpected character '#'"),
        ("a \u00d7 b", 2, "unexpected character"),
        ("log(a - 3)", 0, "log gate"),
        ("1 / (a - 3)", 0, "div gate"),
        ("b + 1 / 0", 4, "division by zero"),
        ("(0 - a) ** 0.5", 0, "fractional power"),
        ("exp(1000 * a)", 0, "overflows"),
        ("1e300 * 1e300", 0, "mul gate (x = a * b) refused a = 1e+300, b = 1e+300: a * b overflows"),
        ("a * (1e300 * 1e300)", 4, "a * b overflows a float"),
        ("c * a", 0, "no value for 'c'"),
    ],
)
def test_errors_point_at_the_fault(text: str, position: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        build(text, a=3.0, b=1.0)
    err = info.value
    assert fragment in str(err)
    assert err.position == position
    expression_line, caret_line = err.caret().splitlines()
    assert expression_line == text
    assert caret_line.startswith(" " * position + "^")
    assert isinstance(err, ValueError)


@pytest.mark.parametrize("before", [0, 10, 50, 300, 3000])
@pytest.mark.parametrize("after", [0, 10, 300])
def test_the_caret_stays_under_the_fault_in_a_long_expression(before: int, after: int) -> None:
    text = "a+" * before + "a.b" + "+a" * after
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    assert err.position == 2 * before + 1
    shown, caret_line = err.caret().splitlines()
    assert len(shown) <= CARET_WIDTH + 6 and shown.strip(".") in text
    column = caret_line.index("^")
    assert shown[column] == "." and shown[column - 1 : column + 2] == "a.b"
    assert shown.startswith("...") == (err.position > CARET_WIDTH // 2)


@pytest.mark.parametrize("space", ["\n", "\t", "\r", "\x0b", "\x0c", "\u00a0"])
def test_the_caret_line_has_no_control_characters(space: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(f"a{space}+ b)")
    assert info.value.caret().splitlines() == ["a + b)", "     ^"]


def test_a_control_character_is_named_but_not_printed_raw() -> None:
    with pytest.raises(ExpressionError, match=r"unexpected character '\\x1b'") as info:
        parse("a\x1b[31m")
    assert info.value.caret().splitlines() == ["a [31m", " ^"]


def test_the_length_limit_points_at_the_first_character_too_many() -> None:
    with pytest.raises(ExpressionError, match="longer than") as info:
        parse("a+" * MAX_LENGTH + "a")
    assert info.value.position == MAX_LENGTH


def test_gate_errors_keep_their_cause() -> None:
    with pytest.raises(ExpressionError) as info:
        build("log(a)", a=-1.0)
    assert isinstance(info.value.__cause__, GateError)
    assert info.value.__cause__.gate == "log"


def test_nesting_and_length_limits() -> None:
    ok = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert build(ok, a=1.0).data == 1.0
    for deep in ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), "-" * 5_000 + "a", "a**" * 1_000 + "a"):
        with pytest.raises(ExpressionError, match="nested more than"):
            parse(deep)
    with pytest.raises(ExpressionError, match="longer than"):
        parse("a+" * MAX_LENGTH + "a")


def test_parse_needs_a_string() -> None:
    with pytest.raises(TypeError, match="needs a str"):
        parse(b"a")  # type: ignore[arg-type]


def test_nothing_is_executed(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser must not evaluate or compile anything")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, refuse)
    tree = parse("((a*b + c)*d)**2 + sigmoid(a)")
    with pytest.raises(ExpressionError):
        parse("__import__('os').system('echo hi')")
    monkeypatch.undo()
    assert build_circuit(tree, dict(a=2, b=-3, c=10, d=-2)).data > 0


# -- fuzzing ---------------------------------------------------------------------------------

TOKENS = [
    *"abcxy01259.e+-*/()^,_ =[]'\"#;:\t\n\u00e9",
    *("**", "exp", "max", "log(", "1e999", "1e300", "sigmoid"),
]
SOUP = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(SOUP, st.text(max_size=40)))
def test_random_strings_raise_only_expression_error(text: str) -> None:
    try:
        e = parse(text)
    except ExpressionError as err:
        assert 0 <= err.position <= len(text)
        return
    try:
        build_circuit(e, {name: 0.7 for name in e.variables})
    except GateError:
        pass


# Random valid expressions, as (text, builder) pairs: the builder does in Python what the
# text says, so the parsed circuit must be the same circuit.
Builder = Callable[[dict[str, Value]], Value]
NAMES = ("a", "b", "c")


def _space() -> st.SearchStrategy[str]:
    return st.sampled_from(["", " ", "  "])


def _number() -> st.SearchStrategy[float]:
    return st.sampled_from([0.5, 1.0, 2.0, 3.0, 1.5, 0.25, 10.0])


@st.composite
def _leaf(draw: st.DrawFn) -> tuple[str, Builder]:
    name = draw(st.sampled_from(NAMES))
    return name, lambda env: env[name]


def _extend(children: st.SearchStrategy[tuple[str, Builder]]) -> st.SearchStrategy[tuple[str, Builder]]:
    @st.composite
    def binary(draw: st.DrawFn) -> tuple[str, Builder]:
        (lt, lb), op = draw(children), draw(st.sampled_from(["+", "-", "*", "/"]))
        s1, s2 = draw(_space()), draw(_space())
        ops = {
            "+": lambda x, y: x + y,
            "-": lambda x, y: x - y,
            "*": lambda x, y: x * y,
            "/": lambda x, y: x / y,
        }
        f = ops[op]
        if draw(st.booleans()):
            k = draw(_number())
            if draw(st.booleans()):
                return f"({lt}{s1}{op}{s2}{k!r})", lambda env: f(lb(env), k)
            return f"({k!r}{s1}{op}{s2}{lt})", lambda env: f(k, lb(env))
        rt, rb = draw(children)
        return f"({lt}{s1}{op}{s2}{rt})", lambda env: f(lb(env), rb(env))

    @st.composite
    def power(draw: st.DrawFn) -> tuple[str, Builder]:
        t, b = draw(children)
        kind = draw(st.sampled_from(["k", "value", "rpow"]))
        if kind == "k":
            k = draw(st.sampled_from([2.0, 3.0, -1.0, 0.5, 2]))
            return f"({t})**{k!r}", lambda env: b(env) ** k
        if kind == "rpow":
            return f"2 ** ({t})", lambda env: 2 ** b(env)
        return f"exp({t}) ** ({t})", lambda env: b(env).exp() ** b(env)

    @st.composite
    def call(draw: st.DrawFn) -> tuple[str, Builder]:
        t, b = draw(children)
        name = draw(st.sampled_from(["exp", "log", "relu", "sigmoid", "tanh", "abs", "max", "min", "neg"]))
        if name == "neg":
            return f"-({t})", lambda env: -b(env)
        if name in ("max", "min"):
            u, c = draw(children)
            both = maximum if name == "max" else minimum
            return f"{name}({t},{draw(_space())}{u})", lambda env: both(b(env), c(env))
        return f"{name}({t})", lambda env: getattr(b(env), name)()

    return st.one_of(binary(), power(), call())


EXPRESSIONS = st.recursive(_leaf(), _extend, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(EXPRESSIONS, st.tuples(*[st.floats(-3, 3, allow_nan=False)] * 3))
def test_parsed_expressions_agree_with_python(
    expression: tuple[str, Builder], point: tuple[float, ...]
) -> None:
    text, builder = expression
    python_leaves = {n: Value(v, n) for n, v in zip(NAMES, point)}
    parsed_leaves = {n: Value(v, n) for n, v in zip(NAMES, point)}
    try:
        expected = builder(python_leaves)
    except GateError as exc:
        with pytest.raises(GateError) as info:
            build_circuit(parse(text), parsed_leaves)
        assert type(info.value) is type(exc)
        return
    got = build_circuit(parse(text), parsed_leaves)
    # The same operations; equal subexpressions are one shared node in the parsed circuit.
    assert len(topological_order(got)) <= len(topological_order(expected))
    assert got.data == expected.data
    try:
        expected.backward()
    except GateError:  # a gradient overflows: so must the parsed circuit's
        with pytest.raises(GateError):
            got.backward()
        return
    got.backward()
    for name in NAMES:
        # The same sums in another order: equal to rounding (a gradient that cancels to 0, as in
        # exp(10 * c / (10 * c)), comes out as 0 or as a few ulps of its terms).
        assert parsed_leaves[name].grad == pytest.approx(python_leaves[name].grad, rel=1e-12, abs=1e-12)


# -- one tree, one printer ---------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(expressions(3, max_leaves=10))
def test_what_the_printer_writes_parses_back_to_the_same_tree(tree) -> None:
    text = str(tree)
    assert parse(text) == tree, text
    assert eval(repr(tree), {"parse": parse}) == tree  # repr is a line that rebuilds it


@pytest.mark.parametrize(
    "text",
    [
        "x0 ** 2", "pow(x0, 2)", "-(2)", "-2", "x0 - -x1", "(-2) ** x0", "-x0 ** 2", "(x0 ** 2) ** 3",
        "x0 ** x1 ** 2", "x0 / (x1 * 2)", "x0 - (x1 - 2)", "-(-x0)", "elu(x0, 1)", "2 ** -x0",
        "max(x0, x0) * sigmoid(-x1)", "x0 ** -0.5", "1e-300 * x0", "x0 * -3", "-3 * x0",
    ],
)  # fmt: skip
def test_tricky_texts_round_trip(text: str) -> None:
    tree = parse(text)
    assert parse(str(tree)) == tree


def test_the_old_unreadable_print_is_gone() -> None:
    # A pow gate whose exponent is a constant leaf (a Value exponent) prints as a call.
    tree = parse("pow(x0, 2.0)")
    assert str(tree) == "pow(x0, 2)" and parse(str(tree)) == tree and tree != parse("x0 ** 2")


def test_constants_e_and_pi_are_names_no_variable_can_take() -> None:
    assert build("e * pi").data == pytest.approx(math.e * math.pi)
    assert parse("e + x").variables == ("x",)


def test_rule_texts_read_conditionals_and_comparisons() -> None:
    tree = parse_rule("(1 if a > b else 1 / 2 if a == b else 0)")
    assert tree.op == "if" and str(tree) == "1 if a > b else 1 / 2 if a == b else 0"
    assert parse_rule(str(tree)) == tree
