"""Neural-network building blocks made of gates: ``Module``, ``Neuron``, ``Layer``, ``MLP``.

micrograd's classes, with micrograd's call shapes: ``MLP(2, [16, 16, 1])`` called on a sample
returns a **Value** when its last layer has one neuron (a list of Values otherwise), a ``Layer`` of
one neuron returns its Value, and micrograd's keywords work (``Neuron(3, nonlin=False)``,
``nin=``, ``nout=``, ``nouts=``). On top of micrograd: any activation by name or function,
reproducible initialisation from ``seed``, labelled parameters (``L1.n0.w0``), checked inputs,
and ``save`` / ``load`` of the parameters. Train them with ``training.fit`` or your own loop
with ``optim.SGD`` / ``optim.Adam``.

The slides' classic models (Perceptron, Adaline, SigmoidNeuron) train themselves and live in
``classic``; ``autograd_gates.nn`` shows both.
"""

from __future__ import annotations

import math
import numbers
import os
import random
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from ..engine.arguments import count, flag
from ..engine.value import Value, as_value
from .activations import get_activation
from .persistence import load_parameters, save_parameters

__all__ = ["Module", "Neuron", "Layer", "MLP"]

ActivationArg = str | Callable[[Value], Value] | None


class _Default(str):
    """The default activation ``"relu"``, told apart from an explicit ``"relu"`` so that
    micrograd's ``nonlin=`` can be refused when it contradicts an ``activation`` given too."""

    __slots__ = ()


_RELU = _Default("relu")


class Module:
    """Anything with parameters: ``.parameters()`` lists them, ``.zero_grad()`` clears their gradients,
    ``.save(path)`` / ``.load(path)`` write them to a JSON file and read them back (see ``persistence``)."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the parameters' labels and values to ``path`` (JSON); return the path."""
        return save_parameters(self, path)

    def load(self, path: str | os.PathLike[str]) -> None:
        """Set the parameters from a file ``save`` wrote; a file of another shape is refused (no change)."""
        load_parameters(self, path)


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


def _either(ours: object, theirs: object, our_name: str, their_name: str, who: str) -> object:
    """An argument given by our name or by micrograd's, not both and not neither."""
    if ours is not None and theirs is not None:
        raise TypeError(f"{who} got both {our_name}= and micrograd's {their_name}=; pass one of them")
    if ours is None and theirs is None:
        raise TypeError(f"{who} needs {our_name} (micrograd calls it {their_name})")
    return ours if ours is not None else theirs


def _activation(activation: ActivationArg, nonlin: object, who: str) -> ActivationArg:
    """``activation``, or micrograd's ``nonlin``: True is ReLU, False is linear (identity)."""
    if nonlin is None:
        return activation
    nonlin = flag(nonlin, "nonlin")
    if activation is not _RELU:
        raise TypeError(
            f"{who} got both activation={activation!r} and micrograd's nonlin={nonlin}; pass one of them"
        )
    return "relu" if nonlin else "identity"


def _uniform_weights(n: int, seed: int | np.random.Generator | None) -> list[float]:
    """``n`` weights uniform in [-1, 1]: numpy's with a seed, else Python's ``random`` (as micrograd)."""
    if seed is None:
        return [random.uniform(-1.0, 1.0) for _ in range(n)]
    return np.random.default_rng(seed).uniform(-1.0, 1.0, n).tolist()


def _generator(seed: int | np.random.Generator | None) -> np.random.Generator | None:
    """One numpy generator for all the neurons of a layer or network (None stays None: ``random``)."""
    return None if seed is None else np.random.default_rng(seed)


def _one_or_list(outputs: list[Value]) -> Value | list[Value]:
    return outputs[0] if len(outputs) == 1 else outputs


# -- building blocks ----------------------------------------------------------------------


