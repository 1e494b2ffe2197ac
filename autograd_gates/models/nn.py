"""The slides' models, built from the gates: Perceptron, Adaline, SigmoidNeuron, and an MLP.

* ``Neuron``, ``Layer``, ``MLP``: micrograd's building blocks, with any activation by name
  or function. A ``Layer`` always returns a list, even of one Value, so a one-neuron
  layer can sit inside a network (micrograd's ``Layer`` returned a bare Value there).
  Train them with ``training.fit`` (or your own loop with ``optim.SGD``).
* ``Perceptron``: the perceptron rule ``w += lr * (y - y_hat) * x`` on a binary step,
  one sample at a time, no gradient.
* ``Adaline``: a linear output trained by gradient descent on ``J = 1/2 * SSE``, with
  the gradients from ``backward()``; online (per sample) or batch.
* ``SigmoidNeuron``: logistic regression, trained with cross-entropy.

The three classic models take labels as numpy arrays or lists, validate *all* their
arguments before they change a weight (an error names the bad argument), and are
reproducible from ``seed``.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from ..engine.arguments import count, finite_number
from ..engine.value import Value, as_value
from .activations import binary_step, get_activation
from .losses import sum_of_squares
from .training import ConvergenceWarning, DivergenceWarning, History, as_inputs, as_labels, fit

__all__ = ["Module", "Neuron", "Layer", "MLP", "Perceptron", "Adaline", "SigmoidNeuron"]

ActivationArg = str | Callable[[Value], Value] | None


class Module:
    """Anything with parameters: ``.parameters()`` lists them, ``.zero_grad()`` clears their gradients."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


def _sample(x: object, n_inputs: int, who: str) -> list[Value]:
    """One input sample as a list of Values, checked: a sequence of ``n_inputs`` finite numbers or Values."""
    if x.__class__ is Value or isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise TypeError(
            f"{who} takes a sequence of {n_inputs} numbers or Values, got {type(x).__name__} {x!r}"
        )
    if hasattr(x, "ndim") and x.ndim != 1:
        raise ValueError(
            f"{who} takes one sample (1-D) of {n_inputs} inputs, got an array of shape {x.shape}"
        )
    if len(x) != n_inputs:
        raise ValueError(f"{who} takes {n_inputs} inputs, got {len(x)}")
    out = []
    for i, xi in enumerate(x):
        if xi.__class__ is Value:
            out.append(xi)
            continue
        if isinstance(xi, bool) or not isinstance(xi, numbers.Real):
            raise TypeError(f"{who}: input {i} must be a number or a Value, got {type(xi).__name__} {xi!r}")
        if not math.isfinite(xi):
            raise ValueError(f"{who}: input {i} is {xi!r}; inputs must be finite")
        out.append(as_value(xi))
    return out


def _unique(params: Iterable[Value]) -> list[Value]:
    """Parameters in order, each once (an activation object shared by neurons shares its slope)."""
    return list(dict.fromkeys(params))  # a Value hashes by identity


def _name(activation: Callable[[Value], Value]) -> str:
    return getattr(activation, "__name__", type(activation).__name__)


# -- building blocks ----------------------------------------------------------------------


