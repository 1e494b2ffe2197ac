"""The compiler: a program (or a fused schedule of it) becomes two straight-line Python functions.

``forward(X, P, PA, N)`` and ``backward(saved, seed, N, GX)`` are generated as source text, one
line per op, calling each gate's array forms from the op table directly: no loop, no dispatch, no
list of values. A *schedule* says what to emit, in order:

* ``Single(slot)``: one op of the program, on vectors of ``N`` (one value per sample), or on
  plain floats for an op no data input reaches;
* ``Dense``: a layer's neurons, each a sum ``b + w1*x1 + w2*x2 + ...`` of the same inputs, as one
  matrix product ``B = W @ H + b`` (one row per neuron, one column per sample);
* ``Map``: the same gate applied to every row of a block (a layer's relu), as one call.

Values are laid out one row per lane (neuron, data input) and one column per sample, so a lane is
a contiguous row ``B[j]``. ``plain_schedule`` emits every op as a ``Single`` (the "compiled"
level); ``fusion.fused_schedule`` groups them (the "fused" level). ``source`` keeps the text, so a
reader can see exactly what runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..table import Gate
from .arrays import array_forms
from .interpreter import _Refused, sum_product
from .recording import CONST, GATE, INPUT, PARAM, REDUCE, Program

__all__ = [
    "Single", "Dense", "Map", "ParameterDot", "Schedule", "plain_schedule", "compile_schedule", "Compiled"
]

INPUT_BLOCK = "X"


@dataclass(frozen=True)
class Single:
    slot: int


@dataclass(frozen=True, eq=False)
class Dense:
    """Neurons ``lanes[j] = bias[j] + sum_t weights[j, t] * inputs[t]`` (indices into the parameters)."""

    block: int
    lanes: tuple[int, ...]
    inputs: tuple[int, ...]
    weights: np.ndarray  # (lanes, inputs) parameter positions
    bias: np.ndarray | None  # (lanes,) parameter positions, or no bias
    unique: bool  # no parameter appears twice among weights and bias

    def describe(self) -> str:
        bias = " + b" if self.bias is not None else ""
        return f"B{self.block} = W @ H{bias}: {_count(self.lanes, 'neuron')} x {_count(self.inputs, 'input')}"


@dataclass(frozen=True, eq=False)
class Map:
    """``lanes[j] = gate(operand_0 lane j, ...)``.

    An operand is ``("block", id)`` (lane j of that block), ``("scalar", slot)`` (one number for
    every lane) or ``("const", value)`` (a constant, equal in every lane).
    """

    block: int
    lanes: tuple[int, ...]
    gate: Gate
    operands: tuple[tuple[str, object], ...]

    def describe(self) -> str:
        return f"B{self.block} = {_name(self.gate)}(...): on {len(self.lanes)} rows at once"


@dataclass(frozen=True, eq=False)
class ParameterDot:
    """``slot = offset + sum_t P[left[t]] * P[right[t]]``: products of parameters (an L2 penalty)."""

    slot: int
    left: np.ndarray
    right: np.ndarray
    offset: float = 0.0

    @property
    def lanes(self) -> tuple[int, ...]:
        return (self.slot,)

    def describe(self) -> str:
        return f"%{self.slot} = one dot product of {len(self.left)} parameter pairs"


@dataclass(frozen=True, eq=False)
class Schedule:
    items: tuple
    lane_of: dict[int, tuple[object, int]]  # slot -> (block, row); data inputs are rows of "X"
    blocks: dict[object, tuple[int, ...]] = field(default_factory=dict)  # block -> its lanes


def plain_schedule(program: Program) -> Schedule:
    """Every op on its own, in program order."""
    lane_of = {slot: (INPUT_BLOCK, op.index) for slot, op in enumerate(program.ops) if op.kind == INPUT}
    return Schedule(tuple(Single(s) for s in range(len(program.ops))), lane_of, _input_block(program))


def _input_block(program: Program) -> dict[object, tuple[int, ...]]:
    by_column = {op.index: slot for slot, op in enumerate(program.ops) if op.kind == INPUT}
    if len(by_column) == len(program.input_names):
        return {INPUT_BLOCK: tuple(by_column[c] for c in range(len(program.input_names)))}
    return {}  # some input is never read: X is not a complete block of lanes


@dataclass(frozen=True, eq=False)
class Compiled:
    """The generated functions and their source."""

    forward: Callable
    backward: Callable  # also the data inputs' gradients, into GX
    backward_parameters: Callable  # the parameters' only
    source: str


def _all(mask: object) -> bool:
    return mask is None or bool(np.all(mask))


class _Generator:
    def __init__(self, program: Program, schedule: Schedule, inputs: bool) -> None:
        self.program = program
        self.ops = program.ops
        self.schedule = schedule
        self.inputs = inputs
        self.needs = program.needs_grad(inputs)
        self.namespace: dict[str, object] = {
            "np": np,
            "_Refused": _Refused,
            "_all": _all,
            "_dot": sum_product,
            "_vdot": np.vdot,
            "_total": _total,
            "_reduce": np.add.reduce,
            "_matmul": np.matmul,
        }
        self.lane_of = schedule.lane_of
        self.kinds: dict[tuple, list[object]] = {}
        # Slots read by name (v<slot>): every lane of a block read by something other than a block op.
        self.named: set[int] = set()
        for item in schedule.items:
            if isinstance(item, Single):
                self.named.update(self.ops[item.slot].args)
            elif isinstance(item, Dense) and self._block_ref(item.inputs) is None:
                self.named.update(item.inputs)
            elif isinstance(item, Map):
                self.named.update(s for kind, s in item.operands if kind == "scalar")
        self.named.add(program.root)
        self.named.update(program.outputs.values())

    # -- names ------------------------------------------------------------------------------------

    @staticmethod
    def block_name(block: object) -> str:
        return "X" if block == INPUT_BLOCK else f"B{block}"

    @staticmethod
    def grad_block_name(block: object) -> str:
        return "GX" if block == INPUT_BLOCK else f"G{block}"

    def _block_ref(self, slots: tuple[int, ...]) -> object | None:
        """The block whose lanes are exactly ``slots``, in order, if there is one."""
        for block, lanes in self.schedule.blocks.items():
            if lanes == slots:
                return block
        return None

    def _same_block(self, slots: tuple[int, ...]) -> object | None:
        blocks = {self.lane_of[s][0] if s in self.lane_of else None for s in slots}
        return blocks.pop() if len(blocks) == 1 and None not in blocks else None

    # -- forward --------------------------------------------------------------------------------

    def forward_lines(self) -> list[str]:
        lines = []
        ops = self.ops
        for item in self.schedule.items:
            if isinstance(item, Single):
                s = item.slot
                op = ops[s]
                args = ", ".join(f"v{a}" for a in op.args)
                if op.kind in (INPUT, PARAM, CONST) and s not in self.named:
                    continue  # read only inside a fused block (a layer's weights, its inputs)
                if op.kind == INPUT:
                    lines.append(f"v{s} = X[{op.index}]")
                elif op.kind == PARAM:
                    lines.append(f"v{s} = P[{op.index}]")
                elif op.kind == CONST:
                    lines.append(f"v{s} = {op.value!r}")
                elif op.kind == GATE and op.batched:
                    forms = array_forms(op.gate)
                    self.namespace[f"F{s}"] = forms.forward
                    lines.append(f"v{s} = F{s}({args})  # {_name(op.gate)}")
                    if forms.has_domain:
                        self.namespace[f"D{s}"] = forms.defined
                        lines.append(f"if not _all(D{s}({args})): raise _Refused({s})")
                elif op.kind == GATE:
                    self.namespace[f"S{s}"] = op.gate.forward
                    lines.append(f"v{s} = S{s}({args})  # {_name(op.gate)}, one number")
                    lines.append(f"if v{s} - v{s} != 0.0: raise _Refused({s})")
                else:  # REDUCE
                    (a,) = op.args
                    if ops[a].batched:
                        total = f"float(_reduce(v{a}))"
                        lines.append(f"v{s} = {total} / N" if op.reduction == "mean" else f"v{s} = {total}")
                    else:
                        lines.append(f"v{s} = v{a}" if op.reduction == "mean" else f"v{s} = v{a} * N")
                    lines.append(f"if v{s} - v{s} != 0.0: raise _Refused({s})")
            elif isinstance(item, ParameterDot):
                s = item.slot
                self.namespace[f"L{s}"], self.namespace[f"K{s}"] = item.left, item.right
                offset = f"{item.offset!r} + " if item.offset else ""
                lines.append(f"v{s} = {offset}float(_vdot(PA[L{s}], PA[K{s}]))  # {len(item.left)} products")
                lines.append(f"if v{s} - v{s} != 0.0: raise _Refused({s})")
            elif isinstance(item, Dense):
                b = item.block
                self.namespace[f"W{b}"] = item.weights
                lines.append(f"M{b} = PA[W{b}]")
                lines.append(f"H{b} = {self._input_matrix(item)}")
                product = f"_matmul(M{b}, H{b})"
                if item.bias is not None:
                    self.namespace[f"C{b}"] = item.bias
                    product += f" + PA[C{b}][:, None]"
                shape = f"{_count(item.lanes, 'neuron')} x {_count(item.inputs, 'input')}"
                lines.append(f"B{b} = {product}  # {shape}")
                lines.extend(self._aliases(item))
            else:  # Map
                b = item.block
                forms = array_forms(item.gate)
                self.namespace[f"F{b}m"] = forms.forward
                args = ", ".join(self._map_operand(o) for o in item.operands)
                lines.append(f"B{b} = F{b}m({args})  # {_name(item.gate)} on {len(item.lanes)} rows")
                if forms.has_domain:
                    self.namespace[f"D{b}m"] = forms.defined
                    lines.append(f"if not _all(D{b}m({args})): raise _Refused({item.lanes[0]})")
                lines.extend(self._aliases(item))
        return lines

    def _input_matrix(self, item: Dense) -> str:
        block = self._block_ref(item.inputs)
        if block is not None:
            return self.block_name(block)
        same = self._same_block(item.inputs)
        if same is not None:
            rows = [self.lane_of[s][1] for s in item.inputs]
            self.namespace[f"R{item.block}"] = np.array(rows)
            return f"{self.block_name(same)}[R{item.block}]"
        return "np.stack((" + ", ".join(f"v{s}" for s in item.inputs) + ",))"

    def _map_operand(self, operand: tuple[str, object]) -> str:
        kind, what = operand
        if kind == "block":
            return self.block_name(what)
        return repr(what) if kind == "const" else f"v{what}"

    def _aliases(self, item: Dense | Map) -> list[str]:
        return [f"v{s} = B{item.block}[{j}]" for j, s in enumerate(item.lanes) if s in self.named]

    # -- backward -------------------------------------------------------------------------------

    def backward_lines(self) -> list[str]:
        """The body of backward; ``has_grad`` and ``block_grads`` then name what it gives a gradient."""
        ops = self.ops
        lines: list[str] = []
        self.has_grad: set[int] = set()  # slots with a gradient variable g<slot>
        self.block_grads: set[object] = set()  # blocks with a gradient G<block>
        # Blocks whose gradient starts as zeros (a row is added before the whole is): the inputs'
        # GX always, as the caller passes it in and reads it back.
        self.zeroed: set[object] = {INPUT_BLOCK}
        self.block_grads.add(INPUT_BLOCK)
        root = self.program.root
        seed = "np.full(N, seed)" if ops[root].batched else "seed"
        self._accumulate(lines, root, seed)
        for item in reversed(self.schedule.items):
            if isinstance(item, Single):
                self._single_backward(lines, item.slot)
            elif isinstance(item, ParameterDot):
                s = item.slot
                if s in self.has_grad:
                    lines.append(f"gP[L{s}] += PA[K{s}] * g{s}")
                    lines.append(f"gP[K{s}] += PA[L{s}] * g{s}")
            elif isinstance(item, Dense):
                self._dense_backward(lines, item)
            else:
                self._map_backward(lines, item)
        for slot, op in enumerate(ops):
            if op.kind == PARAM and slot in self.has_grad:
                lines.append(f"gP[{op.index}] += g{slot}")
        return lines

    def _grad(self, slot: int) -> str:
        """The gradient of a slot, as an expression that can be read."""
        if slot in self.lane_of:
            block, row = self.lane_of[slot]
            return f"{self.grad_block_name(block)}[{row}]"
        return f"g{slot}"

    def _has(self, slot: int) -> bool:
        if slot in self.lane_of:
            return self.lane_of[slot][0] in self.block_grads
        return slot in self.has_grad

    def _accumulate(self, lines: list[str], slot: int, expr: str) -> None:
        """``d(slot) += expr``, the first time as an assignment."""
        if not self.needs[slot]:
            return
        if slot in self.lane_of:
            block, row = self.lane_of[slot]
            self._zeroed(block)
            lines.append(f"{self.grad_block_name(block)}[{row}] += {expr}")
        elif slot in self.has_grad:
            # Not in place: the first contribution may be another gradient itself (a partial of 1).
            lines.append(f"g{slot} = g{slot} + {expr}")
        else:
            self.has_grad.add(slot)
            lines.append(f"g{slot} = {expr}")

    def _zeroed(self, block: object) -> None:
        """A row of the block's gradient is about to be added to: it must exist, as zeros, from the start."""
        if block not in self.block_grads:
            self.block_grads.add(block)
            self.zeroed.add(block)

    def _accumulate_block(self, lines: list[str], block: object, expr: str) -> None:
        """``G += expr`` for a whole block; the first time, ``G = expr`` (``expr`` is always a new array)."""
        if block in self.block_grads:
            lines.append(f"{self.grad_block_name(block)} += {expr}")
        else:
            self.block_grads.add(block)
            lines.append(f"{self.grad_block_name(block)} = {expr}")

    def _single_backward(self, lines: list[str], s: int) -> None:
        ops = self.ops
        op = ops[s]
        if op.kind not in (GATE, REDUCE) or not self.needs[s] or not self._has(s):
            return
        g = self._grad(s)
        if op.kind == REDUCE:
            (a,) = op.args
            if ops[a].batched:
                share = f"{g} * (1.0 / N)" if op.reduction == "mean" else g
                self._accumulate(lines, a, f"np.full(N, {share})")
            else:
                self._accumulate(lines, a, g if op.reduction == "mean" else f"{g} * N")
            return
        wanted = [(t, a) for t, a in enumerate(op.args) if self.needs[a]]
        if not wanted:
            return
        args = ", ".join(f"v{a}" for a in op.args)
        if not op.batched:
            kinds = self._kinds(op.gate, None, (False,) * op.gate.arity)
            if any(not isinstance(kinds[t], float) for t, _ in wanted):
                self.namespace[f"R{s}s"] = op.gate.partials
                lines.append(f"q = R{s}s({args}, v{s})")
            for t, a in wanted:
                if isinstance(kinds[t], float):
                    if kinds[t] != 0.0:
                        self._accumulate(lines, a, g if kinds[t] == 1.0 else f"{kinds[t]!r} * {g}")
                else:
                    self._accumulate(lines, a, f"q[{t}] * {g}")
            return
        forms = array_forms(op.gate)
        kinds = self._kinds(op.gate, forms, tuple(ops[a].batched for a in op.args))
        if any(kinds[t] is _ARRAY or kinds[t] is None for t, _ in wanted):
            self.namespace[f"Q{s}"] = forms.partials
            lines.append(f"q = Q{s}({args}, v{s})")
        for t, a in wanted:
            self._contribute(lines, a, kinds[t], f"q[{t}]", g, ops[a].batched)

    def _kinds(self, gate: Gate, forms: object, batched: tuple[bool, ...]) -> list[object]:
        key = (gate, batched)
        if key not in self.kinds:
            self.kinds[key] = _partial_kinds(gate, forms, batched)
        return self.kinds[key]

    def _contribute(
        self, lines: list[str], a: int, kind: object, partial: str, g: str, batched: bool
    ) -> None:
        """``d(a) += partial * g``, summed over the batch (and lanes) if ``a`` is one number.

        ``kind``: the partial is a known constant (a float), always an array (``_ARRAY``), or unknown (None).
        """
        if isinstance(kind, float):
            if kind == 0.0:
                return
            factor = "" if kind == 1.0 else f"{kind!r} * "
            if batched:
                self._accumulate(lines, a, f"{factor}{g}")
            else:
                self._accumulate(lines, a, f"{factor}_total({g})")
        elif batched:
            self._accumulate(lines, a, f"{partial} * {g}")
        elif kind is _ARRAY:
            self._accumulate(lines, a, f"float(_vdot({partial}, {g}))")
        else:
            self._accumulate(lines, a, f"_dot({partial}, {g})")

    def _dense_backward(self, lines: list[str], item: Dense) -> None:
        b = item.block
        if b not in self.block_grads:
            return
        G = f"G{b}"
        if item.unique:
            lines.append(f"gP[W{b}] += _matmul({G}, H{b}.T)")
            if item.bias is not None:
                lines.append(f"gP[C{b}] += {G}.sum(axis=1)")
        else:
            lines.append(f"np.add.at(gP, W{b}, _matmul({G}, H{b}.T))")
            if item.bias is not None:
                lines.append(f"np.add.at(gP, C{b}, {G}.sum(axis=1))")
        if not any(self.needs[s] for s in item.inputs):
            return
        lines.append(f"GH = _matmul(M{b}.T, {G})")
        block = self._block_ref(item.inputs)
        if block is not None:
            self._accumulate_block(lines, block, "GH")
            return
        same = self._same_block(item.inputs)
        if same is not None and len(set(item.inputs)) == len(item.inputs):
            self._zeroed(same)
            lines.append(f"{self.grad_block_name(same)}[R{b}] += GH")
            return
        for t, s in enumerate(item.inputs):
            self._accumulate(lines, s, f"GH[{t}]")

    def _map_backward(self, lines: list[str], item: Map) -> None:
        b = item.block
        if b not in self.block_grads:
            return
        forms = array_forms(item.gate)
        kinds = self._kinds(item.gate, forms, tuple(kind == "block" for kind, _ in item.operands))
        args = ", ".join(self._map_operand(o) for o in item.operands)
        self.namespace[f"Q{b}m"] = forms.partials
        lines.append(f"q = Q{b}m({args}, B{b})")
        for t, (kind, what) in enumerate(item.operands):
            if kind == "block":
                if any(self.needs[s] for s in self.schedule.blocks[what]):
                    self._accumulate_block(lines, what, f"q[{t}] * G{b}")
            elif kind == "scalar":
                self._contribute(lines, what, kinds[t], f"q[{t}]", f"G{b}", False)

    # -- putting it together ----------------------------------------------------------------------

    def backward_source(self, saved: list[str], name: str) -> str:
        body = self.body
        zeros = [f"G{item.block} = np.zeros(({len(item.lanes)}, N))" for item in self.schedule.items
                 if isinstance(item, (Dense, Map)) and item.block in self.zeroed]
        return (
            f"def {name}(saved, seed, N, GX, PA):\n"
            + (f"    ({', '.join(saved)},) = saved\n" if saved else "")
            + f"    gP = np.zeros({len(self.program.parameters)})\n"
            + "".join(f"    {line}\n" for line in zeros)
            + "".join(f"    {line}\n" for line in body)
            + "    return gP\n"
        )


