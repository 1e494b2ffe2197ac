"""The training loop.

``fit(model, X, y, loss="hinge", lr=0.1, epochs=100)`` trains anything that is callable
on one sample and has ``.parameters()`` (an ``nn.MLP``, an ``nn.Neuron``, a
``SigmoidNeuron``...) with ``optim.SGD`` or ``optim.Adam``, and returns a ``History`` of the
loss and accuracy per epoch. It is reproducible: the same model seed and the same ``seed``
give an identical history.

The data checks (``as_inputs``, ``as_labels``) and the warnings live in ``data``, below both
this loop and the models; they are imported here too, where users have always found them.
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

from ..engine.arguments import count, finite_number, flag
from ..engine.errors import GateError
from ..engine.tape import TraceMismatchError
from ..engine.value import Value
from . import losses
from .data import ConvergenceWarning, DivergenceWarning, as_inputs, as_labels
from .optim import SGD, Adam, Optimizer
from .tape_training import TapeTrainer, choose_engine

__all__ = [
    "fit",
    "History",
    "LOSSES",
    "OPTIMIZERS",
    "as_inputs",
    "as_labels",
    "ConvergenceWarning",
    "DivergenceWarning",
    "Progress",
]


# -- losses by name -----------------------------------------------------------------------


@dataclass(frozen=True)
class LossSpec:
    """A loss by name: the function, the labels it takes, and how a model output becomes a class."""

    function: Callable[..., Value]
    labels: tuple[float, ...] | None  # None: no fixed set (regression; class indices)
    predict: Callable[[Any], float] | None  # None: no accuracy (regression)
    # A rule a set of labels cannot say; called with the labels and the model.
    check_labels: Callable[[np.ndarray, Any], None] | None = None
    # Said after a label outside `labels`: which labels this loss takes, and what to pass instead.
    hint: str = ""


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
        raise ValueError(
            f"y[{i}] = {y[i]:g} is not a class index {known}; loss='softmax_cross_entropy' takes "
            "the index of each sample's class (0, 1, 2, ...)"
        )


def _first(out: list[Value] | Value) -> float:
    """The score of a one-output model, which returns a Value (or a one-element list)."""
    return out.data if out.__class__ is Value else out[0].data


_ZERO_ONE_HINT = (
    "loss={name!r} takes the labels 0 and 1; for labels -1/+1 pass loss='hinge', "
    "or convert them with (y + 1) / 2"
)

LOSSES: dict[str, LossSpec] = {
    "hinge": LossSpec(
        losses.hinge,
        (-1.0, 1.0),
        lambda out: 1.0 if _first(out) > 0 else -1.0,
        hint="loss='hinge' (fit's default) takes the labels -1 and +1; for labels 0/1 pass "
        "loss='bce_logits' (or loss='bce' for a model that outputs probabilities), "
        "or convert them with datasets.signed(y)",
    ),
    "bce_logits": LossSpec(
        losses.binary_cross_entropy_with_logits,
        (0.0, 1.0),
        lambda out: 1.0 if _first(out) > 0 else 0.0,
        hint=_ZERO_ONE_HINT.format(name="bce_logits"),
    ),
    "bce": LossSpec(
        losses.binary_cross_entropy,
        (0.0, 1.0),
        lambda out: 1.0 if _first(out) >= 0.5 else 0.0,
        hint=_ZERO_ONE_HINT.format(name="bce"),
    ),
    "softmax_cross_entropy": LossSpec(
        losses.softmax_cross_entropy,
        None,
        lambda out: float(max(range(len(out)), key=lambda k: out[k].data)),
        _class_indices,
    ),
    "mse": LossSpec(losses.mean_squared_error, None, None),
    "sum_of_squares": LossSpec(losses.sum_of_squares, None, None),
}

#: Optimizers ``fit`` builds by name, and the learning rate each gets when ``lr`` is not given.
OPTIMIZERS: dict[str, tuple[type[Optimizer], float]] = {"sgd": (SGD, 0.1), "adam": (Adam, 0.001)}


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
    or ``"diverged"`` (a gate overflowed, or the loss, a gradient or a step was not finite;
    the last epoch's loss is then ``inf`` if a gate overflowed, its accuracy ``nan``).
    ``reason`` says the same in a sentence, with the numbers (the epoch, the accuracy reached,
    the parameter that would have overflowed). ``seconds`` is the wall time and ``engine``
    what computed the gradients (``"tape"`` or ``"scalar"``); neither is compared by ``==``.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    steps: int = 0
    stopped: str = "epochs"
    reason: str = ""
    seconds: float = field(default=0.0, compare=False)
    engine: str = field(default="scalar", compare=False)  # what computed the gradients: "tape" or "scalar"

    @property
    def epochs(self) -> int:
        return len(self.loss)


class Progress:
    """A progress bar on one line of stderr, shown only once a run has taken ``after`` seconds::

        epoch 12/60 [####----------------]  20%  loss 0.312  accuracy 0.912  (1.2 s, 4.8 s left)

    ``enabled=None`` (the default in ``fit``) is quiet for short runs and reports long ones
    at most every ``every`` seconds; ``True`` reports from the start; ``False`` never.
    ``finish`` rewrites the line with the last epoch and, for a run that stopped early, adds a
    line saying why.
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

    WIDTH = 20  # characters of the bar

    def update(self, epoch: int, loss: float, accuracy: float | None, force: bool = False) -> None:
        if self.enabled is False:
            return
        now = time.perf_counter()
        elapsed = now - self.start
        if not force and (elapsed < self.after or now - self.last < self.every):
            return
        self.last = now
        done = (epoch + 1) / self.total
        filled = round(self.WIDTH * done)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        acc = f"  accuracy {accuracy:.3f}" if accuracy is not None else ""
        left = elapsed / done - elapsed
        self.stream.write(
            f"\repoch {epoch + 1}/{self.total} [{bar}] {done:4.0%}  loss {loss:.6g}{acc}  "
            f"({elapsed:.1f} s, {left:.1f} s left)"
        )
        self.stream.flush()
        self.shown = True

    def finish(self, epoch: int, loss: float, accuracy: float | None, stopped_early: str = "") -> None:
        """The last epoch's line (if the report is showing), then ``stopped_early`` on a line of its own."""
        if self.shown or self.enabled:
            self.update(epoch, loss, accuracy, force=True)
            if stopped_early:
                self.stream.write("\n" + stopped_early)
        self.close()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
            self.shown = False


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
    lr: float | None = None,
    epochs: int = 100,
    momentum: float | None = None,
    optimizer: Optimizer | str | None = None,
    lr_schedule: Callable[[int], float] | None = None,
    l2: float = 0.0,
    batch_size: int | None = None,
    target_accuracy: float | None = None,
    predict: Callable[[Any], float] | None = None,
    seed: int = 0,
    progress: bool | None = None,
    engine: str = "auto",
) -> History:
    """Train ``model`` on ``(X, y)`` with gradient descent; return the per-epoch ``History``.

    Each step: ``optimizer.zero_grad()``; ``total = loss(y_batch, outputs) + l2 * sum p^2``;
    ``total.backward()``; ``optimizer.step()``.

    * ``loss``: a name from ``LOSSES`` (``"hinge"`` with labels ±1, ``"bce_logits"`` or
      ``"bce"`` with labels 0/1, ``"softmax_cross_entropy"`` with class indices,
      ``"mse"``, ``"sum_of_squares"``) or a function ``loss(y_batch, outputs) -> Value``
      (then pass ``predict`` to get an accuracy). A one-output model may return a Value
      (as ``nn.MLP`` does) or a one-element list.
    * ``optimizer``: ``"sgd"`` (the default) or ``"adam"``, built here on
      ``model.parameters()`` with ``lr`` (default 0.1 for SGD, 0.001 for Adam) and, for SGD,
      ``momentum`` (default 0); or an optimizer you built, e.g.
      ``optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.99))``, which then carries its
      own settings (passing ``lr=`` or ``momentum=`` as well is an error).
      ``lr_schedule(k)`` sets the learning rate before step ``k`` (0-based), e.g.
      micrograd's ``lambda k: 1.0 - 0.9 * k / 100``.
    * ``l2``: weight decay added to the loss (micrograd's demo: ``1e-4``); the history
      records the total.
    * ``batch_size``: ``None`` uses all samples in every step (full batch, the default);
      otherwise samples are shuffled each epoch with ``numpy.random.default_rng(seed)``.
    * ``target_accuracy``: stop once an epoch's accuracy reaches it.
    * ``progress``: ``None`` prints a progress line to stderr only for runs longer than
      2 seconds; ``True`` always; ``False`` never. A run that stopped early ends its report
      with a line saying why (also in ``History.reason``).
    * ``engine``: ``"tape"`` traces the model and the per-sample loss once and replays the
      circuit for each batch with numpy (``engine.tape``; the same results, to rounding, in
      milliseconds); ``"scalar"`` builds the circuit of Values every step. ``"auto"`` (the
      default) takes the tape for a loss by name, and the scalar engine for a loss function
      of your own (which takes the whole batch, so it cannot be traced one sample at a time),
      for a model the tape cannot trace (one that branches on its data), and for a tiny step
      (parameters x samples per step under 32, where tracing costs more than it saves).
      ``History.engine`` says which one ran.

    Everything is validated before the first step. If the loss, a gradient or a step
    stops being finite, training stops before applying that step, with a
    ``DivergenceWarning`` naming what overflowed: the weights are those of the last finite
    step. If anything else ends the run before it finishes (an exception, a
    ``KeyboardInterrupt`` from Ctrl-C, a ``SystemExit``), the parameters, their gradients
    and the optimizer's state are put back as they were before ``fit`` and the exception
    propagates: a model is never left half-trained silently.

    Python's cyclic garbage collector is paused while the loop runs and restored after:
    each step's graph holds no reference cycles, so reference counting frees it, and the
    collector would only re-scan it (pausing halves the time of micrograd's moons demo).
    """
    spec = _loss_spec(loss)
    choose_engine(engine, loss)  # a bad name or a tape without a loss by name: refused now
    own_predict = predict
    predict = predict or (spec.predict if spec else None)
    loss_fn = spec.function if spec else loss
    n_features = _checked_model(model)
    X = as_inputs(X, n_features)
    y = as_labels(y, X.shape[0], spec.labels if spec else None, hint=spec.hint if spec else "")
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
    if progress is not None:
        flag(progress, "progress")
    for name, function in (("lr_schedule", lr_schedule), ("predict", predict)):
        if function is not None and not callable(function):
            raise TypeError(f"{name} must be a function, got {type(function).__name__} {function!r}")
    params = model.parameters()
    optimizer = _optimizer(optimizer, params, lr, momentum)
    if lr_schedule is not None:
        _check_rate(lr_schedule(0), 0)

    trainer = None
    per_step = X.shape[0] if batch_size is None else min(batch_size, X.shape[0])
    if choose_engine(engine, loss, len(params), per_step) == "tape":
        trainer = _tape_trainer(model, params, loss, X, y, l2, own_predict, required=engine == "tape")

    # What a run can change, to put back if it does not finish.
    tracked = list(dict.fromkeys([*params, *optimizer.params]))  # a Value hashes by identity
    snapshot = [(p, p.data, p.grad) for p in tracked]
    optimizer_state = optimizer.state_dict()
    rng = np.random.default_rng(seed)
    rows, targets = X.tolist(), y.tolist()
    n = len(rows)
    size = n if batch_size is None else min(batch_size, n)
    history = History(engine="tape" if trainer is not None else "scalar")
    bar = Progress(epochs, progress)
    start = time.perf_counter()
    detail = ""  # what diverged
    finished = False
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
                        if trainer is not None:
                            total_data, outputs = trainer.forward(X[batch], y[batch])
                        else:
                            outputs = [model(rows[i]) for i in batch]
                            total = loss_fn(batch_y, outputs)
                            if l2:
                                total = total + losses.l2_penalty(params, l2)
                            total_data = total.data
                    except OverflowError as exc:  # a gate overflowed: the weights have blown up
                        loss_sum, counted, stop, detail = math.inf, max(counted, 1), "diverged", str(exc)
                        break
                    loss_sum += total_data * len(batch)
                    counted += len(batch)
                    if trainer is not None and predict is not None:
                        correct += trainer.correct(outputs, y[batch])
                    elif predict is not None:
                        correct += sum(predict(out) == t for out, t in zip(outputs, batch_y))
                    if not math.isfinite(total_data):
                        stop, detail = "diverged", f"the loss is {total_data!r}"
                        break
                    if size == n and target_accuracy is not None and correct / n >= target_accuracy:
                        stop = "target_accuracy"  # measured on these very weights: do not step
                        break
                    optimizer.zero_grad()
                    try:
                        # GateGradientError, a FloatingPointError, if a gradient overflows
                        if trainer is not None:
                            trainer.backward()
                        else:
                            total.backward()
                        optimizer.step()
                    except FloatingPointError as exc:  # the step changed nothing
                        stop, detail = "diverged", str(exc)
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
            finished = True
        finally:
            history.seconds = time.perf_counter() - start
            if not finished:  # an exception, Ctrl-C or SystemExit: undo the run, then let it go on
                for p, data, grad in snapshot:
                    p.data, p.grad = data, grad
                optimizer.load_state_dict(optimizer_state)
                bar.close()
    history.reason = _reason(history, epochs, target_accuracy, detail)
    last_accuracy = history.accuracy[-1] if history.accuracy else None
    if last_accuracy is not None and math.isnan(last_accuracy):
        last_accuracy = None
    early = history.reason if history.stopped != "epochs" else ""
    bar.finish(history.epochs - 1, history.loss[-1], last_accuracy, early)
    if history.stopped == "diverged":
        warnings.warn(
            f"training diverged in epoch {history.epochs}: {detail}. Stopped before applying that step: "
            f"the weights are those after the last finite step ({history.steps} steps taken). "
            "Try a smaller lr.",
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


def _reason(history: History, epochs: int, target_accuracy: float | None, detail: str) -> str:
    where = f"stopped in epoch {history.epochs} of {epochs}"
    if history.stopped == "target_accuracy":
        return (
            f"{where}: training accuracy {history.accuracy[-1]:.3f} reached "
            f"target_accuracy={target_accuracy!r} after {history.steps} steps"
        )
    if history.stopped == "diverged":
        return f"{where}: diverged, {detail}"
    return f"ran all {epochs} epochs ({history.steps} steps)"


def _tape_trainer(model, params, loss, X, y, l2, predict, required: bool) -> TapeTrainer | None:
    """The tape for ``fit``, traced on the data; None (the scalar engine) if ``"auto"`` cannot trace."""
    trainer = TapeTrainer(model, params, loss, X.shape[1], getattr(model, "n_outputs", None), l2, predict)
    try:
        trainer.prepare(X, y)
    except (TraceMismatchError, GateError, ValueError, TypeError):
        if required:
            raise
        return None  # "auto": the scalar engine trains it, and names any problem with the data
    return trainer


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


def _optimizer(
    optimizer: Optimizer | str | None, params: list[Value], lr: float | None, momentum: float | None
) -> Optimizer:
    """The optimizer ``fit`` steps: built by name on ``params``, or the one given, checked."""
    if isinstance(optimizer, Optimizer):
        if lr is not None or momentum is not None:
            raise ValueError(
                f"lr= and momentum= configure the optimizer fit builds; {type(optimizer).__name__} was "
                "built with its own: set them there (its .lr may also be changed), or pass optimizer by name"
            )
        held = set(optimizer.params)
        if not any(p in held for p in params):
            raise ValueError(
                "the optimizer holds none of the model's parameters: build it with model.parameters()"
            )
        return optimizer
    name = "sgd" if optimizer is None else optimizer
    if not isinstance(name, str):
        raise TypeError(
            f"optimizer must be a name ({', '.join(map(repr, OPTIMIZERS))}) or an optim.Optimizer such as "
            f"optim.Adam(model.parameters()), got {type(optimizer).__name__} {optimizer!r}"
        )
    try:
        make, default_lr = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}") from None
    rate = default_lr if lr is None else lr
    if make is SGD:
        return SGD(params, lr=rate, momentum=0.0 if momentum is None else momentum)
    if momentum is not None:
        raise ValueError(
            "momentum= is SGD's; Adam keeps its own moments (betas): build "
            "optim.Adam(model.parameters(), betas=...) to change them"
        )
    return make(params, lr=rate)


def _checked_model(model: object) -> int | None:
    """The model's ``n_inputs`` (None if it does not say), once it is known to be a model at all."""
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise TypeError(
            f"model must be callable on a sample and have .parameters(), got {type(model).__name__}"
        )
    return getattr(model, "n_inputs", None)


def _check_rate(rate: object, step: int) -> float:
    return finite_number(rate, f"the learning rate lr_schedule({step})", low=0.0, low_open=True)