class Neuron(Module):
    """``y = activation(sum_i w_i * x_i + b)``, built from mul and add gates.

    Weights start uniform in [-1, 1] and the bias at 0 (micrograd's choice), drawn from
    ``seed`` (an int, a ``numpy.random.Generator``, or ``None`` for fresh randomness),
    unless ``weights`` / ``bias`` give them. ``activation`` is a name from
    ``activations.ACTIVATIONS`` (``"relu"``, ``"tanh"``, ``"identity"``...), ``"prelu"``
    (this neuron gets its own learnable slope), or any function of a Value.
    """

    def __init__(
        self,
        n_inputs: int,
        activation: ActivationArg = "relu",
        *,
        seed: int | np.random.Generator | None = None,
        weights: Sequence[float] | None = None,
        bias: float = 0.0,
        name: str = "",
    ) -> None:
        self.n_inputs = count(n_inputs, "n_inputs")
        self.activation = get_activation(activation)
        if weights is None:
            weights = np.random.default_rng(seed).uniform(-1.0, 1.0, self.n_inputs)
        elif not hasattr(weights, "__len__") or len(weights) != self.n_inputs:
            raise ValueError(
                f"weights must be a sequence of n_inputs = {self.n_inputs} numbers, got {weights!r}"
            )
        prefix = f"{name}." if name else ""
        # Value checks each number and names it in an error (Value('w1') must be finite).
        self.w = [Value(v, f"{prefix}w{i}") for i, v in enumerate(weights)]
        self.b = Value(bias, f"{prefix}b")

    def __call__(self, x: Sequence[float | Value]) -> Value:
        return self.forward(_sample(x, self.n_inputs, "Neuron"))

    def forward(self, xs: Sequence[float | Value]) -> Value:
        """The output for inputs already checked (Values or floats; a float becomes a constant leaf)."""
        act = self.b
        for wi, xi in zip(self.w, xs):
            act = act + wi * xi
        return self.activation(act)

    def parameters(self) -> list[Value]:
        extra = getattr(self.activation, "parameters", None)
        return [*self.w, self.b, *(extra() if callable(extra) else ())]

    def __repr__(self) -> str:
        return f"Neuron({self.n_inputs}, activation={_name(self.activation)!r})"


