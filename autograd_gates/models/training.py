"""The training loop, and the checks every model runs on its data before touching a weight.

``fit(model, X, y, loss="hinge", lr=0.1, epochs=100)`` trains anything that is callable
on one sample and has ``.parameters()`` (an ``nn.MLP``, an ``nn.Neuron``, a
``SigmoidNeuron``...) with ``optim.SGD``, and returns a ``History`` of the loss and
accuracy per epoch. It is reproducible: the same model seed and the same ``seed``
give an identical history.

``as_inputs`` and ``as_labels`` validate a data set (shape, numbers, NaN, label set)
with errors that name the argument; the models call them before changing anything.
"""

from __future__ import annotations

import gc
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..engine.arguments import count, finite_number
from ..engine.value import Value
from . import losses
from .optim import SGD

__all__ = [
    "fit",
    "History",
    "LOSSES",
    "as_inputs",
    "as_labels",
    "ConvergenceWarning",
    "DivergenceWarning",
    "Progress",
]


class ConvergenceWarning(UserWarning):
    """Training stopped at its epoch limit without reaching its goal (e.g. a perceptron on XOR)."""


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss or a gradient stopped being a finite number."""


# -- validating data ----------------------------------------------------------------------


def as_inputs(X: object, n_features: int | None = None, name: str = "X") -> np.ndarray:
    """``X`` as a 2-D float array of shape ``(n_samples, n_features)``, or a clear error.

    Accepts a numpy array or a list of rows. Raises ``ValueError`` naming ``name`` for an
    empty set, a ragged or wrongly shaped array, the wrong number of features, or a
    NaN / infinite entry (with its row and column); ``TypeError`` for non-numbers.
    """
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} must be a 2-D array of numbers, got {type(X).__name__}")
    try:
        array = np.asarray(X, dtype=float)
    except ValueError as exc:
        raise ValueError(f"{name} must be a rectangular 2-D array of numbers ({exc})") from None
    except TypeError as exc:
        raise TypeError(f"{name} must be a 2-D array of numbers ({exc})") from None
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
    y: object, n_samples: int | None = None, allowed: Sequence[float] | None = None, name: str = "y"
) -> np.ndarray:
    """``y`` as a 1-D float array of ``n_samples`` finite numbers, each in ``allowed`` if given.

    Raises ``ValueError`` naming ``name`` for an empty set, a length that does not match
    ``X``, a NaN, or a label outside ``allowed`` (showing the first offender and its index).
    """
    if isinstance(y, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D array of numbers, got {type(y).__name__}")
    try:
        array = np.asarray(y, dtype=float)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be a 1-D array of numbers ({exc})") from None
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
            raise ValueError(f"{name}[{i}] = {array[i]:g} is not a label in {shown}")
    return array


# -- losses by name -----------------------------------------------------------------------


@dataclass(frozen=True)
class LossSpec:
    """A loss by name: the function, the labels it takes, and how a model output becomes a class."""

    function: Callable[..., Value]
    labels: tuple[float, ...] | None  # None: no fixed set (regression; class indices)
    predict: Callable[[list[Value]], float] | None  # None: no accuracy (regression)
    # A rule a set of labels cannot say; called with the labels and the model.
    check_labels: Callable[[np.ndarray, Any], None] | None = None


def _class_indices(y: np.ndarray, model: object) -> None:
    """Refuse a label that is not a class index: an integer >= 0, below the model's ``n_outputs``.

    Checked on all of ``y`` before training: the loss checks each batch too, but a batch
    cannot say where in ``y`` a bad label sits.
    """
    n_classes = getattr(model, "n_outputs", None)
    bad = (y < 0) | (y != np.floor(y))
    if n_classes is not None:
        bad |= y >= n_classes
    if bad.any():
        i = int(np.argmax(bad))
        known = f"in 0 .. {n_classes - 1}" if n_classes is not None else "(an integer >= 0)"
        raise ValueError(f"y[{i}] = {y[i]:g} is not a class index {known}")


def _first(out: list[Value] | Value) -> float:
    return (out[0] if isinstance(out, list) else out).data


LOSSES: dict[str, LossSpec] = {
    "hinge": LossSpec(losses.hinge, (-1.0, 1.0), lambda out: 1.0 if _first(out) > 0 else -1.0),
    "bce_logits": LossSpec(
        losses.binary_cross_entropy_with_logits, (0.0, 1.0), lambda out: 1.0 if _first(out) > 0 else 0.0
    ),
    "bce": LossSpec(losses.binary_cross_entropy, (0.0, 1.0), lambda out: 1.0 if _first(out) >= 0.5 else 0.0),
    "softmax_cross_entropy": LossSpec(
        losses.softmax_cross_entropy,
        None,
        lambda out: float(max(range(len(out)), key=lambda k: out[k].data)),
        _class_indices,
    ),
    "mse": LossSpec(losses.mean_squared_error, None, None),
    "sum_of_squares": LossSpec(losses.sum_of_squares, None, None),
}


# -- history and progress -----------------------------------------------------------------


@dataclass
class History:
    """What ``fit`` measured, one entry per epoch.

    ``loss[e]`` and ``accuracy[e]`` are the means over the epoch's batches, each measured
    on the batch *before* its update; with full batches (the default) that is the loss
    and accuracy of the weights at the start of epoch ``e``. ``accuracy`` is empty for
    regression losses. ``learning_rate[e]`` is the rate of the epoch's first step.
    ``steps`` counts optimizer steps; ``stopped`` says why the loop ended:
    ``"epochs"`` (ran them all), ``"target_accuracy"`` (reached it; with full batches
    no step is taken after the measurement, so the model has exactly that accuracy),
    or ``"diverged"`` (a gate overflowed, or the loss or a gradient was not finite; the
    last epoch's loss is then ``inf`` if a gate overflowed, its accuracy ``nan``).
    ``seconds`` is the wall time and is not compared by ``==``.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    steps: int = 0
    stopped: str = "epochs"
    seconds: float = field(default=0.0, compare=False)

    @property
    def epochs(self) -> int:
        return len(self.loss)


class Progress:
    """A one-line progress report on stderr, shown only once a run has taken ``after`` seconds.

    ``enabled=None`` (the default in ``fit``) is quiet for short runs and reports long ones
    at most every ``every`` seconds; ``True`` reports from the start; ``False`` never.
    """

    def __init__(
        self,
        total: int,
        enabled: bool | None = None,
        after: float = 2.0,
        every: float = 1.0,
        stream: Any = None,
    ) -> None:
        self.total = total
        self.enabled = enabled
        self.after = 0.0 if enabled else after
        self.every = every
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self.last = -math.inf
        self.shown = False

    def update(self, epoch: int, loss: float, accuracy: float | None) -> None:
        if self.enabled is False:
            return
        now = time.perf_counter()
        elapsed = now - self.start
        if elapsed < self.after or now - self.last < self.every:
            return
        self.last = now
        acc = f"  accuracy {accuracy:.3f}" if accuracy is not None else ""
        self.stream.write(f"\repoch {epoch + 1}/{self.total}  loss {loss:.6g}{acc}  ({elapsed:.1f} s)")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


# -- the loop -----------------------------------------------------------------------------


class Model(Protocol):
    def __call__(self, x: Sequence[float]) -> Any: ...

    def parameters(self) -> list[Value]: ...


def fit(
    model: Model,
    X: object,
    y: object,
    *,
    loss: str | Callable[..., Value] = "hinge",
    lr: float = 0.1,
    epochs: int = 100,
    momentum: float = 0.0,
    optimizer: SGD | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    l2: float = 0.0,
    batch_size: int | None = None,
    target_accuracy: float | None = None,
    predict: Callable[[Any], float] | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> History:
    """Train ``model`` on ``(X, y)`` with gradient descent; return the per-epoch ``History``.

    Each step: ``optimizer.zero_grad()``; ``total = loss(y_batch, outputs) + l2 * sum p^2``;
    ``total.backward()``; ``optimizer.step()``.

    * ``loss``: a name from ``LOSSES`` (``"hinge"`` with labels ±1, ``"bce_logits"`` or
      ``"bce"`` with labels 0/1, ``"softmax_cross_entropy"`` with class indices,
      ``"mse"``, ``"sum_of_squares"``) or a function ``loss(y_batch, outputs) -> Value``
      (then pass ``predict`` to get an accuracy).
    * ``lr``, ``momentum``: for the ``SGD`` built here, unless ``optimizer`` is given.
      ``lr_schedule(k)`` sets the learning rate before step ``k`` (0-based), e.g.
      micrograd's ``lambda k: 1.0 - 0.9 * k / 100``.
    * ``l2``: weight decay added to the loss (micrograd's demo: ``1e-4``); the history
      records the total.
    * ``batch_size``: ``None`` uses all samples in every step (full batch, the default);
      otherwise samples are shuffled each epoch with ``numpy.random.default_rng(seed)``.
    * ``target_accuracy``: stop once an epoch's accuracy reaches it.
    * ``progress``: ``None`` prints a progress line to stderr only for runs longer than
      2 seconds; ``True`` always; ``False`` never.

    Everything is validated before the first step. If the loss or a gradient stops being
    finite, training stops before applying it, with a ``DivergenceWarning``. If an
    exception is raised mid-training, the parameters are put back as they were before
    ``fit`` and the exception propagates: a model is never left half-trained silently.

    Python's cyclic garbage collector is paused while the loop runs and restored after:
    each step's graph holds no reference cycles, so reference counting frees it, and the
    collector would only re-scan it (pausing halves the time of micrograd's moons demo).
    """
    spec = _loss_spec(loss)
    labels = spec.labels if spec else None
    predict = predict or (spec.predict if spec else None)
    loss_fn = spec.function if spec else loss
    n_features = _checked_model(model)
    X = as_inputs(X, n_features)
    y = as_labels(y, X.shape[0], labels)
    if spec and spec.check_labels:
        spec.check_labels(y, model)
    epochs = count(epochs, "epochs")
    if batch_size is not None:
        batch_size = count(batch_size, "batch_size")
    l2 = finite_number(l2, "l2", low=0.0)
    if target_accuracy is not None:
        target_accuracy = finite_number(target_accuracy, "target_accuracy", low=0.0, low_open=True, high=1.0)
        if predict is None:
            raise ValueError(
                "target_accuracy needs an accuracy: pass predict=, or a classification loss by name"
            )
    params = model.parameters()
    if optimizer is None:
        optimizer = SGD(params, lr=lr, momentum=momentum)
    if lr_schedule is not None:
        _check_rate(lr_schedule(0), 0)

    snapshot = [(p, p.data) for p in optimizer.params]  # what a step can change
    rng = np.random.default_rng(seed)
    rows, targets = X.tolist(), y.tolist()
    n = len(rows)
    size = n if batch_size is None else min(batch_size, n)
    history = History()
    bar = Progress(epochs, progress)
    start = time.perf_counter()
    with _collector_paused():
        try:
            for epoch in range(epochs):
                order = np.arange(n) if size == n else rng.permutation(n)
                loss_sum, correct, counted = 0.0, 0, 0
                stop = None
                for lo in range(0, n, size):
                    batch = order[lo : lo + size]
                    if lr_schedule is not None:
                        optimizer.lr = _check_rate(lr_schedule(history.steps), history.steps)
                    if lo == 0:
                        history.learning_rate.append(optimizer.lr)
                    batch_y = [targets[i] for i in batch]
                    try:
                        outputs = [model(rows[i]) for i in batch]
                        total = loss_fn(batch_y, outputs)
                        if l2:
                            total = total + losses.l2_penalty(params, l2)
                    except OverflowError:  # a gate overflowed: the weights have blown up
                        loss_sum, counted, stop = math.inf, max(counted, 1), "diverged"
                        break
                    loss_sum += total.data * len(batch)
                    counted += len(batch)
                    if predict is not None:
                        correct += sum(predict(out) == t for out, t in zip(outputs, batch_y))
                    if not math.isfinite(total.data):
                        stop = "diverged"
                        break
                    if size == n and target_accuracy is not None and correct / n >= target_accuracy:
                        stop = "target_accuracy"  # measured on these very weights: do not step
                        break
                    optimizer.zero_grad()
                    try:
                        total.backward()  # GateGradientError, a FloatingPointError, if a gradient overflows
                        optimizer.step()
                    except FloatingPointError:  # a gradient is not finite; the step changed nothing
                        stop = "diverged"
                        break
                    history.steps += 1
                history.loss.append(loss_sum / counted)
                accuracy = correct / counted if predict is not None and math.isfinite(loss_sum) else None
                if predict is not None:
                    history.accuracy.append(accuracy if accuracy is not None else math.nan)
                bar.update(epoch, history.loss[-1], accuracy)
                reached = target_accuracy is not None and accuracy is not None and accuracy >= target_accuracy
                if stop is None and reached:
                    stop = "target_accuracy"
                if stop is not None:
                    history.stopped = stop
                    break
        except Exception:
            for p, value in snapshot:
                p.data = value
                p.grad = 0.0
            raise
        finally:
            bar.close()
            history.seconds = time.perf_counter() - start
    if history.stopped == "diverged":
        warnings.warn(
            f"training diverged in epoch {history.epochs}: the loss or a gradient is not finite "
            f"(last loss {history.loss[-1]!r}); stopped before applying it. Try a smaller lr.",
            DivergenceWarning,
            stacklevel=2,
        )
    elif target_accuracy is not None and history.stopped != "target_accuracy":
        warnings.warn(
            f"training accuracy did not reach {target_accuracy} in {epochs} epochs "
            f"(last {history.accuracy[-1]:.3f})",
            ConvergenceWarning,
            stacklevel=2,
        )
    return history


@contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _loss_spec(loss: object) -> LossSpec | None:
    if isinstance(loss, str):
        try:
            return LOSSES[loss]
        except KeyError:
            raise ValueError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}") from None
    if callable(loss):
        return None
    raise TypeError(f"loss must be a name or a function, got {type(loss).__name__} {loss!r}")


def _checked_model(model: object) -> int | None:
    """The model's ``n_inputs`` (None if it does not say), once it is known to be a model at all."""
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise TypeError(
            f"model must be callable on a sample and have .parameters(), got {type(model).__name__}"
        )
    return getattr(model, "n_inputs", None)


def _check_rate(rate: object, step: int) -> float:
    return finite_number(rate, f"the learning rate lr_schedule({step})", low=0.0, low_open=True)
