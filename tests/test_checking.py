"""gradcheck on every gate of the table, the rule texts, the pass rule and the report."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from gate_helpers import apply_gate, gate_id

from autograd_gates import GATES as TABLE
from autograd_gates import (
    GradcheckError,
    GradcheckInconclusive,
    GradcheckReport,
    Value,
    gradcheck,
    parse,
)
from autograd_gates.checks.checking import Tolerance, hint
from autograd_gates.checks.numerical import GradEstimate
from autograd_gates.engine.errors import DomainError
from autograd_gates.engine.gates import Gate, gate_examples

CANDIDATES = (-2.5, -1.3, -0.4, 0.0, 0.3, 0.9, 1.7, 3.2)
KINK_MARGIN = 0.1


def gate_points(gate: Gate, *, avoid_kinks: bool = True) -> list[tuple[float, ...]]:
    """Points of CANDIDATES where the gate is defined (and, if asked, away from its kinks)."""
    points = []
    for point in itertools.product(CANDIDATES, repeat=gate.arity):
        try:
            gate.forward(*point)
        except (DomainError, ZeroDivisionError, OverflowError):
            continue
        if avoid_kinks and _near_a_kink(gate, point):
            continue
        points.append(point)
    return points


def _near_a_kink(gate, point) -> bool:
    """Whether moving one operand by KINK_MARGIN changes the gate's smooth piece (or leaves its domain)."""
    if gate.piece is None:
        return False
    here = gate.piece(*point)
    for i in range(gate.arity):
        for step in (-KINK_MARGIN, KINK_MARGIN):
            moved = list(point)
            moved[i] += step
            try:
                gate.forward(*moved)
            except (DomainError, ZeroDivisionError, OverflowError):
                return True
            if gate.piece(*moved) != here:
                return True
    return 0 in here


GATES = gate_examples()


@pytest.mark.parametrize("gate", GATES, ids=gate_id)
def test_every_gate_passes_gradcheck_in_its_domain(gate):
    points = gate_points(gate)
    assert len(points) >= 3, f"too few points in the domain of {gate!r}"
    for point in points:

        def f(*values, gate=gate):
            out = apply_gate(gate, *values)
            assert out.gate is gate  # the circuit really is this one gate
            return out

        report = gradcheck(f, list(point))  # raises on fail or inconclusive
        assert report.outcome == "pass" and report.ok
        for row, x in zip(report.rows, point):
            assert row.x == x
            assert row.verdict == "pass"
            assert abs(row.analytic - row.numeric.value) <= row.allowed


@pytest.mark.parametrize("gate", GATES, ids=gate_id)
def test_rule_text_matches_partials(gate):
    """gate.local, evaluated by Python itself (names a, b, x and the table's functions), is exactly
    what gate.partials returns: the formula language reads a rule as Python would."""
    checked = 0
    for point in gate_points(gate, avoid_kinks=False):  # kinks included: the text states the convention
        x = gate.forward(*point)
        partials = gate.partials(*point, x)
        b = point[1] if len(point) > 1 else None
        names = {"a": point[0], "b": b, "x": x, **{g.name: g.forward for g in TABLE.values()}}
        for text, partial in zip(gate.local, partials):
            try:
                from_text = eval(text, {"__builtins__": {}}, names)  # noqa: S307 - the table's own text
            except ZeroDivisionError:
                assert point[0] == 0  # e.g. "0.5 * a ** -0.5" at a = 0, where the partial is infinite
                assert math.isinf(partial)
                continue
            assert from_text == pytest.approx(partial, rel=1e-12, abs=1e-300), (text, point)
            checked += 1
    assert checked >= 3
    assert len(gate.local) == gate.arity
    assert gate.rule.startswith(f"x = {gate.expr}") and "  ->  da = " in gate.rule


def test_report_of_a_pass():
    report = gradcheck(lambda a, b: a * b + a.exp(), [2.0, -1.0])
    assert isinstance(report, GradcheckReport)
    assert report.outcome == "pass" and report.ok
    assert [r.label for r in report.rows] == ["a", "b"]
    assert report.inputs == (2.0, -1.0)
    assert report.analytic == pytest.approx([-1.0 + math.exp(2.0), 2.0], rel=1e-15)
    assert report.numeric == pytest.approx(report.analytic, rel=1e-9)
    assert report.value == pytest.approx(-2.0 + math.exp(2.0))
    assert report.suspect is None
    text = str(report)
    assert text.startswith("gradcheck PASS: all 2 input(s) agree")
    for column in ("input", "value", "analytic", "numeric ± error", "|a - n|", "allowed", "verdict"):
        assert column in text
    assert "|a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error" in text
    assert "atol = 1e-08, rtol = 1e-06, err_factor = 1" in text
    assert "reproduce: gradcheck(f, [2.0, -1.0])" in text


