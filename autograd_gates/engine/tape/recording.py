"""Recording: a circuit of Values, traced once, becomes a linear program in topological order.

Each node of the circuit becomes one ``Op`` of a ``Program``, operands before the ops that read
them, in exactly the order ``topological_order`` gives (so a replay accumulates gradients in the
same order as ``Value.backward``). An op is one of

* ``input``: a data input, one column of the batch (one value per sample);
* ``param``: a parameter, read from its ``Value`` at every replay (an optimizer's steps are seen);
* ``const``: a number frozen into the program (a gate whose operands are all constants is folded
  into one, with the value the scalar engine computed);
* ``gate``: a gate of the op table applied to earlier ops;
* ``reduce``: the mean or the sum of an earlier op over the batch (the mean of a loss).

An op is *batched* when it depends on a data input: it holds one value per sample. The others
(parameters, constants, the L2 penalty, a reduced loss) hold one number for the whole batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..table import Gate
from ..value import Value

__all__ = ["Op", "Program", "record", "INPUT", "PARAM", "CONST", "GATE", "REDUCE", "REDUCTIONS"]

INPUT, PARAM, CONST, GATE, REDUCE = "input", "param", "const", "gate", "reduce"
REDUCTIONS = ("mean", "sum")


@dataclass(frozen=True, eq=False)
class Op:
    """One instruction: ``kind``, its operands (indices of earlier ops) and what it needs to run."""

    kind: str
    args: tuple[int, ...] = ()
    gate: Gate | None = None
    batched: bool = False
    index: int = -1  # input: the batch column; param: the position in Program.parameters
    value: float = 0.0  # what the traced sample gave (a constant's value)
    reduction: str = ""  # reduce: "mean" or "sum"
    label: str = ""

    def key(self) -> tuple:
        """What must match between two traces for one program to serve both."""
        gate = self.gate
        which = (gate.name, gate.exponent) if gate is not None else None
        return (self.kind, which, self.args, self.index, self.value if self.kind == CONST else None,
                self.reduction)

    def describe(self, slot: int) -> str:
        """The op as one line of a listing: ``%7 = mul(%3, %0)``."""
        if self.kind == INPUT:
            text = f"input {self.label!r} (column {self.index})"
        elif self.kind == PARAM:
            text = f"param {self.label!r}" if self.label else f"param #{self.index}"
        elif self.kind == CONST:
            text = f"const {self.value!r}"
        elif self.kind == REDUCE:
            text = f"{self.reduction} over the batch of %{self.args[0]}"
        else:
            name = self.gate.symbol if self.gate.exponent is not None else self.gate.name
            text = f"{name}(" + ", ".join(f"%{a}" for a in self.args) + ")"
        return f"%{slot} = {text}"


@dataclass(frozen=True, eq=False)
class Program:
    """A traced circuit as a straight-line program; ``root`` is where backward starts."""

    ops: tuple[Op, ...]
    root: int
    input_names: tuple[str, ...]
    parameters: tuple[Value, ...]
    outputs: Mapping[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ops)

    def __str__(self) -> str:
        described = [op.describe(slot) for slot, op in enumerate(self.ops)]
        width = max(len(line) for line in described)
        lines = []
        for slot, (op, line) in enumerate(zip(self.ops, described)):
            tags = []
            if op.batched:
                tags.append("per sample")
            if slot == self.root:
                tags.append("root")
            tags.extend(f"output {name!r}" for name, s in self.outputs.items() if s == slot)
            lines.append(f"{line:<{width}}  {', '.join(tags)}".rstrip())
        return "\n".join(lines)

    def keys(self) -> tuple:
        return tuple(op.key() for op in self.ops)

    def needs_grad(self, inputs: bool = True) -> list[bool]:
        """Which ops depend on a parameter (or, if ``inputs``, on a data input): those backward visits."""
        needs = []
        for op in self.ops:
            if op.kind == INPUT:
                needs.append(inputs)
            elif op.kind == PARAM:
                needs.append(True)
            elif op.kind == CONST:
                needs.append(False)
            else:
                needs.append(any(needs[a] for a in op.args))
        return needs

    def first_difference(self, other: Program) -> int | None:
        """The first op where ``other`` differs from this program (``len`` if one is a prefix), or None."""
        for slot, (mine, theirs) in enumerate(zip(self.ops, other.ops)):
            if mine.key() != theirs.key():
                return slot
        if len(self.ops) != len(other.ops) or self.root != other.root:
            return min(len(self.ops), len(other.ops))
        return None


def _leaves_of(values: object, what: str) -> list[Value]:
    out = list(values)
    for i, v in enumerate(out):
        if v.__class__ is not Value:
            raise TypeError(f"{what}[{i}] must be a Value, got {type(v).__name__} {v!r}")
        if v.gate is not None:
            raise ValueError(f"{what}[{i}] is the output of a {v.gate.name} gate; it must be a leaf Value")
    return out


def record(
    root: Value,
    inputs: Sequence[Value] | Mapping[str, Value],
    parameters: Iterable[Value] = (),
    *,
    outputs: Mapping[str, Value] | None = None,
    reductions: Mapping[Value, tuple[str, Value]] | None = None,
    constants: Iterable[Value] = (),
) -> Program:
    """The program of the circuit that computes ``root`` (and ``outputs``) from one sample.

    ``inputs`` are the leaves that hold the sample's data, in batch column order (a mapping
    names them; otherwise their labels do). ``parameters`` are the leaves training changes.
    ``reductions`` maps a leaf standing for a batch statistic to ``("mean" | "sum", per-sample
    Value)``. Any other leaf is a constant; a *labelled* one must be listed in ``constants``
    (a labelled leaf is usually a parameter someone forgot, which would get no gradient).
    """
    if root.__class__ is not Value:
        raise TypeError(f"root must be a Value, got {type(root).__name__} {root!r}")
    if isinstance(inputs, Mapping):
        names, input_values = list(inputs), _leaves_of(inputs.values(), "inputs")
    else:
        input_values = _leaves_of(inputs, "inputs")
        names = [v.label or f"x{i}" for i, v in enumerate(input_values)]
    if len(set(names)) != len(names):
        raise ValueError(f"input names must be different from each other, got {names}")
    params = _leaves_of(parameters, "parameters")
    column = _positions(input_values, "inputs")
    position = _positions(params, "parameters")
    for v in params:
        if id(v) in column:
            raise ValueError(f"{v!r} is both a data input and a parameter")
    frozen = {id(v) for v in _leaves_of(constants, "constants")}
    reduced = _checked_reductions(reductions or {})
    extra = dict(outputs or {})
    for name, v in extra.items():
        if v.__class__ is not Value:
            raise TypeError(f"outputs[{name!r}] must be a Value, got {type(v).__name__} {v!r}")

    order = _order([root, *extra.values()], reduced)
    slot: dict[int, int] = {}
    ops: list[Op] = []
    for node in order:
        key = id(node)
        if key in reduced:
            kind, source = reduced[key]
            a = slot[id(source)]
            op = Op(REDUCE, (a,), batched=False, value=node.data, reduction=kind, label=node.label)
        elif key in column:
            op = Op(INPUT, batched=True, index=column[key], value=node.data, label=names[column[key]])
        elif key in position:
            op = Op(PARAM, index=position[key], value=node.data, label=node.label)
        elif node.gate is None:
            if node.label and key not in frozen:
                raise ValueError(
                    f"the leaf {node!r} is labelled but is neither a data input nor a parameter; "
                    "list it in parameters= (to train it), inputs= (to feed it), or constants= (to freeze it)"
                )
            op = Op(CONST, value=node.data, label=node.label)
        else:
            args = tuple(slot[id(p)] for p in node.parents)
            batched = any(ops[a].batched for a in args)
            if not batched and all(ops[a].kind == CONST for a in args):
                op = Op(CONST, value=node.data, label=node.label)  # folded: the scalar engine's value
            else:
                op = Op(GATE, args, node.gate, batched, value=node.data, label=node.label)
        slot[key] = len(ops)
        ops.append(op)
    kept, renumber = _live(ops, [slot[id(root)], *(slot[id(v)] for v in extra.values())])
    return Program(
        ops=tuple(kept),
        root=renumber[slot[id(root)]],
        input_names=tuple(names),
        parameters=tuple(params),
        outputs={name: renumber[slot[id(v)]] for name, v in extra.items()},
    )


def _live(ops: list[Op], roots: list[int]) -> tuple[list[Op], dict[int, int]]:
    """The ops the roots read, renumbered: the operands of a folded constant are gone."""
    live = [False] * len(ops)
    for r in roots:
        live[r] = True
    for slot in range(len(ops) - 1, -1, -1):
        if live[slot]:
            for a in ops[slot].args:
                live[a] = True
    if all(live):  # nothing was folded away: the usual case
        return ops, {slot: slot for slot in range(len(ops))}
    renumber: dict[int, int] = {}
    kept: list[Op] = []
    for slot, op in enumerate(ops):
        if live[slot]:
            renumber[slot] = len(kept)
            args = tuple(renumber[a] for a in op.args)
            kept.append(replace(op, args=args) if args != op.args else op)
    return kept, renumber


def _positions(values: list[Value], what: str) -> dict[int, int]:
    position: dict[int, int] = {}
    for i, v in enumerate(values):
        j = position.setdefault(id(v), i)
        if j != i:
            raise ValueError(f"{what}[{i}] is the same Value as {what}[{j}]; list each once")
    return position


def _checked_reductions(reductions: Mapping[Value, tuple[str, Value]]) -> dict[int, tuple[str, Value]]:
    out = {}
    for leaf, spec in reductions.items():
        if leaf.__class__ is not Value or leaf.gate is not None:
            raise ValueError(f"a reduction stands in a leaf Value, got {leaf!r}")
        kind, source = spec
        if kind not in REDUCTIONS:
            raise ValueError(f"a reduction is one of {REDUCTIONS}, got {kind!r}")
        if source.__class__ is not Value:
            raise TypeError(f"the reduced value must be a Value, got {type(source).__name__} {source!r}")
        out[id(leaf)] = (kind, source)
    return out


_DONE = object()


def _order(roots: list[Value], reduced: dict[int, tuple[str, Value]]) -> list[Value]:
    """Depth-first post-order from each root in turn: ``topological_order`` for the first root.

    A reduction's leaf counts as reading its per-sample source, so the source comes first.
    """
    order: list[Value] = []
    seen: set[int] = set()
    for root in roots:
        stack: list[object] = [root]
        while stack:
            node = stack.pop()
            if node is _DONE:
                order.append(stack.pop())
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            spec = reduced.get(id(node))
            operands = (spec[1],) if spec is not None else node.parents
            stack.append(node)
            stack.append(_DONE)
            for operand in reversed(operands):
                if id(operand) not in seen:
                    stack.append(operand)
    return order
