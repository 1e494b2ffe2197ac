"""Optimizers: they move parameters (Value leaves) against their gradients."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..engine.arguments import finite_number
from ..engine.value import Value

__all__ = ["SGD"]


class SGD:
    """Stochastic gradient descent, optionally with momentum.

    ``step()`` does, for every parameter ``p`` with gradient ``g = p.grad``::

        v = momentum * v + g        # v starts at 0; with momentum 0 this is just g
        p.data -= lr * v

    (PyTorch's form of momentum.) ``zero_grad()`` sets every parameter's gradient to 0;
    call it before each ``backward()``, because leaves accumulate gradients.
    ``lr`` is a plain attribute, so a schedule may change it between steps.

    A step refuses non-finite gradients (``FloatingPointError`` naming the parameter)
    and then changes nothing, so a diverging run never writes inf or NaN into the weights.
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("params is empty: SGD needs at least one parameter to optimise")
        first_index: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if p.__class__ is not Value:
                raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__} {p!r}")
            j = first_index.setdefault(id(p), i)
            if j != i:  # it would be stepped twice per step
                raise ValueError(f"params[{i}] is the same Value as params[{j}]; list each parameter once")
            if p.gate is not None:
                raise ValueError(
                    f"params[{i}] is the output of a {p.gate.name} gate; parameters must be leaves"
                )
        self.lr = finite_number(lr, "lr", low=0.0, low_open=True)
        self.momentum = finite_number(momentum, "momentum", low=0.0, high=1.0)
        self._velocity = [0.0] * len(self.params)

    def step(self) -> None:
        """Move every parameter by ``-lr * v`` (see the class docstring)."""
        lr = finite_number(self.lr, "lr", low=0.0, low_open=True)  # a schedule may have set it
        for i, p in enumerate(self.params):
            if not math.isfinite(p.grad):
                name = f" (label {p.label!r})" if p.label else ""
                raise FloatingPointError(
                    f"params[{i}]{name} has gradient {p.grad!r}; no parameter was changed"
                )
        momentum = self.momentum
        velocity = self._velocity
        for i, p in enumerate(self.params):
            v = momentum * velocity[i] + p.grad if momentum else p.grad
            velocity[i] = v
            p.data -= lr * v

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0."""
        for p in self.params:
            p.grad = 0.0

    def __repr__(self) -> str:
        return f"SGD({len(self.params)} parameters, lr={self.lr!r}, momentum={self.momentum!r})"

