"""``Value``: a scalar node of the circuit, and the backward pass over it.

A node holds its float, its gradient, the gate that made it (``None`` for a
leaf) and its operands in order. Everything a gate does is read from the gate
table in ``gates.py``; this module only wires nodes together and runs the chain
rule: ``d(operand) += local derivative * dx``, in reverse topological order.

Functions built from gates (``-a``, ``a - b``, ``sigmoid``, ``tanh``) add no rules
of their own: their derivatives come out of backprop through the gates.
"""

from __future__ import annotations

import math
import numbers

from .errors import DomainError, GateDomainError, GateOverflowError, GateZeroDivisionError
from .gates import GATES, OPERAND_NAMES, Gate, pow_gate

__all__ = ["Value", "apply_gate", "as_value", "maximum", "minimum", "topological_order"]

ADD, MUL, DIV, POW, MAX = GATES["add"], GATES["mul"], GATES["div"], GATES["pow"], GATES["max"]
EXP, LOG, RELU, ARCTAN = GATES["exp"], GATES["log"], GATES["relu"], GATES["arctan"]

_new = object.__new__
_isfinite = math.isfinite
_GATE_FAILURES = (DomainError, ZeroDivisionError, OverflowError)


def _to_float(x: object, what: str, expected: str = "a number (int, float or numpy scalar)") -> float:
    """A finite Python float from an int, float or numpy scalar; a clear error otherwise."""
    if x.__class__ is float:
        value = x
    elif isinstance(x, numbers.Real) and not isinstance(x, bool):
        value = float(x)
    else:
        raise TypeError(f"{what} must be {expected}, got {type(x).__name__} {x!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value!r}")
    return value


class Value:
    """A scalar in a circuit: ``.data``, ``.grad``, ``.label``, ``.gate`` and ``.parents``."""

    __slots__ = ("data", "grad", "gate", "parents", "label")

    data: float
    grad: float
    gate: Gate | None
    parents: tuple[Value, ...]
    label: str

    def __init__(self, data: float | int, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__} {label!r}")
        self.data = _to_float(data, f"Value({label!r})" if label else "Value")
        self.grad = 0.0
        self.gate = None
        self.parents = ()
        self.label = label

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    @property
    def is_leaf(self) -> bool:
        return self.gate is None

    # -- operators: each is one gate, or a few gates composed ----------------------------

    def __add__(self, other: Value | float) -> Value:
        return _binary(ADD, self, other)

    def __radd__(self, other: float) -> Value:
        return _binary(ADD, other, self)

    def __mul__(self, other: Value | float) -> Value:
        return _binary(MUL, self, other)

    def __rmul__(self, other: float) -> Value:
        return _binary(MUL, other, self)

    def __truediv__(self, other: Value | float) -> Value:
        return _binary(DIV, self, other)

    def __rtruediv__(self, other: float) -> Value:
        return _binary(DIV, other, self)

    def __neg__(self) -> Value:
        return _binary(MUL, self, -1.0)

    def __sub__(self, other: Value | float) -> Value:
        return self + (-as_value(other, "sub"))

    def __rsub__(self, other: float) -> Value:
        return as_value(other, "sub") + (-self)

    def __pow__(self, exponent: Value | float) -> Value:
        if exponent.__class__ is Value:
            return _binary(POW, self, exponent)
        gate = _POW_GATES.get(exponent) if exponent.__class__ in (int, float) else None
        if gate is None:
            gate = pow_gate(_to_float(exponent, "pow exponent"))
            if len(_POW_GATES) < 1024:
                _POW_GATES[gate.exponent] = gate
        return _unary(gate, self)

    def __rpow__(self, base: float) -> Value:
        return _binary(POW, base, self)

    def exp(self) -> Value:
        return _unary(EXP, self)

    def log(self) -> Value:
        return _unary(LOG, self)

    def arctan(self) -> Value:
        return _unary(ARCTAN, self)

    def relu(self) -> Value:
        """``x = max(0, a)``, with the slides' ``da = a > 0 ? dx : 0`` (so relu'(0) = 0)."""
        return _unary(RELU, self)

    def max(self, other: Value | float) -> Value:
        return _binary(MAX, self, other)

    def min(self, other: Value | float) -> Value:
        """``min(a, b) = -max(-a, -b)``."""
        return -((-self).max(-as_value(other, "min")))

    def abs(self) -> Value:
        """``|a| = max(a, -a)``; at 0 the tie splits, giving the derivative 0."""
        return self.max(-self)

    def sigmoid(self) -> Value:
        """``1 / (1 + exp(-a))``, as ``exp(min(a, 0)) / (1 + exp(-|a|))``.

        No exponent is ever positive, so ±1000 give finite values and gradients.
        """
        negated = -self
        return (-negated.max(0.0)).exp() / (1.0 + (-self.max(negated)).exp())

    def tanh(self) -> Value:
        """``tanh(a) = 2 * sigmoid(2a) - 1``, stable for the same reason as sigmoid."""
        return 2.0 * (2.0 * self).sigmoid() - 1.0

    # -- backward -------------------------------------------------------------------------

    def backward(self, seed: float = 1.0) -> None:
        """Backpropagate from this node.

        The gradients of the intermediate nodes of this graph are reset to 0, this node
        gets ``seed`` (1 by default) and each leaf *accumulates* ``seed * d(self)/d(leaf)``
        into ``.grad``. Calling it twice therefore doubles the leaves' gradients, which is
        what summing over samples needs; call ``zero_grad()`` between passes otherwise.
        """
        seed = _to_float(seed, "backward seed")
        order = topological_order(self, reset_intermediates=True)
        self.grad += seed
        for node in reversed(order):
            gate = node.gate
            if gate is None:
                continue
            dx = node.grad
            parents = node.parents
            if len(parents) == 2:
                a, b = parents
                da, db = gate.partials(a.data, b.data, node.data)
                a.grad += da * dx
                b.grad += db * dx
            else:
                a = parents[0]
                a.grad += gate.partials(a.data, node.data)[0] * dx

    def zero_grad(self) -> None:
        """Set the gradient of every node of this graph, leaves included, to 0."""
        for node in topological_order(self):
            node.grad = 0.0


