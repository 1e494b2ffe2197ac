"""Fusion: find the layers in a program and replay them as matrix products.

A neuron traced from Values is a chain of gates: ``((b + w1*x1) + w2*x2) + ...``, each ``w`` a
parameter and each ``x`` one value per sample. ``fused_schedule`` finds these sums of products
(the intermediate adds and products used nowhere else), groups the neurons that read the same
inputs in the same order into one ``Dense`` block, ``B = W @ H + b``, and then, lane by lane,
groups the gates that apply the same rule to every row of a block (the layer's relu) into one
``Map``. What is left runs op by op, as in the plain compiled replay.

Nothing changes but the order of additions: a matrix product adds the same terms in another
order (and may fuse a multiply and an add), so values agree with the scalar engine to rounding
(about 1e-16 of the terms' size), not to the last bit.
"""

from __future__ import annotations

import numpy as np

from ..table import GATES
from .compiler import INPUT_BLOCK, Dense, Map, ParameterDot, Schedule, Single, _input_block
from .recording import CONST, GATE, INPUT, PARAM, Program

__all__ = ["fused_schedule"]

ADD, MUL = GATES["add"], GATES["mul"]


def fused_schedule(program: Program) -> Schedule:
    """The program with its layers as ``Dense`` blocks and their elementwise gates as ``Map`` blocks."""
    ops = program.ops
    consumers: list[list[int]] = [[] for _ in ops]
    for slot, op in enumerate(ops):
        for a in op.args:
            consumers[a].append(slot)
    external = {program.root, *program.outputs.values()}
    uses = [len(c) + (slot in external) for slot, c in enumerate(consumers)]

    # 1. sums of products: found from the last op backwards, so a chain is seen from its end.
    absorbed: set[int] = set()
    dots: dict[int, tuple[tuple[int, ...], list[int], int | None]] = {}
    made: list[Dense | Map | ParameterDot] = []
    for s in range(len(ops) - 1, -1, -1):
        op = ops[s]
        if s in absorbed or op.kind != GATE or op.gate is not ADD:
            continue
        if not op.batched:
            found = _sum_of_parameter_products(ops, uses, absorbed, s)
            if found is not None:
                left, right, offset, inner = found
                made.append(ParameterDot(s, np.array(left, dtype=np.intp), np.array(right, dtype=np.intp),
                                         offset))
                absorbed.update(inner)
            continue
        found = _sum_of_products(ops, uses, absorbed, s)
        if found is not None:
            xs, weights, bias, inner = found
            dots[s] = (xs, weights, bias)
            absorbed.update(inner)

    # 2. neurons reading the same inputs (and all with a bias, or none) form a layer.
    layers: dict[tuple, list[int]] = {}
    for s in sorted(dots):
        xs, _, bias = dots[s]
        layers.setdefault((xs, bias is not None), []).append(s)
    lane_of: dict[int, tuple[object, int]] = {
        slot: (INPUT_BLOCK, op.index) for slot, op in enumerate(ops) if op.kind == INPUT
    }
    blocks: dict[object, tuple[int, ...]] = dict(_input_block(program))
    for (xs, has_bias), lanes in layers.items():
        block = len(blocks)
        weights = np.array([dots[s][1] for s in lanes], dtype=np.intp)
        bias = np.array([dots[s][2] for s in lanes], dtype=np.intp) if has_bias else None
        every = [*weights.ravel(), *(bias if bias is not None else ())]
        made.append(Dense(block, tuple(lanes), xs, weights, bias, len(set(every)) == len(every)))
        blocks[block] = tuple(lanes)
        for j, s in enumerate(lanes):
            lane_of[s] = (block, j)

    # 3. the same gate on every lane of a block, lane for lane: one call on the block.
    work = [b for b in blocks]
    grouped: set[int] = set()
    while work:
        block = work.pop(0)
        lanes = blocks[block]
        if len(lanes) < 2:
            continue
        for c0 in consumers[lanes[0]]:
            group = _lane_group(ops, consumers, lane_of, blocks, grouped, absorbed, block, c0)
            if group is None:
                continue
            members, operands = group
            new = len(blocks)
            made.append(Map(new, tuple(members), ops[c0].gate, operands))
            blocks[new] = tuple(members)
            grouped.update(members)
            for j, s in enumerate(members):
                lane_of[s] = (new, j)
            work.append(new)

    items = _ordered(program, made, lane_of, absorbed)
    if items is None:  # the grouping would need a value before it is made: do not fuse
        from .compiler import plain_schedule

        return plain_schedule(program)
    return Schedule(tuple(items), lane_of, blocks)


def _sum_terms(ops, uses, absorbed, s, batched):
    """The terms of the sum of add gates rooted at op ``s``, left to right, and the inner add gates
    (used once, not yet absorbed) it flattens. ``batched`` follows only adds over the batch."""
    terms: list[int] = []
    inner: list[int] = []
    stack = [s]
    while stack:
        i = stack.pop()
        op = ops[i]
        flattens = i == s or (uses[i] == 1 and i not in absorbed)
        if op.kind == GATE and op.gate is ADD and (op.batched or not batched) and flattens:
            if i != s:
                inner.append(i)
            stack.append(op.args[1])
            stack.append(op.args[0])
        else:
            terms.append(i)
    return terms, inner


