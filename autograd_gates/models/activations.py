"""Activation functions: each one that is a single function is one gate of the op table.

Every function here takes a ``Value`` (or a plain number, which becomes a constant
leaf) and returns a ``Value``. ``sigmoid``, ``tanh``, ``arctan``, ``relu``, ``binary_step``,
``leaky_relu`` (and ``prelu``), ``elu`` and ``softplus`` are gates of the table, each with
its own rule in the slides' notation (``GATES["sigmoid"].rule``) and, for the composite ones,
its composition from other gates (``explain(y, expand=True)`` shows it); ``softmax``,
``log_softmax`` and ``logsumexp`` take a list and are built from gates.

Two design rules, and why:

* **Stable.** No forward overflows where the function is finite: ``sigmoid(1000)``,
  ``softplus(-1000)`` and ``softmax([1000, 0])`` are finite, with finite gradients.
* **One convention at the kink x = 0.** ``relu`` follows the slides: ``relu'(0) = 0``,
  its left derivative. The other piecewise functions (``leaky_relu``, ``prelu``,
  ``elu``) also take their *left* derivative (the ``x <= 0`` branch) at 0;
  ``leaky_relu(x, 0)`` is exactly ``relu``.

``get_activation(name)`` finds any of them by name, for ``nn.MLP(..., activation="elu")``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from functools import reduce

from ..engine.value import Value, as_value, maximum

__all__ = [
    "identity",
    "binary_step",
    "sigmoid",
    "tanh",
    "arctan",
    "relu",
    "leaky_relu",
    "prelu",
    "PReLU",
    "elu",
    "softplus",
    "softmax",
    "log_softmax",
    "logsumexp",
    "ACTIVATIONS",
    "get_activation",
]

Number = float | int


def _slope(alpha: Value | Number, name: str) -> Value | float:
    """A slope parameter: a Value as it is, a finite number as a float, anything else an error."""
    if alpha.__class__ is Value:
        return alpha
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name}: alpha must be a number or a Value, got {type(alpha).__name__} {alpha!r}")
    if not math.isfinite(alpha):
        raise ValueError(f"{name}: alpha must be finite, got {alpha!r}")
    return float(alpha)


def identity(x: Value | Number) -> Value:
    """The linear activation (Adaline's output): ``f(x) = x``, ``f'(x) = 1``.

    Returns ``x`` itself when it is a Value (no gate is added), else a constant leaf.
    """
    return as_value(x, "identity")


def binary_step(x: Value | Number) -> Value:
    """The perceptron's activation: ``f(x) = 1`` for ``x >= 0``, ``0`` for ``x < 0``.

    ``f'(x) = 0`` for ``x != 0``; at 0 the step jumps and has no derivative (the slides'
    table writes "?"). Backward gives **0 everywhere, 0 included**: the binary_step gate's
    rule is ``da = 0 * dx``, so the output stays connected to ``x`` in the circuit (a drawing
    shows the dependence) while no gradient flows through it.
    This is why the perceptron is trained with its own rule, not with gradients.
    """
    return as_value(x, "binary_step").binary_step()


def sigmoid(x: Value | Number) -> Value:
    """The logistic function ``f(x) = 1 / (1 + exp(-x))``; ``f'(x) = f(x) * (1 - f(x))``.

    The sigmoid gate, with the slides' rule ``da = x * (1 - x) * dx``; its forward never
    exponentiates a positive number, so ``sigmoid(±1000)`` is finite (1.0 and 0.0, gradients 0.0).
    """
    return as_value(x, "sigmoid").sigmoid()


def tanh(x: Value | Number) -> Value:
    """``f(x) = (e^x - e^-x) / (e^x + e^-x) = 2 * sigmoid(2x) - 1``; ``f'(x) = 1 - f(x)^2``.

    The tanh gate (``math.tanh`` forward, rule ``da = (1 - x * x) * dx``): finite at ±1e308.
    """
    return as_value(x, "tanh").tanh()


def arctan(x: Value | Number) -> Value:
    """``f(x) = arctan(x)`` (in radians, range ``(-pi/2, pi/2)``); ``f'(x) = 1 / (1 + x^2)``.

    arctan cannot be composed from the other gates, so it is a gate of its own in the
    table (``GATES["arctan"]``: ``x = arctan(a)  ->  da = 1 / (1 + a * a) * dx``).
    """
    return as_value(x, "arctan").arctan()


def relu(x: Value | Number) -> Value:
    """The rectified linear unit ``f(x) = max(0, x)``; ``f'(x) = 1`` for ``x > 0``, else ``0``.

    The relu gate, with the slides' rule ``da = a > 0 ? dx : 0``: so ``relu'(0) = 0``.
    """
    return as_value(x, "relu").relu()


def leaky_relu(x: Value | Number, alpha: Value | Number = 0.01) -> Value:
    """``f(x) = x`` for ``x > 0``, ``alpha * x`` for ``x <= 0``.

    ``f'(x) = 1`` for ``x > 0`` and ``alpha`` for ``x <= 0`` -- at the kink 0 the slides'
    ``x <= 0`` branch, the same convention as ``relu'(0) = 0``. The leaky_relu gate, whose
    second operand is ``alpha``; its composition ``relu(x) + alpha * (x - relu(x))``
    (``expand=True``) is exact on both sides, right for ``alpha > 1`` too (a learned PReLU
    slope may get there), and ``leaky_relu(x, 0) == relu(x)`` with the same gradient.
    ``alpha`` may be a Value: then ``df/dalpha = min(x, 0)``.

    (A ``max(x, alpha * x)`` form would split the tie at 0 and give ``(1 + alpha) / 2``
    there; central differences also give that average, so a gradient check at exactly
    0 is a kink and is reported as such.)
    """
    return as_value(x, "leaky_relu").leaky_relu(_slope(alpha, "leaky_relu"))


def prelu(x: Value | Number, alpha: Value) -> Value:
    """Parametric ReLU: ``leaky_relu`` with a learnable slope ``alpha`` (a Value).

    ``f(x) = x`` for ``x > 0``, ``alpha * x`` for ``x <= 0``; ``df/dx = 1`` or ``alpha``,
    ``df/dalpha = 0`` for ``x > 0`` and ``x`` for ``x <= 0``. See ``PReLU`` for a module
    that owns its slope.
    """
    return leaky_relu(x, alpha)


class PReLU:
    """A PReLU with its own learnable slope: ``act = PReLU(0.25); y = act(x)``.

    ``.alpha`` is a Value leaf (initialised to 0.25, as in He et al. 2015), listed by
    ``.parameters()`` so an optimizer trains it with the weights.
    """

    def __init__(self, alpha: Number = 0.25) -> None:
        self.alpha = Value(alpha, label="alpha")

    def __call__(self, x: Value | Number) -> Value:
        return prelu(x, self.alpha)

    def parameters(self) -> list[Value]:
        return [self.alpha]

    def __repr__(self) -> str:
        return f"PReLU(alpha={self.alpha.data!r})"


def elu(x: Value | Number, alpha: Value | Number = 1.0) -> Value:
    """Exponential linear unit: ``f(x) = x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` for ``x <= 0``.

    ``f'(x) = 1`` for ``x > 0`` and ``alpha * exp(x) = f(x) + alpha`` for ``x <= 0``
    (the slides' table). The elu gate: its forward uses ``expm1`` only for ``x <= 0``, so it
    cannot overflow at +1000 and is accurate near 0; its composition (``expand=True``) is
    ``relu(x) + alpha * (exp(x - relu(x)) - 1)``. At the kink 0 it takes the left derivative
    ``alpha`` (for ``alpha = 1`` both sides agree and that is the derivative).
    """
    return as_value(x, "elu").elu(_slope(alpha, "elu"))


def softplus(x: Value | Number) -> Value:
    """``f(x) = log(1 + exp(x))``; ``f'(x) = 1 / (1 + exp(-x)) = sigmoid(x)``.

    The softplus gate, rule ``da = sigmoid(a) * dx``; its forward is
    ``max(x, 0) + log1p(exp(-|x|))``: the exponent is never positive, so
    ``softplus(1000) = 1000`` and ``softplus(-1000) = exp(-1000)`` (0 in floats) without
    overflow, and ``softplus(-40)`` keeps its digits. Its composition (``expand=True``) is
    ``max(x, 0) + log(1 + exp(-abs(x)))``.
    """
    return as_value(x, "softplus").softplus()


def _values(xs: Sequence[Value | Number], name: str) -> list[Value]:
    if isinstance(xs, (Value, str, bytes)) or not isinstance(xs, Sequence):
        raise TypeError(f"{name} takes a sequence of Values or numbers, got {type(xs).__name__}")
    if len(xs) == 0:
        raise ValueError(f"{name} needs at least one input, got an empty sequence")
    return [as_value(x, name) for x in xs]


def _shifted_exps(values: list[Value]) -> tuple[Value, list[Value], Value]:
    """What logsumexp and softmax share: ``m = max(values)`` (a fold of max gates), the terms
    ``exp(v - m)``, and their sum, which lies in ``[1, n]`` (see ``logsumexp``)."""
    m = reduce(maximum, values)
    exps = [(v - m).exp() for v in values]
    return m, exps, sum(exps[1:], exps[0])


def logsumexp(xs: Sequence[Value | Number]) -> Value:
    """``log(sum_j exp(x_j))``, computed as ``m + log(sum_j exp(x_j - m))`` with ``m = max_j x_j``.

    Every exponent is ``<= 0`` and one is exactly 0, so the sum lies in ``[1, n]``: no
    overflow, no ``log(0)``. ``d/dx_i = softmax(x)_i``. ``m`` is a fold of max gates; the
    gradient through it cancels (the result does not depend on ``m``).
    """
    m, _, total = _shifted_exps(_values(xs, "logsumexp"))
    return m + total.log()


def softmax(xs: Sequence[Value | Number]) -> list[Value]:
    """``S_i = exp(x_i) / sum_j exp(x_j)`` over a list; returns a list of Values summing to 1.

    Derivative (a Jacobian, not one number): ``dS_i/dx_j = S_i * (delta_ij - S_j)``, so
    ``dS_i/dx_i = S_i * (1 - S_i)`` and ``dS_i/dx_j = -S_i * S_j`` for ``j != i``.
    Stable: computed as ``exp(x_i - m) / sum_j exp(x_j - m)`` with ``m = max_j x_j``
    (a fold of max gates), so ``softmax([1000, 0, -1000])`` is ``[1, exp(-1000), 0]``,
    finite. Example from the slides: ``softmax([0.1, 1.3, 2.5]) = [0.0652, 0.2164, 0.7184]``.
    """
    _, exps, total = _shifted_exps(_values(xs, "softmax"))
    return [e / total for e in exps]


def log_softmax(xs: Sequence[Value | Number]) -> list[Value]:
    """``log S_i = x_i - logsumexp(x)``, stable for any inputs; ``d/dx_j = delta_ij - S_j``."""
    values = _values(xs, "log_softmax")
    lse = logsumexp(values)
    return [v - lse for v in values]


Activation = Callable[[Value], Value]

#: Element-wise activations by name (``softmax`` works on lists and is not here).
ACTIVATIONS: dict[str, Activation] = {
    "identity": identity,
    "linear": identity,
    "binary_step": binary_step,
    "step": binary_step,
    "sigmoid": sigmoid,
    "logistic": sigmoid,
    "tanh": tanh,
    "arctan": arctan,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "softplus": softplus,
}


def get_activation(activation: str | Callable[[Value], Value] | None) -> Callable[[Value], Value]:
    """An activation function from its name (see ``ACTIVATIONS``), a callable, or ``None`` (identity).

    ``"prelu"`` is not a plain function -- it owns a parameter -- so it returns a new
    ``PReLU()`` each call (``nn.Neuron`` gives each neuron its own).
    """
    if activation is None:
        return identity
    if isinstance(activation, str):
        key = activation.strip().lower().replace("-", "_").replace(" ", "_")
        if key == "prelu":
            return PReLU()
        try:
            return ACTIVATIONS[key]
        except KeyError:
            known = ", ".join(sorted({*ACTIVATIONS, "prelu"}))
            raise ValueError(f"unknown activation {activation!r}; known: {known}") from None
    if callable(activation):
        return activation
    raise TypeError(
        f"activation must be a name, a callable or None, got {type(activation).__name__} {activation!r}"
    )