def test_failure_raises_an_assertion_error_with_the_report():
    def detached(a):
        return a * Value(a.data)  # the second factor is a constant: backward misses half

    with pytest.raises(GradcheckError) as caught:
        gradcheck(detached, [1.5])
    assert isinstance(caught.value, AssertionError)
    report = caught.value.report
    assert report.outcome == "fail" and not report.ok
    (row,) = report.rows
    assert row.verdict == "fail"
    assert row.analytic == 1.5 and row.numeric.value == pytest.approx(3.0, rel=1e-9)
    assert "analytic = numeric / 2" in row.note
    text = str(report)
    assert "gradcheck FAIL: 1 of 1 input(s) disagree" in text
    assert "FAIL" in text and "hint (a)" in text
    # Every gate is right; the report says the trouble is outside the circuit.
    assert report.suspect is None
    assert "outside the circuit" in text
    assert "reproduce: gradcheck(detached, [1.5])" in text
    # Without the suspect search, nothing is said about the circuit.
    report = gradcheck(detached, [1.5], find_suspects=False, raise_exception=False)
    assert report.outcome == "fail" and report.diagnosis == "" and "suspect gate" not in str(report)


def test_inconclusive_raises_its_own_exception_with_the_report():
    with pytest.raises(GradcheckInconclusive) as caught:
        gradcheck(lambda a: a.relu(), [0.0])
    assert not isinstance(caught.value, AssertionError)
    report = caught.value.report
    assert report.outcome == "inconclusive" and not report.ok
    assert report.rows[0].note.startswith("kink: relu gate")
    assert "gradcheck INCONCLUSIVE" in str(report) and "why (a)" in str(report)


@pytest.mark.parametrize(
    ("f", "x", "outcome"),
    [
        (lambda a: a * a, 2.0, "pass"),
        (lambda a: a * Value(a.data), 2.0, "fail"),
        (lambda a: a.relu(), 0.0, "inconclusive"),
        (lambda a: a.log(), 1e-9, "inconclusive"),  # a domain edge inside the stencil
    ],
)
def test_without_raising_the_report_comes_back_whatever_the_outcome(f, x, outcome):
    report = gradcheck(f, [x], raise_exception=False)
    assert report.outcome == outcome
    assert report.ok == (outcome == "pass")


def test_the_pass_rule_is_exactly_the_documented_formula():
    tol = Tolerance(atol=1e-8, rtol=1e-6, err_factor=1.0)

    def est(n, error=0.0):
        return GradEstimate(n, error, 2.0**-17, 4)

    a = 1.0
    allowed = 1e-8 + 1e-6 * 1.5
    assert tol.allowed(a, 1.5, 0.0) == allowed
    # just inside and just outside atol + rtol * max(|a|, |n|)
    edge = 1e-8 + 1e-6 * (1.0 + 1e-6)
    assert tol.judge(a, est(1.0 + 0.999 * edge))[0] == "pass"
    assert tol.judge(a, est(1.0 + 1.001 * edge))[0] == "fail"
    # the rule is symmetric in a and n
    assert tol.judge(1.0 + 1.001 * edge, est(1.0))[0] == "fail"
    # the error estimate widens it, err_factor scales that
    assert tol.judge(a, est(1.0 + 2e-6, error=2e-6))[0] == "pass"
    assert Tolerance(err_factor=0.0).judge(a, est(1.0 + 2e-6, error=2e-6))[0] == "fail"
    # too noisy to judge: error > noise_rtol * |n| + atol, whatever a is
    assert tol.judge(a, est(1.0, error=2e-3))[0] == "inconclusive"
    assert tol.judge(1e9, est(1.0, error=2e-3))[0] == "inconclusive"
    # kinks, domain edges and graph changes are never judged
    for issue in ("kink", "domain edge", "graph changes"):
        assert tol.judge(a, GradEstimate(1.0, 0.0, 1.0, 4, issue))[0] == "inconclusive"