def _sum_of_products(ops, uses, absorbed, s):
    """``(inputs, weight positions, bias position, ops absorbed)`` if op ``s`` is a neuron's sum."""
    terms, inner = _sum_terms(ops, uses, absorbed, s, batched=True)
    xs: list[int] = []
    weights: list[int] = []
    bias = None
    for t in terms:
        op = ops[t]
        if op.kind == PARAM:
            if bias is not None:
                return None
            bias = op.index
        elif op.kind == GATE and op.gate is MUL and uses[t] == 1 and t not in absorbed:
            a, b = op.args
            if ops[a].kind == PARAM and ops[b].batched:
                weights.append(ops[a].index)
                xs.append(b)
            elif ops[b].kind == PARAM and ops[a].batched:
                weights.append(ops[b].index)
                xs.append(a)
            else:
                return None
            inner.append(t)
        else:
            return None
    if not xs:
        return None
    return tuple(xs), weights, bias, inner


def _sum_of_parameter_products(ops, uses, absorbed, s):
    """``(left, right, offset, absorbed)`` if op ``s`` is ``c + p1*q1 + p2*q2 + ...`` of parameters.

    The L2 penalty ``sum p * p`` is one: replayed as one dot product over the parameters.
    """
    terms, inner = _sum_terms(ops, uses, absorbed, s, batched=False)
    left: list[int] = []
    right: list[int] = []
    offset = 0.0  # constants among the terms: Python's sum() starts at 0
    for t in terms:
        op = ops[t]
        if op.kind == CONST:
            offset += op.value
            continue
        if op.kind != GATE or op.gate is not MUL or uses[t] != 1 or t in absorbed:
            return None
        a, b = op.args
        if ops[a].kind != PARAM or ops[b].kind != PARAM:
            return None
        left.append(ops[a].index)
        right.append(ops[b].index)
        inner.append(t)
    if len(left) < 2 or len(set(left)) != len(left) or len(set(right)) != len(right):
        return None
    return left, right, offset, inner


def _lane_group(ops, consumers, lane_of, blocks, grouped, absorbed, block, c0):
    """The ops, one per lane of ``block``, that apply ``c0``'s gate lane for lane; or None."""
    op0 = ops[c0]
    if op0.kind != GATE or not op0.batched or c0 in grouped or c0 in lane_of or c0 in absorbed:
        return None
    m = len(blocks[block])
    pattern = []
    for a in op0.args:
        if a in lane_of and lane_of[a][1] == 0 and len(blocks.get(lane_of[a][0], ())) == m:
            pattern.append(("block", lane_of[a][0]))
        elif ops[a].kind == CONST:
            pattern.append(("const", ops[a].value))  # each neuron has its own leaf for 2.0
        elif not ops[a].batched:
            pattern.append(("scalar", a))
        else:
            return None
    members = [c0]
    for j in range(1, m):
        lane = blocks[block][j]
        match = None
        for c in consumers[lane]:
            op = ops[c]
            if op.gate is not op0.gate or c in grouped or c in lane_of or c in absorbed or c in members:
                continue
            if all(
                (kind == "block" and blocks[what][j] == a)
                or (kind == "scalar" and a == what)
                or (kind == "const" and ops[a].kind == CONST and ops[a].value == what)
                for (kind, what), a in zip(pattern, op.args)
            ):
                match = c
                break
        if match is None:
            return None
        members.append(match)
    return members, tuple(pattern)


def _ordered(program, made, lane_of, absorbed):
    """Items in an order where every value is made before it is read; None if there is none."""
    ops = program.ops
    item_of: dict[int, object] = {}
    for item in made:
        for s in item.lanes:
            item_of[s] = item
    singles = {s: Single(s) for s in range(len(ops)) if s not in absorbed and s not in item_of}
    item_of.update(singles)

    def needs(item) -> list:
        if isinstance(item, Single):
            reads = ops[item.slot].args
        elif isinstance(item, Dense):
            reads = item.inputs
        elif isinstance(item, ParameterDot):
            reads = []
        else:
            reads = [s for lane in item.lanes for s in ops[lane].args]
        return [item_of[a] for a in reads if a in item_of and item_of[a] is not item]

    position = {}
    for s, item in item_of.items():
        position[id(item)] = max(position.get(id(item), -1), s)
    everything = sorted({id(i): i for i in item_of.values()}.values(), key=lambda i: position[id(i)])
    state: dict[int, int] = {}  # 1: on the stack, 2: placed
    order = []
    for start in everything:
        if state.get(id(start)) == 2:
            continue
        stack = [(start, iter(needs(start)))]
        state[id(start)] = 1
        while stack:
            item, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                stack.pop()
                state[id(item)] = 2
                order.append(item)
            elif state.get(id(nxt)) == 1:
                return None  # a cycle
            elif state.get(id(nxt)) != 2:
                state[id(nxt)] = 1
                stack.append((nxt, iter(needs(nxt))))
    return order
