"""Optimizers: they move parameters (Value leaves) against their gradients.

``SGD`` (with optional momentum) and ``Adam`` share one rule: a step is **all or nothing**. Every
new value is computed first; if a gradient, a new value or the optimizer's own state would not be
a finite number, ``step()`` raises ``FloatingPointError`` naming the parameter (its index, label
and numbers) and changes nothing at all, so a diverging run never writes inf or NaN into the
weights, and the optimizer's state stays that of the last step taken.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..engine.arguments import finite_number
from ..engine.value import Value

__all__ = ["Optimizer", "SGD", "Adam"]

_isfinite = math.isfinite


class Optimizer:
    """What every optimizer shares: checked parameters, ``lr``, ``zero_grad()``, an all-or-nothing ``step()``.

    A subclass writes ``_propose(lr, grads)``, returning the new value of every parameter and its
    new state without changing anything; ``step()`` checks the proposal and only then applies it.
    ``state_dict()`` / ``load_state_dict()`` copy the state out and back (``training.fit`` uses
    them to undo an interrupted run).
    """

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = _checked_parameters(params, type(self).__name__)
        self.lr = finite_number(lr, "lr", low=0.0, low_open=True)
        self.steps = 0

    def step(self) -> None:
        """Apply one update to every parameter, or raise ``FloatingPointError`` and change nothing."""
        lr = finite_number(self.lr, "lr", low=0.0, low_open=True)  # a schedule may have set it
        params = self.params
        grads = [p.grad for p in params]
        for i, g in enumerate(grads):
            if not _isfinite(g):
                raise FloatingPointError(
                    f"{_who(params, i)} has gradient {g!r}; {type(self).__name__} changed no parameter"
                )
        values, state = self._propose(lr, grads)
        for i, value in enumerate(values):
            if not _isfinite(value):
                p = params[i]
                raise FloatingPointError(
                    f"{type(self).__name__} step refused: {_who(params, i)} would go from {p.data!r} to "
                    f"{value!r} (gradient {grads[i]!r}, lr {lr!r}); no parameter was changed"
                )
        for p, value in zip(params, values):
            p.data = value
        self._commit(state)
        self.steps += 1

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0."""
        for p in self.params:
            p.grad = 0.0

    def state_dict(self) -> dict[str, Any]:
        """A copy of all ``step()`` changes besides the parameters, and ``lr`` (a schedule changes it)."""
        return {"lr": self.lr, "steps": self.steps, **{k: list(v) for k, v in self._buffers().items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back a state taken with ``state_dict()`` from this optimizer."""
        buffers = self._buffers()
        for key, values in buffers.items():
            if len(state[key]) != len(values):
                raise ValueError(
                    f"state[{key!r}] has {len(state[key])} entries but this optimizer has "
                    f"{len(values)} parameters"
                )
        self.lr = state["lr"]
        self.steps = state["steps"]
        for key, values in buffers.items():
            values[:] = state[key]

    # -- what a subclass writes ------------------------------------------------------------

    def _propose(self, lr: float, grads: list[float]) -> tuple[list[float], Any]:
        raise NotImplementedError

    def _commit(self, state: Any) -> None:
        raise NotImplementedError

    def _buffers(self) -> dict[str, list[float]]:
        return {}


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum.

    ``step()`` does, for every parameter ``p`` with gradient ``g = p.grad``::

        v = momentum * v + g        # v starts at 0; with momentum 0 this is just g
        p.data -= lr * v

    (PyTorch's form of momentum.) ``zero_grad()`` sets every parameter's gradient to 0;
    call it before each ``backward()``, because leaves accumulate gradients.
    ``lr`` is a plain attribute, so a schedule may change it between steps.
    A step is all or nothing (see the module docstring).
    """

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = finite_number(momentum, "momentum", low=0.0, high=1.0)
        self._velocity = [0.0] * len(self.params)

    def _propose(self, lr: float, grads: list[float]) -> tuple[list[float], list[float] | None]:
        momentum = self.momentum
        if momentum:
            velocity = [momentum * v + g for v, g in zip(self._velocity, grads)]
        else:
            velocity = grads
        return [p.data - lr * v for p, v in zip(self.params, velocity)], velocity if momentum else None

    def _commit(self, velocity: list[float] | None) -> None:
        if velocity is not None:
            self._velocity = velocity

    def _buffers(self) -> dict[str, list[float]]:
        return {"velocity": self._velocity}

    def __repr__(self) -> str:
        return f"SGD({len(self.params)} parameters, lr={self.lr!r}, momentum={self.momentum!r})"


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, Algorithm 1), with its bias correction.

    For every parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

        m = beta1 * m + (1 - beta1) * g          # first moment, starts at 0
        v = beta2 * v + (1 - beta2) * g * g      # second moment, starts at 0
        m_hat = m / (1 - beta1 ** t)             # bias correction
        v_hat = v / (1 - beta2 ** t)
        p.data -= lr * m_hat / (sqrt(v_hat) + eps)

    so each parameter moves by about ``lr`` per step whatever the scale of its gradient.
    Defaults are the paper's: ``lr=0.001``, ``betas=(0.9, 0.999)``, ``eps=1e-8``. ``lr`` may be
    changed between steps. A step is all or nothing (see the module docstring); a gradient so
    large that its square overflows (beyond ~1e154) is refused too.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.001,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence):
            raise TypeError(
                f"betas must be a pair of numbers (beta1, beta2), got {type(betas).__name__} {betas!r}"
            )
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair of numbers (beta1, beta2), got {len(betas)}: {betas!r}")
        self.betas = (
            finite_number(betas[0], "betas[0] (beta1)", low=0.0, high=1.0, high_open=True),
            finite_number(betas[1], "betas[1] (beta2)", low=0.0, high=1.0, high_open=True),
        )
        self.eps = finite_number(eps, "eps", low=0.0, low_open=True)
        n = len(self.params)
        self._m = [0.0] * n
        self._v = [0.0] * n

    def _propose(self, lr: float, grads: list[float]) -> tuple[list[float], tuple[list[float], list[float]]]:
        beta1, beta2 = self.betas
        t = self.steps + 1
        m = [beta1 * mi + (1.0 - beta1) * g for mi, g in zip(self._m, grads)]
        v = [beta2 * vi + (1.0 - beta2) * g * g for vi, g in zip(self._v, grads)]
        for i, vi in enumerate(v):
            if not _isfinite(vi):
                raise FloatingPointError(
                    f"Adam step refused: the squared gradient of {_who(self.params, i)} overflows "
                    f"(gradient {grads[i]!r}); no parameter was changed"
                )
        correction1 = 1.0 - beta1**t
        correction2 = 1.0 - beta2**t
        eps = self.eps
        values = [
            p.data - lr * (mi / correction1) / (math.sqrt(vi / correction2) + eps)
            for p, mi, vi in zip(self.params, m, v)
        ]
        return values, (m, v)

    def _commit(self, state: tuple[list[float], list[float]]) -> None:
        self._m, self._v = state

    def _buffers(self) -> dict[str, list[float]]:
        return {"m": self._m, "v": self._v}

    def __repr__(self) -> str:
        return f"Adam({len(self.params)} parameters, lr={self.lr!r}, betas={self.betas!r}, eps={self.eps!r})"


def _checked_parameters(params: Iterable[Value], who: str) -> list[Value]:
    """The parameters as a list: each a leaf Value, each listed once, at least one."""
    if isinstance(params, Value) or not isinstance(params, Iterable):
        raise TypeError(
            f"params must be an iterable of Values (e.g. model.parameters()), got {type(params).__name__}"
        )
    params = list(params)
    if not params:
        raise ValueError(f"params is empty: {who} needs at least one parameter to optimise")
    first_index: dict[int, int] = {}
    for i, p in enumerate(params):
        if p.__class__ is not Value:
            raise TypeError(f"params[{i}] must be a Value, got {type(p).__name__} {p!r}")
        j = first_index.setdefault(id(p), i)
        if j != i:  # it would be stepped twice per step
            raise ValueError(f"params[{i}] is the same Value as params[{j}]; list each parameter once")
        if p.gate is not None:
            raise ValueError(f"params[{i}] is the output of a {p.gate.name} gate; parameters must be leaves")
    return params


def _who(params: list[Value], i: int) -> str:
    label = params[i].label
    return f"params[{i}] (label {label!r})" if label else f"params[{i}]"