class Layer(Module):
    """``n_outputs`` neurons reading the same inputs. Calling it returns a **list** of Values, always."""

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        activation: ActivationArg = "relu",
        *,
        seed: int | np.random.Generator | None = None,
        name: str = "",
    ) -> None:
        self.n_inputs = count(n_inputs, "n_inputs")
        self.n_outputs = count(n_outputs, "n_outputs")
        rng = np.random.default_rng(seed)
        prefix = f"{name}." if name else ""
        self.neurons = [
            Neuron(self.n_inputs, activation, seed=rng, name=f"{prefix}n{j}") for j in range(self.n_outputs)
        ]

    def __call__(self, x: Sequence[float | Value]) -> list[Value]:
        return self.forward(_sample(x, self.n_inputs, "Layer"))

    def forward(self, xs: list[Value]) -> list[Value]:
        return [n.forward(xs) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return _unique(p for n in self.neurons for p in n.parameters())

    def __repr__(self) -> str:
        return f"Layer({self.n_inputs} -> {self.n_outputs}, activation={_name(self.neurons[0].activation)!r})"


class MLP(Module):
    """A multilayer perceptron: ``MLP(2, [16, 16, 1])`` is 2 inputs, two hidden layers of 16, 1 output.

    Hidden layers use ``activation`` (default ``"relu"``); the last layer uses
    ``output_activation`` (default ``"identity"``: raw scores, as in micrograd, to feed a
    hinge or a from-logits loss). Calling the network on one sample (a sequence of numbers
    or Values) returns a **list** of its outputs, even when there is one.
    Initialisation is reproducible from ``seed``.
    """

    def __init__(
        self,
        n_inputs: int,
        sizes: Sequence[int],
        activation: ActivationArg = "relu",
        output_activation: ActivationArg = "identity",
        *,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.n_inputs = count(n_inputs, "n_inputs")
        if isinstance(sizes, (int, str)) or not isinstance(sizes, Sequence) or len(sizes) == 0:
            raise ValueError(
                f"sizes must be a non-empty list of layer sizes, e.g. [16, 16, 1], got {sizes!r}"
            )
        sizes = [count(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
        # Checked here as well as in each neuron: with one layer, `activation` is never used,
        # and a misspelt name would otherwise pass in silence.
        for name in (activation, output_activation):
            get_activation(name)
        rng = np.random.default_rng(seed)
        widths = [self.n_inputs, *sizes]
        last = len(sizes) - 1
        self.layers = [
            Layer(
                widths[i],
                widths[i + 1],
                output_activation if i == last else activation,
                seed=rng,
                name=f"L{i + 1}",
            )
            for i in range(len(sizes))
        ]

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_outputs

    def __call__(self, x: Sequence[float | Value]) -> list[Value]:
        xs = _sample(x, self.n_inputs, "MLP")
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def parameters(self) -> list[Value]:
        return _unique(p for layer in self.layers for p in layer.parameters())

    def __repr__(self) -> str:
        return "MLP(" + ", ".join(repr(layer) for layer in self.layers) + ")"


# -- the slides' classic single-neuron models ---------------------------------------------


def _initial(n_inputs: int, seed: int | None, init_scale: float) -> tuple[np.ndarray, float]:
    """Small random starting weights and bias, ``N(0, init_scale^2)`` each (0 for ``init_scale=0``)."""
    scale = finite_number(init_scale, "init_scale", low=0.0)
    draws = scale * np.random.default_rng(seed).standard_normal(n_inputs + 1)
    return draws[:-1], float(draws[-1])


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

    @property
    def converged_(self) -> bool | None:
        """Whether the last ``fit`` ended on an epoch without errors (None before any ``fit``)."""
        return self.errors_[-1] == 0 if self.errors_ else None

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
        """
        X = as_inputs(X, self.n_inputs)
        y = as_labels(y, X.shape[0], allowed=(0.0, 1.0))
        epochs = count(epochs, "epochs")
        rows, targets = X.tolist(), y.tolist()
        w, b, lr = self.neuron.w, self.neuron.b, self.lr
        history: list[int] = []
        for _ in range(epochs):
            errors = 0
            for row, target in zip(rows, targets):
                y_hat = binary_step(self.neuron.forward(row)).data
                update = lr * (target - y_hat)
                if update != 0.0:
                    errors += 1
                    for wi, xi in zip(w, row):
                        wi.data += update * xi
                    b.data += update
            history.append(errors)
            if errors == 0:
                break
        self.errors_ = history
        if not self.converged_:
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
        if mode not in ("batch", "online"):
            raise ValueError(f"mode must be 'batch' or 'online', got {mode!r}")
        super().__init__(n_inputs, lr, seed, init_scale)
        self.mode = mode
        self.cost_: list[float] = []

    @property
    def diverged_(self) -> bool:
        """Whether the last ``fit`` stopped on an overflowing cost (its history then ends with inf)."""
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

        If the cost overflows (a learning rate too large makes the weights grow without
        bound), training stops before applying the step that overflowed, the history ends
        with ``inf``, ``diverged_`` is True and a ``DivergenceWarning`` is raised.
        Continues from the current weights.
        """
        X = as_inputs(X, self.n_inputs)
        y = as_labels(y, X.shape[0])
        epochs = count(epochs, "epochs")
        rows, targets = X.tolist(), y.tolist()
        params = self.parameters()
        batches = [(rows, targets)] if self.mode == "batch" else [([r], [t]) for r, t in zip(rows, targets)]
        history: list[float] = []
        for _ in range(epochs):
            # all() stops at the first step refused; the steps before it in the epoch stay applied.
            stepped = all(self._step(params, rows_b, targets_b) for rows_b, targets_b in batches)
            J = self._safe_cost(rows, targets) if stepped else math.inf
            history.append(J)
            if not math.isfinite(J):
                break
        self.cost_ = history
        if self.diverged_:
            warnings.warn(
                f"Adaline diverged after {len(history)} epochs with lr={self.lr}: the cost overflowed; "
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

    def _step(self, params: list[Value], rows: list[list[float]], targets: list[float]) -> bool:
        """One gradient step; False, changing nothing, if the cost or the new weights would not be finite."""
        try:
            J = self._cost(rows, targets)
        except OverflowError:
            return False
        if not math.isfinite(J.data):  # a sum of squares that overflowed without a gate refusing
            return False
        for p in params:
            p.grad = 0.0
        J.backward()
        new = [p.data - self.lr * p.grad for p in params]
        if not all(math.isfinite(v) for v in new):
            return False
        for p, v in zip(params, new):
            p.data = v
            p.grad = 0.0
        return True

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
    ) -> History:
        """Train with ``training.fit`` (loss ``"bce_logits"``, ``SGD(lr=self.lr)``); returns its History.

        ``seed`` shuffles the samples when ``batch_size`` is given (the starting weights came
        from the constructor's ``seed``). Continues from the current weights.
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
        )
        return self.history_

    def __repr__(self) -> str:
        return f"SigmoidNeuron({self.n_inputs}, lr={self.lr!r})"
