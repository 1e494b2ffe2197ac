"""The shared argument checks: the wrong type is a TypeError, a bad value of the right type a ValueError."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_gates import Value
from autograd_gates.engine.arguments import count, finite_float, finite_number, flag


@pytest.mark.parametrize("bad", ["x", None, [1.0], True, 1j])
def test_finite_number_refuses_a_non_number_with_a_type_error(bad):
    with pytest.raises(TypeError, match=rf"lr must be a finite number > 0, got {type(bad).__name__} "):
        finite_number(bad, "lr", low=0.0, low_open=True)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 0.0, -1, np.float64("nan")])
def test_finite_number_refuses_a_bad_number_with_a_value_error(bad):
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got"):
        finite_number(bad, "lr", low=0.0, low_open=True)


def test_finite_number_accepts_ints_and_numpy_scalars():
    assert finite_number(np.float32(0.5), "lr") == 0.5
    assert finite_number(np.int64(3), "lr", low=0.0, high=3.0) == 3.0
    assert type(finite_number(2, "lr")) is float


@pytest.mark.parametrize("bad", [2.0, 2.5, "3", None, True, np.float64(2.0)])
def test_count_refuses_a_non_integer_with_a_type_error(bad):
    with pytest.raises(TypeError, match="epochs must be a positive integer, got"):
        count(bad, "epochs")


def test_count_refuses_a_small_integer_with_a_value_error():
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        count(0, "epochs")
    with pytest.raises(ValueError, match="n_samples must be an integer >= 2, got 1"):
        count(np.int64(1), "n_samples", minimum=2)
    assert count(np.int64(4), "epochs") == 4


def test_finite_float_speaks_like_value():
    """The check Value's constructor makes, with the same messages, so Value can call it."""
    for bad in ("x", None, True):
        with pytest.raises(TypeError) as ours:
            finite_float(bad, "Value('a')")
        with pytest.raises(TypeError) as values:
            Value(bad, "a")
        assert str(ours.value) == str(values.value)
    with pytest.raises(ValueError) as ours:
        finite_float(math.inf, "Value('a')")
    with pytest.raises(ValueError) as values:
        Value(math.inf, "a")
    assert str(ours.value) == str(values.value)
    assert finite_float(np.float32(0.25), "x") == 0.25 and type(finite_float(3, "x")) is float


def test_flag():
    assert flag(True, "nonlin") is True and flag(np.bool_(False), "nonlin") is False
    with pytest.raises(TypeError, match="nonlin must be True or False, got int 1"):
        flag(1, "nonlin")
