"""The slides' classic single-neuron models, each with its own training rule.

* ``Perceptron``: the perceptron rule ``w += lr * (y - y_hat) * x`` on a binary step,
  one sample at a time, no gradient.
* ``Adaline``: a linear output trained by gradient descent on ``J = 1/2 * SSE``, with
  the gradients from ``backward()``; online (per sample) or batch.
* ``SigmoidNeuron``: logistic regression, trained with cross-entropy by ``training.fit``.

Each is one ``nn.Neuron`` computing ``w . x + b``. They take data as numpy arrays or lists,
validate *all* their arguments before they change a weight (an error names the bad argument),
and are reproducible from ``seed``. Training is safe to stop: an update whose new weights would
not all be finite is not applied (the fit stops with a ``DivergenceWarning`` naming the
parameter), and a fit that ends by an exception, Ctrl-C included, puts the weights back as
they were before it.

This module sits above both ``nn`` (the neuron) and ``training`` (the loop SigmoidNeuron uses),
so neither of those imports the other.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from ..engine.arguments import count, finite_number
from ..engine.value import Value, as_value
from .activations import binary_step
from .data import ConvergenceWarning, DivergenceWarning, as_inputs, as_labels
from .losses import sum_of_squares
from .nn import Module, Neuron, _sample
from .optim import SGD
from .training import History, fit

__all__ = ["Perceptron", "Adaline", "SigmoidNeuron"]


def _initial(n_inputs: int, seed: int | None, init_scale: float) -> tuple[np.ndarray, float]:
    """Small random starting weights and bias, ``N(0, init_scale^2)`` each (0 for ``init_scale=0``)."""
    scale = finite_number(init_scale, "init_scale", low=0.0)
    draws = scale * np.random.default_rng(seed).standard_normal(n_inputs + 1)
    return draws[:-1], float(draws[-1])


@contextmanager
def _undone_unless_finished(params: list[Value]) -> Iterator[None]:
    """Put ``params`` (values and gradients) back as they were if the block ends by any exception."""
    snapshot = [(p, p.data, p.grad) for p in params]
    finished = False
    try:
        yield
        finished = True
    finally:
        if not finished:  # an error, Ctrl-C (KeyboardInterrupt) or SystemExit: undo, let it go on
            for p, data, grad in snapshot:
                p.data, p.grad = data, grad


class _Linear(Module):
    """Shared by the classic models: one neuron computing the net input ``w . x + b``.

    Each model applies its own output function to that net input (a step, nothing, a sigmoid).
    """

    def __init__(self, n_inputs: int, lr: float, seed: int | None, init_scale: float) -> None:
        self.n_inputs = count(n_inputs, "n_inputs")
        self.lr = finite_number(lr, "lr", low=0.0, low_open=True)
        weights, bias = _initial(self.n_inputs, seed, init_scale)
        self.neuron = Neuron(self.n_inputs, "identity", weights=weights, bias=bias)

    @property
    def weights(self) -> np.ndarray:
        return np.array([w.data for w in self.neuron.w])

    @property
    def bias(self) -> float:
        return self.neuron.b.data

    def parameters(self) -> list[Value]:
        return self.neuron.parameters()

    def __call__(self, x: Sequence[float | Value]) -> Value:
        return self._net_input(x)

    def _net_input(self, x: Sequence[float | Value]) -> Value:
        """``w . x + b`` for one sample, checked; an error names the model ("Perceptron takes 2 inputs")."""
        return self.neuron.forward(_sample(x, self.n_inputs, type(self).__name__))

    def _net_inputs(self, X: object) -> np.ndarray:
        """``w . x + b`` for each row of ``X`` (checked)."""
        X = as_inputs(X, self.n_inputs)
        return np.array([self.neuron.forward(row).data for row in X.tolist()])


class Perceptron(_Linear):
    """Rosenblatt's perceptron: ``y_hat = step(w . x + b)``, with ``step(s) = 1`` for ``s >= 0`` else 0.

    ``fit`` applies the perceptron rule one sample at a time, in the order given::

        w += lr * (y - y_hat) * x        b += lr * (y - y_hat)

    so nothing changes when a sample is right. No gradient is used: the step has
    derivative 0. Labels are 0 and 1. Starting weights and bias are ``N(0, init_scale^2)``
    from ``seed`` (``init_scale=0`` starts at zero, where ``lr`` only scales the weights
    and cannot change a single prediction).
    """

    def __init__(
        self, n_inputs: int, lr: float = 0.1, seed: int | None = None, init_scale: float = 0.01
    ) -> None:
        super().__init__(n_inputs, lr, seed, init_scale)
        self.errors_: list[int] = []
        self.diverged_ = False

    @property
    def converged_(self) -> bool | None:
        """Whether the last ``fit`` ended on an epoch without errors (None before any ``fit``)."""
        return self.errors_[-1] == 0 and not self.diverged_ if self.errors_ else None

    def __call__(self, x: Sequence[float | Value]) -> Value:
        """``step(w . x + b)`` as a Value (its gradient is 0: see ``activations.binary_step``)."""
        return binary_step(self._net_input(x))

    def net_input(self, x: Sequence[float | Value]) -> Value:
        """``w . x + b``, before the step."""
        return self._net_input(x)

    def predict(self, X: object) -> np.ndarray:
        """Class labels: 1.0 where the net input is >= 0 (the step), else 0.0."""
        return (self._net_inputs(X) >= 0).astype(float)

    def fit(self, X: object, y: object, epochs: int = 50) -> list[int]:
        """Train online for at most ``epochs`` passes; return the number of errors in each epoch.

        Stops after the first epoch without errors (``converged_ = True``). If none comes,
        ``converged_`` is False and a ``ConvergenceWarning`` says so -- on data that is not
        linearly separable (XOR) this always happens. Continues from the current weights.

        An update whose new weights are not all finite (an ``lr`` far too large) is not
        applied: training stops there, ``diverged_`` is True and a ``DivergenceWarning`` names
        the weight. If ``fit`` ends by an exception (Ctrl-C included), the weights are put
        back as they were before it.
        """
        X = as_inputs(X, self.n_inputs)
        y = as_labels(y, X.shape[0], allowed=(0.0, 1.0))
        epochs = count(epochs, "epochs")
        rows, targets = X.tolist(), y.tolist()
        params, lr = self.parameters(), self.lr
        history: list[int] = []
        detail = ""
        with _undone_unless_finished(params):
            for _ in range(epochs):
                errors = 0
                for row, target in zip(rows, targets):
                    try:
                        y_hat = binary_step(self.neuron.forward(row)).data
                    except OverflowError as exc:  # finite weights whose products overflow
                        detail = str(exc)
                        break
                    update = lr * (target - y_hat)
                    if update == 0.0:
                        continue
                    errors += 1
                    new = [w.data + update * xi for w, xi in zip(self.neuron.w, row)]
                    new.append(self.neuron.b.data + update)
                    detail = _refused(params, new, f"lr * (y - y_hat) = {update!r}")
                    if detail:
                        break
                    for p, value in zip(params, new):
                        p.data = value
                history.append(errors)
                if errors == 0 or detail:
                    break
        self.errors_ = history
        self.diverged_ = bool(detail)
        if detail:
            warnings.warn(
                f"the perceptron diverged in epoch {len(history)}: {detail}; stopped before that update "
                "(the weights are those of the last finite one). Use a smaller lr.",
                DivergenceWarning,
                stacklevel=2,
            )
        elif not self.converged_:
            warnings.warn(
                f"the perceptron did not converge in {epochs} epochs ({history[-1]} errors in the last); "
                "the data may not be linearly separable",
                ConvergenceWarning,
                stacklevel=2,
            )
        return history

    def __repr__(self) -> str:
        return f"Perceptron({self.n_inputs}, lr={self.lr!r})"


class Adaline(_Linear):
    """ADAptive LInear NEuron: ``y_hat = w . x + b`` (identity activation), trained by gradient descent.

    The cost is ``J = 1/2 * sum_i (y_i - y_hat_i)^2`` (``losses.sum_of_squares``), and its
    gradients come from ``backward()``; they equal the closed form
    ``dJ/dw = -sum_i (y_i - y_hat_i) * x_i``, ``dJ/db = -sum_i (y_i - y_hat_i)``, so a
    step ``w -= lr * dJ/dw`` is ``w += lr * sum_i (y_i - y_hat_i) * x_i``.

    ``mode="batch"`` takes one step per epoch on the cost of all samples;
    ``mode="online"`` one step per sample, in the order given. Targets may be any finite
    numbers (regression); for 0/1 classification threshold ``predict`` at 0.5.
    """

    def __init__(
        self,
        n_inputs: int,
        lr: float = 0.01,
        seed: int | None = None,
        mode: str = "batch",
        init_scale: float = 0.01,
    ) -> None:
        if not isinstance(mode, str):
            raise TypeError(f"mode must be 'batch' or 'online', got {type(mode).__name__} {mode!r}")
        if mode not in ("batch", "online"):
            raise ValueError(f"mode must be 'batch' or 'online', got {mode!r}")
        super().__init__(n_inputs, lr, seed, init_scale)
        self.mode = mode
        self.cost_: list[float] = []

    @property
    def diverged_(self) -> bool:
        """Whether the last ``fit`` stopped on an overflowing cost or step (its history ends with inf)."""
        return bool(self.cost_) and not math.isfinite(self.cost_[-1])

    def predict(self, X: object) -> np.ndarray:
        """The linear outputs ``w . x + b`` for the rows of ``X``."""
        return self._net_inputs(X)

    def cost(self, X: object, y: object) -> Value:
        """``J = 1/2 * sum (y - y_hat)^2`` over the samples, as a Value you can ``backward()``."""
        X = as_inputs(X, self.n_inputs)
        y = as_labels(y, X.shape[0])
        return self._cost(X.tolist(), y.tolist())

    def _cost(self, rows: list[list[float]], targets: list[float]) -> Value:
        return sum_of_squares(targets, [self.neuron.forward(row) for row in rows])

    def gradients(self, X: object, y: object) -> tuple[np.ndarray, float]:
        """``(dJ/dw, dJ/db)`` at the current weights, from ``backward()`` (the weights' grads are reset)."""
        J = self.cost(X, y)
        self.zero_grad()
        J.backward()
        grads = np.array([w.grad for w in self.neuron.w]), self.neuron.b.grad
        self.zero_grad()
        return grads

    def fit(self, X: object, y: object, epochs: int = 50) -> list[float]:
        """Train for ``epochs``; return ``J`` on all samples after each epoch.

        If the cost overflows or a step would make a weight infinite (a learning rate too
        large makes the weights grow without bound), training stops before applying that
        step, the history ends with ``inf``, ``diverged_`` is True and a
        ``DivergenceWarning`` names what overflowed. Continues from the current weights.
        If ``fit`` ends by an exception (Ctrl-C included), the weights are put back as they
        were before it.
        """
        X = as_inputs(X, self.n_inputs)
        y = as_labels(y, X.shape[0])
        epochs = count(epochs, "epochs")
        rows, targets = X.tolist(), y.tolist()
        params = self.parameters()
        optimizer = SGD(params, lr=self.lr)
        batches = [(rows, targets)] if self.mode == "batch" else [([r], [t]) for r, t in zip(rows, targets)]
        history: list[float] = []
        detail = ""
        with _undone_unless_finished(params):
            for _ in range(epochs):
                # Stops at the first step refused; the steps before it in the epoch stay applied.
                for rows_b, targets_b in batches:
                    detail = self._step(optimizer, rows_b, targets_b)
                    if detail:
                        break
                J = math.inf if detail else self._safe_cost(rows, targets)
                history.append(J)
                if not math.isfinite(J):
                    detail = detail or f"the cost is {J!r}"
                    break
        self.cost_ = history
        if self.diverged_:
            warnings.warn(
                f"Adaline diverged after {len(history)} epochs with lr={self.lr}: {detail}; "
                "stopped before the step that overflowed. Use a smaller lr.",
                DivergenceWarning,
                stacklevel=2,
            )
        return history

    def _safe_cost(self, rows: list[list[float]], targets: list[float]) -> float:
        try:
            J = self._cost(rows, targets).data
        except OverflowError:
            return math.inf
        return J

    def _step(self, optimizer: SGD, rows: list[list[float]], targets: list[float]) -> str:
        """One gradient step, or, changing nothing, what would not be finite (the cost or a new weight)."""
        try:
            J = self._cost(rows, targets)
        except OverflowError as exc:
            return f"the cost overflowed ({exc})"
        if not math.isfinite(J.data):  # a sum of squares that overflowed without a gate refusing
            return f"the cost is {J.data!r}"
        optimizer.zero_grad()
        J.backward()
        try:
            optimizer.step()
        except FloatingPointError as exc:
            return str(exc)
        finally:
            optimizer.zero_grad()
        return ""

    def __repr__(self) -> str:
        return f"Adaline({self.n_inputs}, lr={self.lr!r}, mode={self.mode!r})"


class SigmoidNeuron(_Linear):
    """Logistic regression: ``p = sigmoid(w . x + b)``, trained on the cross-entropy.

    ``fit`` minimises ``L = -1/N * sum [t log p + (1 - t) log(1 - p)]``, computed stably
    from the logit ``w . x + b`` (``losses.binary_cross_entropy_with_logits``), by full-batch
    gradient descent (or mini-batches) with ``optim.SGD``. Labels are 0 and 1.
    Calling the model on a sample returns the probability ``p`` as a Value.
    """

    def __init__(
        self, n_inputs: int, lr: float = 0.5, seed: int | None = None, init_scale: float = 0.01
    ) -> None:
        super().__init__(n_inputs, lr, seed, init_scale)
        self.history_: History | None = None

    def __call__(self, x: Sequence[float | Value]) -> Value:
        return self._net_input(x).sigmoid()

    def logit(self, x: Sequence[float | Value]) -> Value:
        """``w . x + b``, the log-odds of class 1."""
        return self._net_input(x)

    def predict_proba(self, X: object) -> np.ndarray:
        """``P(y = 1 | x)`` for the rows of ``X``."""
        return np.array([as_value(z).sigmoid().data for z in self._net_inputs(X)])

    def predict(self, X: object) -> np.ndarray:
        """Class labels: 1.0 where the probability is at least 1/2 (the logit >= 0), else 0.0."""
        return (self._net_inputs(X) >= 0).astype(float)

    def fit(
        self,
        X: object,
        y: object,
        epochs: int = 100,
        batch_size: int | None = None,
        target_accuracy: float | None = None,
        seed: int = 0,
        progress: bool | None = None,
        engine: str = "auto",
    ) -> History:
        """Train with ``training.fit`` (loss ``"bce_logits"``, ``SGD(lr=self.lr)``); returns its History.

        ``seed`` shuffles the samples when ``batch_size`` is given (the starting weights came
        from the constructor's ``seed``). Continues from the current weights. Stopping is as
        safe as ``training.fit``'s: a step that would make a weight infinite is not applied
        (``DivergenceWarning``), and an exception or Ctrl-C puts the weights back. ``engine``:
        ``"tape"``, ``"scalar"`` or ``"auto"`` (the tape), as in ``training.fit``.
        """
        self.history_ = fit(
            self.neuron,
            X,
            y,
            loss="bce_logits",
            lr=self.lr,
            epochs=epochs,
            batch_size=batch_size,
            target_accuracy=target_accuracy,
            seed=seed,
            progress=progress,
            engine=engine,
        )
        return self.history_

    def __repr__(self) -> str:
        return f"SigmoidNeuron({self.n_inputs}, lr={self.lr!r})"


def _refused(params: list[Value], new: list[float], step: str) -> str:
    """What is wrong with the new values (the first that is not finite, named), or ``""``."""
    for p, value in zip(params, new):
        if not math.isfinite(value):
            return f"parameter {p.label!r} would go from {p.data!r} to {value!r} ({step})"
    return ""
