"""``Value``: a scalar node of the circuit, and the backward pass over it.

A node holds its float, its gradient, the gate that made it (``None`` for a leaf), its one or
two operands and a label. Everything a gate does is read from the op table (``gates.py``):
Python's operators map to the table's operator gates, and every function of the table is a
method (``a.sigmoid()``, ``a.max(b)``). This module only wires nodes together and runs the
chain rule, ``d(operand) += local derivative * dx``, in reverse topological order.

Threads: building graphs in several threads is safe. ``backward()`` writes ``.grad`` on every
node of its graph, so two backward passes must not run at the same time over graphs that share
nodes (leaves included); give each thread its own graph, or a lock.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .arguments import finite_float, shown
from .collector import note_graph_size
from .errors import DomainError, GateDomainError, GateGradientError, GateOverflowError, GateZeroDivisionError
from .formula import format_formula, substitute, var
from .gates import pow_gate
from .table import GATES, OPERAND_NAMES, Gate

__all__ = ["Value", "apply_gate", "as_value", "maximum", "minimum", "topological_order"]

ADD, SUB, MUL, DIV, NEG, POW = (GATES[n] for n in ("add", "sub", "mul", "div", "neg", "pow"))

_new = object.__new__
_isfinite = math.isfinite
_GATE_FAILURES = (DomainError, ZeroDivisionError, OverflowError)


class Value:
    """A scalar in a circuit: ``.data``, ``.grad``, ``.label``, ``.gate`` and ``.parents``."""

    __slots__ = ("data", "grad", "gate", "_a", "_b", "label", "_mark")

    data: float
    grad: float
    gate: Gate | None
    _a: Value | None
    _b: Value | None
    label: str

    def __init__(self, data: float | int, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__} {shown(label)}")
        self.data = finite_float(data, f"Value({label!r})" if label else "Value")
        self.grad = 0.0
        self.gate = None
        self._a = self._b = self._mark = None
        self.label = label

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands, in order: ``()`` for a leaf, ``(a,)`` or ``(a, b)`` for a gate."""
        if self._a is None:
            return ()
        if self._b is None:
            return (self._a,)
        return (self._a, self._b)

    @property
    def is_leaf(self) -> bool:
        return self.gate is None

    # -- Python's operators: each is one gate of the table --------------------------------

    def __add__(self, other: Value | float) -> Value:
        return _binary(ADD, self, other)

    def __radd__(self, other: float) -> Value:
        return _binary(ADD, other, self)

    def __sub__(self, other: Value | float) -> Value:
        return _binary(SUB, self, other)

    def __rsub__(self, other: float) -> Value:
        return _binary(SUB, other, self)

    def __mul__(self, other: Value | float) -> Value:
        return _binary(MUL, self, other)

    def __rmul__(self, other: float) -> Value:
        return _binary(MUL, other, self)

    def __truediv__(self, other: Value | float) -> Value:
        return _binary(DIV, self, other)

    def __rtruediv__(self, other: float) -> Value:
        return _binary(DIV, other, self)

    def __neg__(self) -> Value:
        return _unary(NEG, self)

    def __pow__(self, exponent: Value | float) -> Value:
        if exponent.__class__ is Value:
            return _binary(POW, self, exponent)
        gate = _POW_GATES.get(exponent) if exponent.__class__ in (int, float) else None
        if gate is None:
            gate = pow_gate(
                finite_float(exponent, "pow exponent", "a Value or a number (int, float or numpy scalar)")
            )
            if len(_POW_GATES) < 1024:
                _POW_GATES[gate.exponent] = gate
        return _unary(gate, self)

    def __rpow__(self, base: float) -> Value:
        return _binary(POW, base, self)

    def __abs__(self) -> Value:
        return _unary(GATES["abs"], self)

    # The table's functions (exp, log, relu, sigmoid, tanh, max, ...) become methods below the class.

    # -- backward -------------------------------------------------------------------------

    def backward(self, seed: float = 1.0) -> None:
        """Backpropagate from this node.

        The gradients of the intermediate nodes of this graph are reset to 0, this node gets
        ``seed`` (1 by default) and each leaf *accumulates* ``seed * d(self)/d(leaf)`` into
        ``.grad``. Calling it twice therefore doubles the leaves' gradients, which is what
        summing over samples needs; call ``zero_grad()`` between passes otherwise.

        A zero upstream gradient contributes exactly zero, whatever the local derivative (so
        the losing side of a max passes nothing back, even where its own derivative is
        infinite). A gradient that would still become infinite or NaN raises
        ``GateGradientError`` naming the gate, the operand and the numbers; the leaves'
        gradients are then left as they were before the call.
        """
        seed = finite_float(seed, "backward seed")
        leaves: list[tuple[Value, float]] = []
        order = _order(self, True, leaves)
        note_graph_size(len(order))
        self.grad += seed
        for node in reversed(order):
            dx = node.grad
            if dx == 0.0:
                continue
            if dx - dx != 0.0:  # only inf and nan fail this: a contribution overflowed
                error = _gradient_error(order, leaves, self, seed)
                _restore(leaves)
                raise error
            gate = node.gate
            if gate is None:
                continue
            a, b = node._a, node._b
            if b is None:
                a.grad += gate.partials(a.data, node.data)[0] * dx
            else:
                da, db = gate.partials(a.data, b.data, node.data)
                a.grad += da * dx
                b.grad += db * dx

    def zero_grad(self) -> None:
        """Set the gradient of every node of this graph, leaves included, to 0."""
        for node in topological_order(self):
            node.grad = 0.0

    # -- pickling: a circuit is saved as a flat list, so a deep one needs no recursion ------

    def __reduce__(self) -> tuple[object, ...]:
        if self.gate is None:
            return (_leaf, (self.data, self.label, self.grad))
        order = topological_order(self)
        index = {node: i for i, node in enumerate(order)}
        records = [
            node
            if node.gate is None
            else (node.gate, node.data, node.grad, node.label, *(index[p] for p in node.parents))
            for node in order
        ]
        return (_rebuild, (records,))


