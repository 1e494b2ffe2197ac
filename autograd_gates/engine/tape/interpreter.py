"""The interpreter: replay a program op by op over a batch, one numpy call per gate.

The reference replay: the compiled and fused replays must give its answers. In ``checked`` mode
it also looks at every op's result, and on the first sample a gate refuses (outside its domain,
or a result too large for a float) raises the scalar gate's own error, naming the gate, its
operands and the sample. The other replays run unchecked, with numpy's floating-point errors
raised, and come back here to explain one.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import (
    DomainError,
    GateDomainError,
    GateError,
    GateGradientError,
    GateOverflowError,
    GateZeroDivisionError,
)
from ..formula import format_formula
from ..table import OPERAND_NAMES
from .arrays import ArrayForms, array_forms
from .recording import CONST, GATE, INPUT, PARAM, REDUCE, Op, Program

__all__ = ["Interpreter", "refusal", "gradient_error", "sum_product"]


def sum_product(partial: object, grad: np.ndarray) -> float:
    """``sum(partial * grad)`` over the batch: what a number (a parameter) read by every sample gets."""
    if np.ndim(partial):
        return float(np.vdot(partial, grad))
    return float(partial) * float(np.add.reduce(grad, axis=None))


class Interpreter:
    """Forward and backward over a batch, walking the program's ops in order."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.forms: list[ArrayForms | None] = [
            array_forms(op.gate) if op.kind == GATE and op.batched else None for op in program.ops
        ]

    def forward(self, X: np.ndarray, P: list[float], checked: bool = False) -> list:
        """Every op's value: an array of ``N`` for a batched op, a float otherwise.

        ``X`` holds one row per data input (``(n_inputs, N)``), ``P`` the parameters' values.
        """
        n = X.shape[1]
        ops = self.program.ops
        values: list = []
        push = values.append
        for slot, op in enumerate(ops):
            kind = op.kind
            if kind == GATE:
                operands = [values[a] for a in op.args]
                if op.batched:
                    push(self._batched(slot, op, operands, n, checked))
                else:
                    push(_scalar(self.program, slot, op, operands))
            elif kind == INPUT:
                push(X[op.index])
            elif kind == PARAM:
                push(P[op.index])
            elif kind == CONST:
                push(op.value)
            else:  # REDUCE
                push(_reduce(self.program, slot, op, values[op.args[0]], n))
        return values

    def _batched(self, slot: int, op: Op, operands: list, n: int, checked: bool) -> np.ndarray:
        forms = self.forms[slot]
        if not checked:
            out = forms.forward(*operands)
            mask = forms.defined(*operands)
            if mask is not None and not np.all(mask):
                raise _Refused(slot)
            return out
        with np.errstate(all="ignore"):
            out = np.broadcast_to(np.asarray(forms.forward(*operands), dtype=float), (n,))
            mask = forms.defined(*operands)
        bad = ~np.isfinite(out)
        if mask is not None:
            bad |= ~np.broadcast_to(mask, (n,))
        if bad.any():
            row = int(np.argmax(bad))
            floats = [float(np.broadcast_to(v, (n,))[row]) for v in operands]
            raise refusal(self.program, slot, floats, row)
        return out

    def backward(
        self, values: list, seed: float, n: int, inputs: bool, careful: bool = False
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """Gradients of the root: per sample for the data inputs, summed over the batch for parameters.

        ``careful`` follows ``Value.backward`` to the letter where gradients stop being finite: a
        zero upstream gradient contributes exactly zero, whatever the local derivative, and a
        contribution that is infinite or NaN raises ``GateGradientError`` naming the gate, the
        operand and the sample. The fast replays come here when their gradients are not finite.
        """
        program = self.program
        ops = program.ops
        needs = program.needs_grad(inputs)
        grads: list = [None] * len(ops)
        root = program.root
        grads[root] = np.full(n, float(seed)) if ops[root].batched else float(seed)
        for slot in range(len(ops) - 1, -1, -1):
            g = grads[slot]
            if g is None or not needs[slot]:
                continue
            op = ops[slot]
            if op.kind == GATE:
                operands = [values[a] for a in op.args]
                with np.errstate(all="ignore"):
                    if op.batched:
                        partials = self.forms[slot].partials(*operands, values[slot])
                    elif careful and g == 0.0:
                        continue
                    else:
                        partials = op.gate.partials(*operands, values[slot])
                    for t, (a, partial) in enumerate(zip(op.args, partials)):
                        if not needs[a]:
                            continue
                        if not op.batched:
                            term = partial * g
                            if careful:
                                self._check(slot, t, operands, partial, g, term, grads[a], None, n)
                            grads[a] = (grads[a] or 0.0) + term
                        elif ops[a].batched:
                            term = partial * g
                            if careful:
                                term = np.where(g == 0.0, 0.0, term)
                                self._check(slot, t, operands, partial, g, term, grads[a], None, n)
                            grads[a] = term if grads[a] is None else grads[a] + term
                        elif careful:
                            terms = np.where(g == 0.0, 0.0, partial * g)
                            self._check(slot, t, operands, partial, g, terms, None, None, n)
                            total = (grads[a] or 0.0) + float(np.add.reduce(terms, axis=None))
                            self._check(slot, t, operands, partial, g, terms, None, total, n)
                            grads[a] = total
                        else:
                            grads[a] = (grads[a] or 0.0) + sum_product(partial, g)
            elif op.kind == REDUCE:
                (a,) = op.args
                if not needs[a]:
                    continue
                share = g * (1.0 / n) if op.reduction == "mean" else g
                if ops[a].batched:
                    contribution = np.full(n, share)
                    grads[a] = contribution if grads[a] is None else grads[a] + contribution
                else:
                    grads[a] = (grads[a] or 0.0) + (g if op.reduction == "mean" else g * n)
        grad_inputs = np.zeros((len(program.input_names), n)) if inputs else None
        grad_params = np.zeros(len(program.parameters))
        for slot, op in enumerate(ops):
            if grads[slot] is None:
                continue
            if op.kind == INPUT and inputs:
                grad_inputs[op.index] += grads[slot]
            elif op.kind == PARAM:
                grad_params[op.index] += grads[slot]
        return grad_inputs, grad_params

    def _check(self, slot: int, t: int, operands: list, partial: object, g: object, term: object,
               before: object, total: float | None, n: int) -> None:
        """Raise ``GateGradientError`` if ``term`` (or the running ``total``) is not finite."""
        terms = np.broadcast_to(np.asarray(term, dtype=float), (n,) if np.ndim(term) else ())
        if before is not None:
            terms = terms + before
        bad = ~np.isfinite(terms)
        if total is None and not bad.any():
            return
        if total is not None and math.isfinite(total):
            return
        row = int(np.argmax(bad)) if np.ndim(bad) and bad.any() else 0
        pick = lambda v: float(np.broadcast_to(v, (n,))[row]) if np.ndim(v) else float(v)  # noqa: E731
        result = total if total is not None else pick(terms)
        raise gradient_error(self.program, slot, t, [pick(v) for v in operands], pick(partial), pick(g),
                             result, row if self.program.ops[slot].batched else None)


class _Refused(Exception):
    """A replay met a sample outside a gate's domain; the checked interpreter says which."""


def _scalar(program: Program, slot: int, op: Op, operands: list[float]) -> float:
    """A gate of numbers only (parameters, constants): the scalar engine's own forward."""
    try:
        out = op.gate.forward(*operands)
    except (DomainError, ZeroDivisionError, OverflowError):
        raise refusal(program, slot, operands, None) from None
    if out - out != 0.0:
        raise refusal(program, slot, operands, None)
    return out


def _reduce(program: Program, slot: int, op: Op, source: object, n: int) -> float:
    if isinstance(source, np.ndarray):
        total = float(np.add.reduce(source))
        out = total / n if op.reduction == "mean" else total
    else:
        out = source if op.reduction == "mean" else source * n
    if not math.isfinite(out):
        raise GateOverflowError(
            f"the {op.reduction} over the batch of %{op.args[0]} ({describe_operand(program, op.args[0])}) "
            f"overflows a float",
            op.reduction,
        )
    return out


def gradient_error(program: Program, slot: int, index: int, operands: list[float], local: float, dx: float,
                   result: float, sample: int | None) -> GateGradientError:
    """The error of a backward step whose result is not finite, in ``Value.backward``'s words."""
    op = program.ops[slot]
    gate = op.gate
    name = OPERAND_NAMES[index]
    shown = ", ".join(
        f"{n} = {value!r} ({describe_operand(program, a)})"
        for n, value, a in zip(OPERAND_NAMES, operands, op.args)
    )
    where = f" in sample {sample} of the batch" if sample is not None else ""
    why = "overflows a float" if local - local == 0.0 else f"has the local derivative {local!r} here"
    error = GateGradientError(
        f"backward through the {gate.name} gate (x = {gate.expr}) at %{slot} at {shown}{where} gives "
        f"d{name} = {format_formula(gate.local_trees[index])} * dx = {local!r} * {dx!r} = {result!r}: "
        f"the gradient of operand {name} {why}. The parameters' gradients are left as they were.",
        gate.name,
    )
    error.sample = sample
    error.slot = slot
    return error


def describe_operand(program: Program, slot: int) -> str:
    op = program.ops[slot]
    if op.kind == INPUT:
        return f"data input {op.label!r}"
    if op.kind == PARAM:
        return f"parameter {op.label!r}" if op.label else f"parameter #{op.index}"
    if op.kind == CONST:
        return "a constant"
    name = f"the {op.gate.name} gate" if op.kind == GATE else f"the {op.reduction}"
    return f"{name} at %{slot}" + (f" (label {op.label!r})" if op.label else "")


def refusal(program: Program, slot: int, operands: list[float], sample: int | None) -> GateError:
    """The error of a gate that refused a sample: the scalar gate's own reason, with where and which."""
    op = program.ops[slot]
    gate = op.gate
    shown = ", ".join(
        f"{name} = {value!r} ({describe_operand(program, a)})"
        for name, value, a in zip(OPERAND_NAMES, operands, op.args)
    )
    if sample is not None:
        where = f"in sample {sample} of the batch"
    else:
        where = "(for every sample: no data input reaches it)"
    try:
        out = gate.forward(*operands)
    except (DomainError, ZeroDivisionError, OverflowError) as exc:
        # As Value says it: Python's own words for an overflow ("math range error") say less.
        reason = f"{gate.expr} overflows a float" if isinstance(exc, OverflowError) else str(exc)
        kind = exc
    else:
        if math.isfinite(out):
            raise RuntimeError(
                f"the array form of the {gate.name} gate disagrees with its scalar form at {shown}: "
                f"the scalar forward gives {out!r}, the array form a non-finite number or a domain error"
            )
        reason, kind = f"{gate.expr} overflows a float", OverflowError()
    message = f"{gate.name} gate (x = {gate.expr}) at %{slot} refused {shown} {where}: {reason}"
    if isinstance(kind, ZeroDivisionError):
        error: GateError = GateZeroDivisionError(message, gate.name)
    elif isinstance(kind, OverflowError):
        error = GateOverflowError(message, gate.name)
    else:
        error = GateDomainError(message, gate.name)
    error.sample = sample
    error.slot = slot
    return error
