"""One definition per op: every gate's array forms agree with its scalar forms, and replay on the tape.

Parametrized over ``gate_examples()``, so a gate added to the table is checked here the day it
is added: its array forward against its scalar forward, its array local derivatives against
``partials``, its domain mask against the samples the scalar forward refuses, and the one-gate
circuit replayed on the tape (every level) against ``Value``, bad samples included.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from gate_helpers import apply_gate, gate_id
from tape_helpers import check_tape_against_scalar

from autograd_gates import GateError, GateGradientError, Value
from autograd_gates.engine.errors import DomainError
from autograd_gates.engine.gates import gate_examples
from autograd_gates.engine.tape import LEVELS, Tape
from autograd_gates.engine.tape.arrays import array_forms

GATES = gate_examples()
POINTS = [-3.0, -1.5, -1.0, -0.5, -1e-3, 0.0, 1e-3, 0.25, 0.5, 1.0, 1.7, 3.0, 12.5, 700.0, 710.0, -745.5]
SMALL = [-2.0, -0.5, 0.0, 0.5, 1.0, 2.5, 710.0]


def rows_for(gate) -> list[tuple[float, ...]]:
    if gate.arity == 1:
        return [(p,) for p in POINTS]
    return list(itertools.product(SMALL, repeat=2))


def scalar_outcome(gate, row):
    try:
        out = gate.forward(*row)
    except (DomainError, ZeroDivisionError) as exc:
        return "refused", exc
    except OverflowError as exc:
        return "overflow", exc
    if not math.isfinite(out):
        return "overflow", None
    return "value", out


def close(a: float, b: float, rtol: float = 1e-14) -> bool:
    if math.isinf(a) or math.isinf(b) or math.isnan(a) or math.isnan(b):
        return a == b or (math.isnan(a) and math.isnan(b))
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-300)


@pytest.mark.parametrize("gate", GATES, ids=gate_id)
def test_array_forms_agree_with_the_scalar_forms(gate):
    forms = array_forms(gate)
    rows = rows_for(gate)
    columns = [np.array(c) for c in zip(*rows)]
    with np.errstate(all="ignore"):
        out = forms.forward(*columns)
        mask = forms.defined(*columns)
        assert np.shape(out) == (len(rows),)
        mask = np.ones(len(rows), dtype=bool) if mask is None else np.broadcast_to(mask, (len(rows),))
        partials = forms.partials(*columns, out)
    checked = 0
    for i, row in enumerate(rows):
        kind, result = scalar_outcome(gate, row)
        if kind == "refused":
            assert not mask[i], f"{gate.name}{row}: the scalar forward refuses ({result}), the mask allows it"
            continue
        assert mask[i], f"{gate.name}{row}: the scalar forward accepts it, the mask refuses it"
        if kind == "overflow":
            assert not math.isfinite(out[i]), f"{gate.name}{row}: overflows in scalar form, not in array form"
            continue
        assert close(float(out[i]), result), f"{gate.name}{row}: array {out[i]!r}, scalar {result!r}"
        expected = gate.partials(*row, result)
        for t, (array_partial, scalar_partial) in enumerate(zip(partials, expected)):
            got = float(np.broadcast_to(array_partial, (len(rows),))[i])
            assert close(got, scalar_partial, 1e-13), (
                f"{gate.name}{row}: d/d{'ab'[t]} is {got!r} in array form, {scalar_partial!r} in scalar form"
            )
        checked += 1
    assert checked >= 5, "too few points inside the domain to compare"


@pytest.mark.parametrize("gate", GATES, ids=gate_id)
def test_array_forms_broadcast_a_number_against_an_array(gate):
    # A parameter is one float, data is one value per sample: both must work in every position.
    forms = array_forms(gate)
    rows = [row for row in rows_for(gate) if scalar_outcome(gate, row)[0] == "value"]
    for position in range(gate.arity):
        fixed = rows[0][position]
        matching = [row for row in rows if row[position] == fixed]
        operands = [fixed if t == position else np.array([r[t] for r in matching]) for t in range(gate.arity)]
        if gate.arity == 1:
            operands = [np.array([r[0] for r in matching])]
        with np.errstate(all="ignore"):
            out = np.broadcast_to(forms.forward(*operands), (len(matching),))
        for value, row in zip(out, matching):
            assert close(float(value), gate.forward(*row))


def backward_is_finite(gate, row) -> bool:
    try:
        apply_gate(gate, *(Value(v) for v in row)).backward()
    except GateGradientError:  # an infinite local derivative (sqrt at 0): tested on its own
        return False
    return True


def in_domain_batch(gate) -> np.ndarray:
    """The points where the gate and its gradient are finite (kinks and ties included)."""
    rows = [row for row in rows_for(gate) if scalar_outcome(gate, row)[0] == "value" and 700.0 not in row]
    return np.array([row for row in rows if backward_is_finite(gate, row)], dtype=float)


@pytest.mark.parametrize("gate", GATES, ids=gate_id)
def test_the_one_gate_circuit_replays_on_the_tape(gate):
    w = Value(1.0, "w")  # a parameter in front of every operand, so parameters get gradients too
    batch = in_domain_batch(gate)
    check_tape_against_scalar(lambda *xs: apply_gate(gate, *(x * w for x in xs)), batch, [w])


def refused_rows(gate) -> list[tuple[float, ...]]:
    return [row for row in rows_for(gate) if scalar_outcome(gate, row)[0] in ("refused", "overflow")]


# Gates that refuse or overflow somewhere among the points (add, max, relu, arctan... never do).
REFUSING = [gate for gate in GATES if refused_rows(gate)]


def test_the_gates_that_can_refuse_are_checked():
    assert {g.name for g in REFUSING} >= {"div", "pow", "exp", "log"}


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("gate", REFUSING, ids=gate_id)
def test_a_refused_sample_raises_the_scalar_engines_error_naming_the_sample(gate, level):
    bad = refused_rows(gate)
    good = in_domain_batch(gate)
    tape = Tape.trace(lambda *xs: apply_gate(gate, *xs), good[0], level=level)
    batch = np.vstack([good, [bad[0]]])
    with pytest.raises(GateError) as info:
        tape.forward(batch)
    with pytest.raises(GateError) as scalar:
        apply_gate(gate, *(Value(v) for v in bad[0]))
    assert type(info.value) is type(scalar.value)
    assert info.value.sample == len(good)
    assert f"in sample {len(good)} of the batch" in str(info.value)
    assert info.value.gate == gate.name