def compile_schedule(program: Program, schedule: Schedule, name: str = "tape") -> Compiled:
    """Generate and compile ``forward``, and ``backward`` with and without the data inputs' gradients."""
    full = _Generator(program, schedule, inputs=True)
    light = _Generator(program, schedule, inputs=False)
    forward_body = full.forward_lines()
    light.forward_lines()  # registers the same names in its namespace
    full.body = full.backward_lines()
    light.body = light.backward_lines()
    # What backward reads of forward's values: every name it mentions that forward defines.
    defined = {line.split(" = ", 1)[0] for line in forward_body if " = " in line and line[:2] != "if"}
    defined.add("X")  # the batch itself, which a block-wide gate on the inputs reads again
    saved = sorted((_names_in(full.body) | _names_in(light.body)) & defined, key=_natural)
    outputs = ", ".join(f"v{s}" for s in program.outputs.values())
    forward_src = (
        "def forward(X, P, PA, N):\n"
        + "".join(f"    {line}\n" for line in forward_body)
        + f"    return v{program.root}, ({outputs}{',' if outputs else ''}), "
        + f"({', '.join(saved)}{',' if saved else ''})\n"
    )
    source = (
        f"# {name}: generated from a program of {len(program.ops)} ops\n{forward_src}\n"
        + full.backward_source(saved, "backward")
        + "\n"
        + light.backward_source(saved, "backward_parameters")
    )
    namespace = {**light.namespace, **full.namespace}
    exec(compile(source, f"<{name}>", "exec"), namespace)  # our own source, shown by Tape.source()
    return Compiled(namespace["forward"], namespace["backward"], namespace["backward_parameters"], source)