def _leaf(data: float, label: str, grad: float) -> Value:
    node = Value(data, label)
    node.grad = grad
    return node


def _rebuild(records: list[Value | tuple]) -> Value:
    nodes: list[Value] = []
    for record in records:
        if isinstance(record, Value):
            nodes.append(record)
            continue
        gate, data, grad, label, *operands = record
        node = _new(Value)
        node.data, node.grad, node.gate, node.label, node._mark = data, grad, gate, label, None
        node._a = nodes[operands[0]]
        node._b = nodes[operands[1]] if len(operands) == 2 else None
        nodes.append(node)
    return nodes[-1]


def _restore(leaves: list[tuple[Value, float]]) -> None:
    for leaf, grad in leaves:
        leaf.grad = grad


_POW_GATES: dict[object, Gate] = {}  # a faster front to pow_gate's cache, for int and float exponents
_DONE = object()  # stack marker: the node below it has all its operands ordered


def topological_order(root: Value, reset_intermediates: bool = False) -> list[Value]:
    """Every node that ``root`` depends on, operands before the nodes they feed.

    Iterative depth-first search, so a chain a million gates deep needs no recursion.
    Operands are visited in order, which makes the order, and so every drawing and
    trace, deterministic. ``reset_intermediates`` sets every gate's ``.grad`` to 0 on the way.
    """
    if root.__class__ is not Value:
        raise TypeError(f"topological_order() needs a Value, got {type(root).__name__} {shown(root)}")
    return _order(root, reset_intermediates, None)


def _order(root: Value, reset: bool, leaves: list[tuple[Value, float]] | None) -> list[Value]:
    # The order is exactly that of the recursive search "visit a, then b, then emit the node".
    # Written out for speed, as backward() spends much of its time here: a node is marked as
    # visited with this search's own token in a slot (no set to hash into), a leaf is emitted
    # when popped, with no marker, and an operand already visited is not pushed. ``leaves``, if
    # given, collects each leaf with its gradient so far.
    mark = object()
    order: list[Value] = []
    emit = order.append
    keep = leaves.append if leaves is not None else None
    stack: list[object] = [root]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if node is _DONE:
            node = pop()
            if reset:
                node.grad = 0.0
            emit(node)
            continue
        if node._mark is mark:  # pushed twice before it was reached
            continue
        node._mark = mark
        a = node._a
        if a is None:
            emit(node)
            if keep is not None:
                keep((node, node.grad))
            continue
        push(node)
        push(_DONE)
        # Pushed in reverse so that operand a is finished before operand b.
        b = node._b
        if b is not None and b._mark is not mark:
            push(b)
        if a._mark is not mark:
            push(a)
    return order


def _gradient_error(
    order: list[Value], leaves: list[tuple[Value, float]], root: Value, seed: float
) -> GateGradientError:
    """Redo the pass on the side to find the first product ``local * dx`` that is not finite."""
    grads: dict[Value, float] = dict(leaves)  # the leaves start from what they had accumulated
    grads[root] = grads.get(root, 0.0) + seed
    for node in reversed(order):
        dx = grads.get(node, 0.0)
        if node.gate is None or dx == 0.0:
            continue
        if dx - dx != 0.0:  # the seed itself (backward(inf) is refused earlier; kept for safety)
            break
        partials = node.gate.partials(*(p.data for p in node.parents), node.data)
        for i, (operand, local) in enumerate(zip(node.parents, partials)):
            term = local * dx
            if term - term != 0.0:
                return _gradient_failure(node, i, local, dx, grads.get(operand, 0.0) + term)
            total = grads.get(operand, 0.0) + term
            if total - total != 0.0:
                return _gradient_failure(node, i, local, dx, total)
            grads[operand] = total
    return GateGradientError(f"backward produced a gradient that is not finite (seed {seed!r})")


