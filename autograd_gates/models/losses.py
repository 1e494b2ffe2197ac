"""Loss functions, built from the gates.

Every loss takes the targets ``y`` first and the model's outputs second (as the slides
write ``y - y_hat``), and returns one ``Value`` whose ``backward()`` fills the
gradients of every parameter that produced the outputs.

Arguments:

* ``y``: a sequence of numbers (a numpy array is fine), or a single number.
* the outputs (``y_hat``, ``probabilities``, ``logits``, ``scores``): a sequence of the
  same length whose items are Values or numbers (what a one-output ``nn.MLP`` returns);
  an item may also be a one-element sequence (what ``MLP.forward`` returns). For
  ``softmax_cross_entropy`` each item is a sequence of class scores.

Everything is validated before any gate is built, and a bad argument gets an error
that names it (``y``, ``probabilities``, ...), the position and the value.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

from ..engine.arguments import finite_number
from ..engine.value import Value, as_value
from .activations import logsumexp, softplus

__all__ = [
    "sum_of_squares",
    "mean_squared_error",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "softmax_cross_entropy",
    "hinge",
    "l2_penalty",
    "DEFAULT_CLIP",
]

Number = float | int

#: Probabilities are clipped to ``[DEFAULT_CLIP, 1 - DEFAULT_CLIP]`` before the log.
DEFAULT_CLIP = 1e-12


# -- argument checking --------------------------------------------------------------------


def _is_sequence(x: object) -> bool:
    if isinstance(x, (str, bytes, Value)):
        return False
    if hasattr(x, "__array__"):
        return getattr(x, "ndim", 1) > 0  # a numpy scalar or 0-d array is one number
    return isinstance(x, Sequence)


def _scalar(x: object) -> object:
    """A 0-d numpy array as its Python number; anything else unchanged."""
    return x.item() if getattr(x, "ndim", None) == 0 and hasattr(x, "item") else x


def _targets(y: object) -> list[float]:
    if _is_sequence(y):
        items = list(y.tolist() if hasattr(y, "tolist") else y)
    else:
        items = [_scalar(y)]
    if not items:
        raise ValueError("y is empty: a loss needs at least one sample")
    out = []
    for i, t in enumerate(items):
        if isinstance(t, bool) or not isinstance(t, numbers.Real):
            raise TypeError(f"y[{i}] must be a number, got {type(t).__name__} {t!r}")
        t = float(t)
        if not math.isfinite(t):
            raise ValueError(f"y[{i}] must be finite, got {t!r}")
        out.append(t)
    return out


def _outputs(outputs: object, n: int, name: str) -> list[Value]:
    items = list(outputs) if _is_sequence(outputs) else [_scalar(outputs)]
    if len(items) != n:
        raise ValueError(f"{name} has {len(items)} items but y has {n}: they must match one to one")
    values = []
    for i, item in enumerate(items):
        if _is_sequence(item):
            inner = list(item)
            if len(inner) != 1:
                raise ValueError(
                    f"{name}[{i}] is a sequence of {len(inner)} items; expected one Value or number "
                    f"(a one-element list, as MLP.forward returns, is also accepted)"
                )
            item = inner[0]
        if item.__class__ is not Value:
            if isinstance(item, bool) or not isinstance(item, numbers.Real):
                raise TypeError(
                    f"{name}[{i}] must be a Value or a number, got {type(item).__name__} {item!r}"
                )
            if not math.isfinite(item):
                raise ValueError(f"{name}[{i}] must be finite, got {item!r}")
        values.append(as_value(item, name))
    return values


def _total(values: Iterable[Value]) -> Value:
    """The sum of Values, without an extra ``0 +`` node at the start."""
    it = iter(values)
    total = next(it)
    for v in it:
        total = total + v
    return total


# -- regression ---------------------------------------------------------------------------


def sum_of_squares(y: Sequence[Number] | Number, y_hat: Sequence[Value | Number] | Value) -> Value:
    """Adaline's cost ``J = 1/2 * sum_i (y_i - y_hat_i)^2``.

    ``dJ/dy_hat_i = -(y_i - y_hat_i)``, so for a linear output ``y_hat = w . x + b``,
    ``dJ/dw = -sum_i (y_i - y_hat_i) * x_i`` (the slides' result).
    """
    targets = _targets(y)
    outputs = _outputs(y_hat, len(targets), "y_hat")
    return 0.5 * _total((t - o) ** 2 for t, o in zip(targets, outputs))


def mean_squared_error(y: Sequence[Number] | Number, y_hat: Sequence[Value | Number] | Value) -> Value:
    """``MSE = 1/N * sum_i (y_i - y_hat_i)^2``; ``dMSE/dy_hat_i = -2/N * (y_i - y_hat_i)``."""
    targets = _targets(y)
    outputs = _outputs(y_hat, len(targets), "y_hat")
    return _total((t - o) ** 2 for t, o in zip(targets, outputs)) / len(targets)


# -- binary classification ----------------------------------------------------------------


def _check_unit_interval(targets: list[float], name: str) -> None:
    for i, t in enumerate(targets):
        if not 0.0 <= t <= 1.0:
            raise ValueError(
                f"{name}[{i}] = {t!r}: binary cross-entropy needs targets in [0, 1] (labels 0 or 1)"
            )


def binary_cross_entropy(
    y: Sequence[Number] | Number,
    probabilities: Sequence[Value | Number] | Value,
    clip: float = DEFAULT_CLIP,
) -> Value:
    """``L = -1/N * sum_j [t_j log(p_j) + (1 - t_j) log(1 - p_j)]``; ``t = y`` targets, ``p`` predictions.

    ``dL/dp_j = -1/N * (t_j / p_j - (1 - t_j) / (1 - p_j))``.

    **Clipping.** ``p = 0`` or ``1`` would take the log of 0 (the slides' "infinite"
    loss), so each probability is first clipped to ``[clip, 1 - clip]`` with max/min
    gates (default ``clip = 1e-12``). So the loss is at most ``-log(clip) ~ 27.6`` per
    sample, and where a probability is beyond the clip its gradient is **0**: a
    confidently wrong sigmoid gets no signal. Prefer ``binary_cross_entropy_with_logits``
    when the probabilities come from a sigmoid.

    Targets may be soft (any number in ``[0, 1]``); probabilities must lie in ``[0, 1]``.
    """
    clip = finite_number(clip, "clip", low=0.0, low_open=True, high=0.5, high_open=True)
    targets = _targets(y)
    _check_unit_interval(targets, "y")
    probs = _outputs(probabilities, len(targets), "probabilities")
    for i, p in enumerate(probs):
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"probabilities[{i}] = {p.data!r} is not a probability in [0, 1]")
    terms = []
    for t, p in zip(targets, probs):
        p = p.max(clip).min(1.0 - clip)
        terms.append(t * p.log() + (1.0 - t) * (1.0 - p).log())
    return -_total(terms) / len(targets)


def binary_cross_entropy_with_logits(
    y: Sequence[Number] | Number, logits: Sequence[Value | Number] | Value
) -> Value:
    """Binary cross-entropy of ``p = sigmoid(z)``, computed from the logits ``z`` directly.

    ``L = 1/N * sum_j [softplus(z_j) - t_j * z_j]`` -- the same number as
    ``binary_cross_entropy(t, sigmoid(z))`` without clipping, and stable for any ``z``
    (``softplus`` never exponentiates a positive number). ``dL/dz_j = (sigmoid(z_j) - t_j) / N``:
    a confidently wrong prediction gets the full gradient.
    """
    targets = _targets(y)
    _check_unit_interval(targets, "y")
    zs = _outputs(logits, len(targets), "logits")
    return _total(softplus(z) - t * z for t, z in zip(targets, zs)) / len(targets)


# -- several classes ----------------------------------------------------------------------


def softmax_cross_entropy(y: Sequence[int] | int, logits: Sequence[Sequence[Value | Number]]) -> Value:
    """Cross-entropy of ``softmax(z)`` against class labels: ``L = 1/N * sum_j -log(softmax(z_j)[y_j])``.

    ``y`` holds class indices ``0 .. K-1``; ``logits`` one sequence of ``K`` scores per
    sample. Computed as ``logsumexp(z_j) - z_j[y_j]``, stable for any scores.
    ``dL/dz_jk = (softmax(z_j)_k - [k == y_j]) / N``.
    """
    targets = _targets(y)
    rows = list(logits) if _is_sequence(logits) else None
    if rows is None or (rows and not _is_sequence(rows[0])):
        raise TypeError("logits must be a sequence with one sequence of class scores per sample")
    if len(rows) != len(targets):
        raise ValueError(f"logits has {len(rows)} rows but y has {len(targets)}: they must match one to one")
    n_classes = len(rows[0])
    if n_classes < 2:
        raise ValueError(f"logits[0] has {n_classes} scores; softmax cross-entropy needs at least 2 classes")
    scores = []
    for j, row in enumerate(rows):
        if not _is_sequence(row) or len(row) != n_classes:
            size = len(row) if _is_sequence(row) else "not a sequence"
            raise ValueError(f"logits[{j}] has {size} scores, expected {n_classes} like logits[0]")
        scores.append(_outputs(row, n_classes, f"logits[{j}]"))
    for j, t in enumerate(targets):
        if t != int(t) or not 0 <= t < n_classes:
            raise ValueError(f"y[{j}] = {t!r} is not a class index in 0 .. {n_classes - 1}")
    return _total(logsumexp(row) - row[int(t)] for t, row in zip(targets, scores)) / len(targets)


# -- margins ------------------------------------------------------------------------------


def hinge(y: Sequence[Number] | Number, scores: Sequence[Value | Number] | Value) -> Value:
    """The max-margin (SVM) loss of micrograd's demo: ``L = 1/N * sum_j relu(1 - y_j * s_j)``.

    Labels are ``-1`` or ``+1`` (not 0/1). ``dL/ds_j = -y_j / N`` while the margin
    ``y_j * s_j < 1``, else 0; at exactly ``y_j * s_j = 1`` the relu gate gives 0.
    """
    targets = _targets(y)
    for i, t in enumerate(targets):
        if t not in (-1.0, 1.0):
            raise ValueError(
                f"y[{i}] = {t!r}: the hinge loss needs labels -1 or +1 (use 2*y - 1 for 0/1 labels)"
            )
    outputs = _outputs(scores, len(targets), "scores")
    return _total((1.0 - t * s).relu() for t, s in zip(targets, outputs)) / len(targets)


def l2_penalty(parameters: Iterable[Value], alpha: float) -> Value:
    """Weight decay ``alpha * sum_p p^2`` (micrograd's demo: ``alpha = 1e-4``); ``d/dp = 2 * alpha * p``."""
    alpha = finite_number(alpha, "alpha", low=0.0)
    params = list(parameters)
    if not params:
        raise ValueError("parameters is empty: there is nothing to penalise")
    for i, p in enumerate(params):
        if p.__class__ is not Value:
            raise TypeError(f"parameters[{i}] must be a Value, got {type(p).__name__} {p!r}")
    return alpha * _total(p * p for p in params)