_ARRAY = object()  # a partial that is an array whenever its operands are


def _total(g: np.ndarray) -> float:
    return float(np.add.reduce(g, axis=None))


def _partial_kinds(gate: Gate, forms: object, batched: tuple[bool, ...]) -> list[object]:
    """For each operand: the local derivative's constant value, ``_ARRAY``, or None (unknown).

    A constant is what the gate's own rule text says: ``local = ("1", "1")`` for add. Knowing
    it saves a multiplication per use. ``_ARRAY``: the gate's ``array_partials``, asked at two
    random points shaped as in the op (an array for a batched operand, a number otherwise),
    returned an array both times, so its sum over the batch is one dot product.
    """
    kinds: list[object] = [None] * len(batched)
    for t, text in enumerate(gate.local):
        try:
            kinds[t] = float(text)
        except ValueError:
            pass
    if not any(batched) or all(isinstance(k, float) for k in kinds):
        return kinds
    try:
        answers = []
        for seed in (1, 2):
            draws = [np.random.default_rng(seed + 10 * t).uniform(0.5, 2.0, 3) for t in range(len(batched))]
            operands = [d if is_batched else float(d[0]) for d, is_batched in zip(draws, batched)]
            with np.errstate(all="ignore"):
                x = forms.forward(*operands)
                answers.append(forms.partials(*operands, x))
    except Exception:  # a rule that cannot be asked is called every time
        return kinds
    for t in range(len(batched)):
        first, second = answers[0][t], answers[1][t]
        if kinds[t] is None and isinstance(first, np.ndarray) and first.shape == (3,) \
                and isinstance(second, np.ndarray):
            kinds[t] = _ARRAY
    return kinds


def _count(items: tuple, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _name(gate: Gate) -> str:
    return gate.symbol if gate.exponent is not None else gate.name


def _names_in(lines: list[str]) -> set[str]:
    import re

    found: set[str] = set()
    for line in lines:
        found.update(re.findall(r"\b[vHMB]\d+\b|\bX\b", line))
    return found


def _natural(name: str) -> tuple[str, int]:
    return name[0], int(name[1:] or 0)
