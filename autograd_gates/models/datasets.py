"""Small data sets for the slides' models, generated with numpy (no downloads).

Every function returns ``(X, y)``: ``X`` a float array of shape ``(n_samples, 2)``
(``(n_samples, 1)`` for ``noisy_line``), ``y`` a float array of labels 0/1 (or
regression targets). Random sets take a ``seed`` and are identical for the same seed.
``signed(y)`` turns 0/1 labels into the -1/+1 the hinge loss wants.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine.arguments import count, finite_number
from .data import as_labels

__all__ = ["and_gate", "or_gate", "xor_gate", "blobs", "moons", "circles", "noisy_line", "signed"]

_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def _truth_table(outputs: list[int]) -> tuple[np.ndarray, np.ndarray]:
    return _CORNERS.copy(), np.array(outputs, dtype=float)


def and_gate() -> tuple[np.ndarray, np.ndarray]:
    """The AND truth table: inputs (0,0) (0,1) (1,0) (1,1), labels 0 0 0 1. Linearly separable."""
    return _truth_table([0, 0, 0, 1])


def or_gate() -> tuple[np.ndarray, np.ndarray]:
    """The OR truth table: labels 0 1 1 1. Linearly separable."""
    return _truth_table([0, 1, 1, 1])


def xor_gate() -> tuple[np.ndarray, np.ndarray]:
    """The XOR truth table: labels 0 1 1 0. *Not* linearly separable: no perceptron learns it."""
    return _truth_table([0, 1, 1, 0])


def blobs(
    n_samples: int = 100, distance: float = 4.0, spread: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs, label 0 around ``(-d/2, -d/2)/sqrt(2)`` and 1 around ``(d/2, d/2)/sqrt(2)``.

    The centres are ``distance`` apart along the diagonal; each point scatters with standard
    deviation ``spread`` per coordinate. With the defaults (4 standard deviations apart)
    about 98% of points lie on their side of the line ``x1 + x2 = 0``; for a set that is
    separable for certain, use a larger ``distance`` (e.g. 8). Labels alternate 0, 1, ...
    """
    n = count(n_samples, "n_samples", minimum=2)
    distance = finite_number(distance, "distance", low=0.0)
    spread = finite_number(spread, "spread", low=0.0)
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    centre = (distance / 2) / math.sqrt(2)
    X = np.where(y[:, None] == 1, centre, -centre) + spread * rng.standard_normal((n, 2))
    return X, y.astype(float)


def moons(n_samples: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as sklearn's ``make_moons``): not linearly separable.

    Label 0: the upper half circle of radius 1 centred at (0, 0); label 1: the lower half
    circle centred at (1, 0.5). Points are evenly spaced along each arc (the first
    ``ceil(n/2)`` samples label 0), then Gaussian ``noise`` is added.
    """
    n = count(n_samples, "n_samples", minimum=2)
    noise = finite_number(noise, "noise", low=0.0)
    rng = np.random.default_rng(seed)
    n_upper = (n + 1) // 2
    n_lower = n - n_upper
    t_upper = np.linspace(0, math.pi, n_upper)
    t_lower = np.linspace(0, math.pi, n_lower)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.vstack([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_upper), np.ones(n_lower)])
    return X, y


def circles(
    n_samples: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A circle of radius ``factor`` (label 1) inside a circle of radius 1 (label 0), plus ``noise``.

    Not linearly separable; separable by the radius. ``0 < factor < 1``.
    """
    n = count(n_samples, "n_samples", minimum=2)
    noise = finite_number(noise, "noise", low=0.0)
    factor = finite_number(factor, "factor", low=0.0, low_open=True, high=1.0, high_open=True)
    rng = np.random.default_rng(seed)
    n_outer = (n + 1) // 2
    n_inner = n - n_outer
    t_outer = np.linspace(0, 2 * math.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0, 2 * math.pi, n_inner, endpoint=False)
    outer = np.column_stack([np.cos(t_outer), np.sin(t_outer)])
    inner = factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)])
    X = np.vstack([outer, inner]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n_outer), np.ones(n_inner)])
    return X, y


def noisy_line(
    n_samples: int = 50,
    slope: float = 2.0,
    intercept: float = -1.0,
    noise: float = 0.1,
    low: float = -1.0,
    high: float = 1.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Regression data ``y = slope * x + intercept + noise * N(0, 1)``, ``x`` uniform in ``[low, high]``.

    ``X`` has shape ``(n_samples, 1)``.
    """
    n = count(n_samples, "n_samples")
    noise = finite_number(noise, "noise", low=0.0)
    slope = finite_number(slope, "slope")
    intercept = finite_number(intercept, "intercept")
    low = finite_number(low, "low")
    high = finite_number(high, "high")
    if not low < high:
        raise ValueError(f"low must be below high, got low={low!r}, high={high!r}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, n)
    y = slope * x + intercept + noise * rng.standard_normal(n)
    return x[:, None], y


def signed(y: object) -> np.ndarray:
    """0/1 labels as -1/+1 (``2 * y - 1``), for the hinge loss.

    ``TypeError`` if ``y`` is not numbers, ``ValueError`` naming the first label that is not 0 or 1.
    """
    y = as_labels(y, allowed=(0.0, 1.0), hint="signed(y) turns labels 0 and 1 into -1 and +1")
    return 2.0 * y - 1.0