_POW_GATES: dict[object, Gate] = {}  # a faster front to pow_gate's cache, for int and float exponents
_DONE = object()  # stack marker: the node below it has all its operands ordered


def topological_order(root: Value, reset_intermediates: bool = False) -> list[Value]:
    """Every node that ``root`` depends on, operands before the nodes they feed.

    Iterative depth-first search, so a chain a million gates deep needs no recursion.
    Operands are visited in order, which makes the order, and so every drawing and
    trace, deterministic.
    """
    # The order is exactly that of the recursive search "visit a, then b, then emit the
    # node". Written out for speed, as backward() spends most of its time here: a leaf
    # (a node without operands, i.e. without a gate) is emitted when popped, with no
    # marker, and an operand already ordered is not pushed at all.
    order: list[Value] = []
    emit = order.append
    seen: set[Value] = set()
    see = seen.add
    stack: list[object] = [root]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is _DONE:
            node = pop()
            if reset_intermediates:
                node.grad = 0.0
            emit(node)
            continue
        if node in seen:  # pushed twice before it was reached
            continue
        see(node)
        parents = node.parents
        if not parents:
            emit(node)
            continue
        push(node)
        push(_DONE)
        # Pushed in reverse so that operand a is finished before operand b.
        if len(parents) == 2:
            a, b = parents
            if b not in seen:
                push(b)
            if a not in seen:
                push(a)
        else:
            for operand in reversed(parents):
                if operand not in seen:
                    push(operand)
    return order


def as_value(x: Value | float, gate: str = "Value") -> Value:
    """``x`` itself if it is a Value, else a constant leaf holding it."""
    if x.__class__ is Value:
        return x
    node = _new(Value)
    # The common case, a finite float, skips _to_float and the formatting of its context.
    if x.__class__ is float and _isfinite(x):
        node.data = x
    else:
        node.data = _to_float(x, f"{gate} operand", "a Value or a number (int, float or numpy scalar)")
    node.grad = 0.0
    node.gate = None
    node.parents = ()
    node.label = ""
    return node


# _binary and _unary make every gate's node. They fill in its slots themselves rather than
# call a shared helper: this runs once per gate, and the call alone cost 5% of building one.


def _binary(gate: Gate, a: Value | float, b: Value | float) -> Value:
    if a.__class__ is not Value:
        a = as_value(a, gate.name)
    if b.__class__ is not Value:
        b = as_value(b, gate.name)
    try:
        data = gate.forward(a.data, b.data)
        if data - data != 0.0:  # only inf (or nan) fails this: the result overflowed
            raise OverflowError(f"{gate.expr} overflows a float")
    except _GATE_FAILURES as exc:
        raise _refusal(gate, (a, b), exc) from None
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.gate = gate
    node.parents = (a, b)
    node.label = ""
    return node


def _unary(gate: Gate, a: Value) -> Value:
    try:
        data = gate.forward(a.data)
        if data - data != 0.0:  # only inf (or nan) fails this: the result overflowed
            raise OverflowError(f"{gate.expr} overflows a float")
    except _GATE_FAILURES as exc:
        raise _refusal(gate, (a,), exc) from None
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.gate = gate
    node.parents = (a,)
    node.label = ""
    return node


def _refusal(gate: Gate, operands: tuple[Value, ...], exc: Exception) -> Exception:
    """The error for a gate that refused its operands, naming the gate, labels and values."""
    shown = ", ".join(
        f"{name} = {v.data!r}" + (f" (label {v.label!r})" if v.label else "")
        for name, v in zip(OPERAND_NAMES, operands)
    )
    message = f"{gate.name} gate (x = {gate.expr}) refused {shown}: {exc}"
    if isinstance(exc, ZeroDivisionError):
        return GateZeroDivisionError(message, gate.name)
    if isinstance(exc, OverflowError):
        return GateOverflowError(message, gate.name)
    return GateDomainError(message, gate.name)


def apply_gate(gate: Gate, *operands: Value | float) -> Value:
    """A new node: ``gate`` applied to ``operands`` (numbers become constant leaves).

    The way to use a gate that has no operator or method, e.g. one you add to the table.
    """
    if len(operands) != gate.arity:
        raise TypeError(f"{gate.name} gate takes {gate.arity} operand(s), got {len(operands)}")
    if gate.arity == 2:
        return _binary(gate, *operands)
    return _unary(gate, as_value(operands[0], gate.name))


def maximum(a: Value | float, b: Value | float) -> Value:
    """``max(a, b)`` as a gate; a tie splits the gradient evenly, so ``maximum(a, a)`` has gradient 1."""
    return _binary(MAX, a, b)


def minimum(a: Value | float, b: Value | float) -> Value:
    """``min(a, b) = -max(-a, -b)``."""
    return as_value(a, "min").min(b)