def _gradient_failure(node: Value, index: int, local: float, dx: float, result: float) -> GateGradientError:
    gate = node.gate
    assert gate is not None
    operand = node.parents[index]
    name = OPERAND_NAMES[index]
    shown = ", ".join(
        f"{n} = {p.data!r}" + (f" (label {p.label!r})" if p.label else "")
        for n, p in zip(OPERAND_NAMES, node.parents)
    )
    rule = format_formula(gate.local_trees[index])
    why = "overflows a float" if local - local == 0.0 else f"has the local derivative {local!r} here"
    return GateGradientError(
        f"backward through the {gate.name} gate (x = {gate.expr}) at {shown} gives d{name} = {rule} * dx "
        f"= {local!r} * {dx!r} = {result!r}: the gradient of operand {name}"
        + (f" (label {operand.label!r})" if operand.label else "")
        + f" {why}. The leaves' gradients are left as they were.",
        gate.name,
    )


def as_value(x: Value | float, gate: str = "Value") -> Value:
    """``x`` itself if it is a Value, else a constant leaf holding it."""
    if x.__class__ is Value:
        return x  # type: ignore[return-value]
    node = _new(Value)
    # The common case, a finite float, skips to_float and the formatting of its context.
    if x.__class__ is float and _isfinite(x):
        node.data = x
    else:
        node.data = finite_float(x, f"{gate} operand", "a Value or a number (int, float or numpy scalar)")
    node.grad = 0.0
    node.gate = None
    node._a = node._b = node._mark = None
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
        data = gate.forward(a.data, b.data)  # type: ignore[union-attr]
        if data - data != 0.0:  # only inf (or nan) fails this: the result overflowed
            raise OverflowError(f"{gate.expr} overflows a float")
    except _GATE_FAILURES as exc:
        raise _refusal(gate, (a, b), exc) from None  # type: ignore[arg-type]
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.gate = gate
    node._a = a
    node._b = b
    node.label = ""
    node._mark = None
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
    node._a = a
    node._b = None
    node.label = ""
    node._mark = None
    return node


def _refusal(gate: Gate, operands: tuple[Value, ...], exc: Exception) -> Exception:
    """The error for a gate that refused its operands, naming the gate, labels and values."""
    shown = ", ".join(
        f"{name} = {v.data!r}" + (f" (label {v.label!r})" if v.label else "")
        for name, v in zip(OPERAND_NAMES, operands)
    )
    message = f"{gate.name} gate (x = {gate.expr}) refused {shown}: "
    if isinstance(exc, OverflowError):  # Python's own words ("math range error") say less
        return GateOverflowError(message + f"{gate.expr} overflows a float", gate.name)
    message += str(exc)
    if isinstance(exc, ZeroDivisionError):
        return GateZeroDivisionError(message, gate.name)
    return GateDomainError(message, gate.name)


def apply_gate(gate: Gate | str, *operands: Value | float) -> Value:
    """A new node: ``gate`` (a Gate or a table name) applied to ``operands``.

    Numbers become constant leaves. The way to use a gate that has no operator or method,
    e.g. one added with ``register_gate``.
    """
    if isinstance(gate, str):
        found = GATES.get(gate)
        if found is None:
            raise LookupError(f"no gate named {gate!r}; the table has: {', '.join(sorted(GATES))}")
        gate = found
    if not isinstance(gate, Gate):
        raise TypeError(
            f"apply_gate() needs a Gate or a gate's name, got {type(gate).__name__} {shown(gate)}"
        )
    if not gate.arity - len(gate.defaults) <= len(operands) <= gate.arity:
        raise TypeError(f"{gate.name} gate takes {gate.arity} operand(s), got {len(operands)}")
    operands = (
        (*operands, *gate.defaults[len(operands) - gate.arity :]) if len(operands) < gate.arity else operands
    )
    if gate.arity == 2:
        return _binary(gate, *operands)
    return _unary(gate, as_value(operands[0], gate.name))


def maximum(a: Value | float, b: Value | float) -> Value:
    """``max(a, b)`` as a gate; a tie splits the gradient evenly, so ``maximum(a, a)`` has gradient 1."""
    return _binary(GATES["max"], a, b)


def minimum(a: Value | float, b: Value | float) -> Value:
    """``min(a, b)`` as a gate; a tie splits the gradient evenly."""
    return _binary(GATES["min"], a, b)


# -- every function of the table is a method: a.sigmoid(), a.max(b), a.elu(alpha) -----------


def _method(gate: Gate) -> Callable[..., Value]:
    if gate.arity == 1:

        def method(self: Value) -> Value:
            return _unary(gate, self)

    elif gate.defaults:
        (default,) = gate.defaults

        def method(self: Value, other: Value | float = default) -> Value:  # type: ignore[misc]
            return _binary(gate, self, other)

    else:

        def method(self: Value, other: Value | float) -> Value:  # type: ignore[misc]
            return _binary(gate, self, other)

    method.__name__ = method.__qualname__ = gate.name
    method.__doc__ = f"The {gate.name} gate: ``{_rule_for_method(gate)}``."
    return method


def _rule_for_method(gate: Gate) -> str:
    operands = {"a": var("self"), "b": var("other")} if gate.arity == 2 else {"a": var("self")}
    return f"{format_formula(substitute(gate.expr_tree, operands))}; {gate.rule}"


for _gate in GATES.values():
    if _gate.operator is None and _gate.builtin:
        setattr(Value, _gate.name, _method(_gate))