def test_tolerances_are_passed_through_and_reproduced():
    report = gradcheck(lambda a: a * 3.0, [1.0], atol=1e-6, rtol=1e-4, raise_exception=False)
    assert report.tolerance == Tolerance(1e-6, 1e-4, 1.0, 1e-3)
    assert "atol=1e-06, rtol=0.0001" in report.reproduce
    report = gradcheck(lambda a: a * 3.0, [1.0], rel_step=2.0**-10)
    assert report.rows[0].numeric.step == 2.0**-10
    assert report.reproduce == "gradcheck(f, [1.0], rel_step=0.0009765625)"
    with pytest.raises(ValueError, match="atol"):
        gradcheck(lambda a: a, [1.0], atol=-1.0)
    with pytest.raises(ValueError, match="rtol"):
        gradcheck(lambda a: a, [1.0], rtol=math.nan)
    with pytest.raises(ValueError, match="rel_step"):
        gradcheck(lambda a: a, [1.0], rel_step=0.0)


def test_labels_come_from_parameters_values_or_the_caller():
    assert [r.label for r in gradcheck(lambda w, bias: w * bias, [1.0, 2.0]).rows] == ["w", "bias"]
    assert [r.label for r in gradcheck(lambda *v: v[0] * v[1], [1.0, 2.0]).rows] == ["x0", "x1"]
    rows = gradcheck(lambda *v: v[0] * v[1], [Value(1.0, "p"), Value(2.0, "q")]).rows
    assert [r.label for r in rows] == ["p", "q"]
    rows = gradcheck(lambda *v: v[0] * v[1], [1.0, 2.0], labels=["u", "v"]).rows
    assert [r.label for r in rows] == ["u", "v"]
    for wrong in (["u"], ["u", "v", "w"], "uv"):
        with pytest.raises(ValueError, match=r"labels must give one name per input \(2\)"):
            gradcheck(lambda *v: v[0] * v[1], [1.0, 2.0], labels=wrong)


def test_inputs_may_be_numpy_scalars_or_a_single_number():
    assert gradcheck(lambda a, b: a / b, [np.float64(1.0), np.int64(3)]).ok
    assert gradcheck(lambda a: a.exp(), 0.5).ok


def test_an_infinite_local_derivative_is_inconclusive_and_says_so():
    # (a - a) ** 0.5 is 0 for every a, but backward multiplies 0.5 / sqrt(0) = inf by 1 and -1.
    report = gradcheck(lambda a: (a - a) ** 0.5 + a, [1.0], raise_exception=False)
    assert report.outcome == "inconclusive"
    (row,) = report.rows
    assert math.isnan(row.analytic) and row.numeric.value == pytest.approx(1.0)
    assert row.note.startswith("backward refused, so there is no number to compare: backward through the pow")


def test_f_must_return_a_value():
    with pytest.raises(TypeError, match="f must return a Value"):
        gradcheck(lambda a: a.data * 2, [1.0])


def test_an_unused_input_passes_even_when_f_is_large():
    report = gradcheck(lambda a, b: (a * 10.0).exp(), [2.0, 0.5])  # f ~ 5e8: rounding bound >> atol
    assert report.ok
    assert report.rows[1].analytic == 0.0 and report.rows[1].numeric.value == 0.0


def test_reproduce_line_of_an_expression_runs():
    expr = parse("log(max(x0, x1) + 2) * exp(-x1)")
    report = gradcheck(expr, [0.25, 1.5])
    assert report.function == str(expr)
    namespace: dict = {}
    exec(report.reproduce, namespace)  # noqa: S102 - our own reproduce line
    assert namespace["f"].expr == expr


def test_hints_name_the_usual_bugs():
    assert "sign error" in hint(-2.0, 2.0, 1e-6)
    assert "counted twice" in hint(4.0, 2.0, 1e-6)
    assert "= instead of +=" in hint(1.0, 2.0, 1e-6)
    assert "no gradient reaches" in hint(0.0, 2.0, 1e-6)
    assert "does not depend" in hint(2.0, 0.0, 1e-6)
    assert "off by +1.0e-04" in hint(1.0001, 1.0, 1e-8)
    assert "analytic / numeric = 3" in hint(3.0, 1.0, 1e-6)
