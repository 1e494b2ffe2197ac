"""Data sets: exact truth tables, shapes, labels, geometry and seeds."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_gates import datasets

GENERATORS = {
    "blobs": datasets.blobs,
    "moons": datasets.moons,
    "circles": datasets.circles,
}


def test_truth_tables():
    corners = [[0, 0], [0, 1], [1, 0], [1, 1]]
    for make, labels in [
        (datasets.and_gate, [0, 0, 0, 1]),
        (datasets.or_gate, [0, 1, 1, 1]),
        (datasets.xor_gate, [0, 1, 1, 0]),
    ]:
        X, y = make()
        assert X.tolist() == corners and y.tolist() == labels
        assert X.dtype == float and y.dtype == float


def test_truth_tables_are_fresh_copies():
    X, _ = datasets.and_gate()
    X[0, 0] = 99.0
    assert datasets.and_gate()[0][0, 0] == 0.0


@pytest.mark.parametrize("name", GENERATORS)
def test_shapes_labels_and_seeds(name):
    make = GENERATORS[name]
    X, y = make(n_samples=51, seed=3)
    assert X.shape == (51, 2) and y.shape == (51,)
    assert set(y.tolist()) == {0.0, 1.0}
    assert abs(int(y.sum()) - 25.5) <= 0.5  # balanced
    X2, y2 = make(n_samples=51, seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = make(n_samples=51, seed=4)
    assert not np.array_equal(X, X3)


def test_blobs_separable_when_far_apart():
    X, y = datasets.blobs(200, distance=10.0, seed=0)
    side = (X.sum(axis=1) > 0).astype(float)
    assert np.array_equal(side, y)


def test_moons_without_noise_lie_on_their_arcs():
    X, y = datasets.moons(40, noise=0.0)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()


def test_circles_without_noise_have_their_radii():
    X, y = datasets.circles(40, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(radius[y == 0], 1.0) and np.allclose(radius[y == 1], 0.3)


def test_noisy_line_recovers_its_line():
    X, y = datasets.noisy_line(500, slope=2.0, intercept=-1.0, noise=0.1, seed=1)
    assert X.shape == (500, 1)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    assert slope == pytest.approx(2.0, abs=0.05) and intercept == pytest.approx(-1.0, abs=0.05)


def test_signed_labels():
    assert datasets.signed(np.array([0.0, 1.0, 1.0])).tolist() == [-1.0, 1.0, 1.0]
    assert datasets.signed([0, 1]).tolist() == [-1.0, 1.0]
    with pytest.raises(
        ValueError, match=r"y\[1\] = 2 is not a label in \{0, 1\}\. signed\(y\) turns labels 0 and 1"
    ):
        datasets.signed(np.array([0.0, 2.0]))
    with pytest.raises(TypeError, match="y must be a 1-D array of numbers"):
        datasets.signed(["no", "yes"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: datasets.noisy_line(2.5), "n_samples must be a positive integer, got float 2.5"),
        (lambda: datasets.moons("100"), "n_samples must be an integer >= 2, got str '100'"),
        (lambda: datasets.blobs(10, spread="wide"), "spread must be a finite number >= 0, got str 'wide'"),
    ],
)
def test_arguments_of_the_wrong_type(call, message):
    with pytest.raises(TypeError, match=message):
        call()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: datasets.moons(1), "n_samples must be an integer >= 2, got 1"),
        (lambda: datasets.blobs(10, spread=-1.0), "spread"),
        (lambda: datasets.circles(10, factor=1.5), "factor"),
        (lambda: datasets.noisy_line(10, low=1.0, high=0.0), "low must be below high"),
        (lambda: datasets.moons(10, noise=float("nan")), "noise"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