class Neuron(Module):
    """``y = activation(sum_i w_i * x_i + b)``, built from mul and add gates.

    Weights start uniform in [-1, 1] and the bias at 0 (micrograd's choice), unless
    ``weights`` / ``bias`` give them. ``seed`` (an int or a ``numpy.random.Generator``) draws
    them with numpy, reproducibly; ``seed=None`` draws them as micrograd does, from Python's
    ``random`` module, so ``random.seed(1337)`` before building gives micrograd's very weights.
    ``activation`` is a name from ``activations.ACTIVATIONS`` (``"relu"``, the default,
    ``"tanh"``, ``"identity"``...), ``"prelu"`` (this neuron gets its own learnable slope),
    or any function of a Value.
    micrograd's ``nonlin=True`` / ``False`` means ``"relu"`` / ``"identity"``, and ``nin``
    is accepted for ``n_inputs``.
    """

    def __init__(
        self,
        n_inputs: int | None = None,
        activation: ActivationArg = _RELU,
        *,
        seed: int | np.random.Generator | None = None,
        weights: Sequence[float] | None = None,
        bias: float = 0.0,
        name: str = "",
        nin: int | None = None,
        nonlin: bool | None = None,
    ) -> None:
        self.n_inputs = count(_either(n_inputs, nin, "n_inputs", "nin", "Neuron"), "n_inputs")
        self.activation = get_activation(_activation(activation, nonlin, "Neuron"))
        if weights is None:
            weights = _uniform_weights(self.n_inputs, seed)
        elif isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__"):
            raise TypeError(
                f"weights must be a sequence of n_inputs = {self.n_inputs} numbers, "
                f"got {type(weights).__name__}"
            )
        elif len(weights) != self.n_inputs:
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
    """``n_outputs`` neurons reading the same inputs.

    Calling it returns a list of Values, or, for a layer of one neuron, that neuron's Value
    (micrograd's shape). ``forward`` always returns a list, so a one-neuron layer can sit
    inside a network. micrograd's ``nin``, ``nout`` and ``nonlin`` are accepted.
    """

    def __init__(
        self,
        n_inputs: int | None = None,
        n_outputs: int | None = None,
        activation: ActivationArg = _RELU,
        *,
        seed: int | np.random.Generator | None = None,
        name: str = "",
        nin: int | None = None,
        nout: int | None = None,
        nonlin: bool | None = None,
    ) -> None:
        self.n_inputs = count(_either(n_inputs, nin, "n_inputs", "nin", "Layer"), "n_inputs")
        self.n_outputs = count(_either(n_outputs, nout, "n_outputs", "nout", "Layer"), "n_outputs")
        activation = _activation(activation, nonlin, "Layer")
        get_activation(activation)  # a misspelt name is refused once, here
        rng = _generator(seed)
        prefix = f"{name}." if name else ""
        self.neurons = [
            Neuron(self.n_inputs, activation, seed=rng, name=f"{prefix}n{j}") for j in range(self.n_outputs)
        ]

    def __call__(self, x: Sequence[float | Value]) -> Value | list[Value]:
        return _one_or_list(self.forward(_sample(x, self.n_inputs, "Layer")))

    def forward(self, xs: list[Value]) -> list[Value]:
        """The outputs, always as a list, for inputs already checked."""
        return [n.forward(xs) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return _unique(p for n in self.neurons for p in n.parameters())

    def __repr__(self) -> str:
        return f"Layer({self.n_inputs} -> {self.n_outputs}, activation={_name(self.neurons[0].activation)!r})"


class MLP(Module):
    """A multilayer perceptron: ``MLP(2, [16, 16, 1])`` is 2 inputs, two hidden layers of 16, 1 output.

    Hidden layers use ``activation`` (default ``"relu"``); the last layer uses
    ``output_activation`` (default ``"identity"``: raw scores, as in micrograd, to feed a
    hinge or a from-logits loss). Called on one sample (a sequence of numbers or Values) it
    returns a **Value** if the last layer has one neuron, else a **list** of Values, as
    micrograd's does; ``forward`` always returns the list. micrograd's ``nin`` and
    ``nouts`` are accepted for ``n_inputs`` and ``sizes``. Initialisation is reproducible
    from ``seed``; with ``seed=None`` it draws from Python's ``random`` as micrograd does, so
    after ``random.seed(1337)``, ``MLP(2, [16, 16, 1])`` holds micrograd's weights.
    """

    def __init__(
        self,
        n_inputs: int | None = None,
        sizes: Sequence[int] | None = None,
        activation: ActivationArg = "relu",
        output_activation: ActivationArg = "identity",
        *,
        seed: int | np.random.Generator | None = None,
        nin: int | None = None,
        nouts: Sequence[int] | None = None,
    ) -> None:
        self.n_inputs = count(_either(n_inputs, nin, "n_inputs", "nin", "MLP"), "n_inputs")
        sizes = _either(sizes, nouts, "sizes", "nouts", "MLP")
        if isinstance(sizes, (int, str)) or not isinstance(sizes, Sequence):
            raise TypeError(
                f"sizes must be a list of layer sizes, e.g. [16, 16, 1], got {type(sizes).__name__} {sizes!r}"
            )
        if len(sizes) == 0:
            raise ValueError("sizes must be a non-empty list of layer sizes, e.g. [16, 16, 1], got []")
        sizes = [count(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
        # Checked here as well as in each neuron: with one layer, `activation` is never used,
        # and a misspelt name would otherwise pass in silence.
        for name in (activation, output_activation):
            get_activation(name)
        rng = _generator(seed)
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

    def __call__(self, x: Sequence[float | Value]) -> Value | list[Value]:
        return _one_or_list(self.forward(_sample(x, self.n_inputs, "MLP")))

    def forward(self, xs: list[Value]) -> list[Value]:
        """The outputs, always as a list, for inputs already checked."""
        for layer in self.layers:
            xs = layer.forward(xs)
        return xs

    def parameters(self) -> list[Value]:
        return _unique(p for layer in self.layers for p in layer.parameters())

    def __repr__(self) -> str:
        return "MLP(" + ", ".join(repr(layer) for layer in self.layers) + ")"
