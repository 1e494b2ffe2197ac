"""Checks every model and the training loop run on a data set before touching a weight, and the
warnings training gives.

``as_inputs`` and ``as_labels`` turn ``X`` and ``y`` into float arrays or raise an error that names
the argument, the row and the value: ``TypeError`` for something that is not numbers at all,
``ValueError`` for numbers of the wrong shape or value (ragged rows, NaN, a label outside the set).

This module sits below both the models (``nn``, ``classic``) and the training loop, so a model can
check its data without importing the loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["as_inputs", "as_labels", "ConvergenceWarning", "DivergenceWarning"]


class ConvergenceWarning(UserWarning):
    """Training stopped at its epoch limit without reaching its goal (e.g. a perceptron on XOR)."""


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss, a gradient or a step stopped being finite."""


def _float_array(data: object, name: str, what: str) -> np.ndarray:
    """``data`` as a float array: ``TypeError`` if it is not numbers, ``ValueError`` for ragged rows."""
    if isinstance(data, (str, bytes)) or data is None:
        raise TypeError(f"{name} must be {what}, got {type(data).__name__} {data!r}")
    try:
        raw = np.asarray(data)
    except ValueError as exc:  # numpy refuses ragged nesting
        raise ValueError(
            f"{name} must be a rectangular {what.removeprefix('a ')}: rows of equal length ({exc})"
        ) from None
    if raw.dtype.kind in "biuf":
        return raw.astype(float)
    if raw.dtype.kind == "O":  # numbers of several types, Fractions, Decimals... or Values
        try:
            return raw.astype(float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be {what} ({exc})") from None
    raise TypeError(f"{name} must be {what}, got an array of {raw.dtype} ({raw.reshape(-1)[:3]!r}...)")


def as_inputs(X: object, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """``X`` as a 2-D float array of shape ``(n_samples, n_features)``, or a clear error.

    Accepts a numpy array or a list of rows. ``TypeError`` naming ``name`` for something that
    is not numbers; ``ValueError`` for an empty set, a ragged or wrongly shaped array, the wrong
    number of features, or a NaN / infinite entry (with its row and column).
    """
    array = _float_array(X, name, "a 2-D array of numbers")
    if array.size == 0:
        raise ValueError(f"{name} is empty: at least one sample is needed")
    if array.ndim == 1 and n_features is not None and array.shape[0] == n_features:
        raise ValueError(
            f"{name} is 1-D with {n_features} numbers; pass a 2-D array of samples, e.g. [{name.lower()}_row]"
        )
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {array.shape}")
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(f"{name} has {array.shape[1]} features per sample but the model takes {n_features}")
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} contains {float(array[row, col])!r} at row {row}, column {col} "
            f"({int(bad.sum())} non-finite entries in all); inputs must be finite numbers"
        )
    return array


def as_labels(
    y: object,
    n_samples: int | None = None,
    allowed: Sequence[float] | None = None,
    name: str = "y",
    hint: str = "",
) -> np.ndarray:
    """``y`` as a 1-D float array of ``n_samples`` finite numbers, each in ``allowed`` if given.

    ``TypeError`` naming ``name`` for something that is not numbers; ``ValueError`` for an empty
    set, a length that does not match ``X``, a NaN, or a label outside ``allowed`` (showing the
    first offender and its index, then ``hint``: what to pass instead).
    """
    array = _float_array(y, name, "a 1-D array of numbers")
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per sample), got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty: at least one label is needed")
    if n_samples is not None and array.shape[0] != n_samples:
        raise ValueError(f"{name} has {array.shape[0]} labels but X has {n_samples} samples")
    bad = ~np.isfinite(array)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}[{i}] = {float(array[i])!r}; labels must be finite numbers")
    if allowed is not None:
        outside = ~np.isin(array, np.asarray(allowed, dtype=float))
        if outside.any():
            i = int(np.argmax(outside))
            shown = "{" + ", ".join(f"{a:g}" for a in allowed) + "}"
            raise ValueError(
                f"{name}[{i}] = {array[i]:g} is not a label in {shown}" + (f". {hint}" if hint else "")
            )
    return array
