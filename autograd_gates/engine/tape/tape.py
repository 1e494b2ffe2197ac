"""``Tape``: trace a circuit once, then replay it over a whole batch with numpy.

A scalar circuit walks one Python object per gate per sample; but the gates are the same for every
sample. A tape records them once, as a program (``recording``), and replays that program for a
batch, one row per sample, at one of three levels that all give the scalar engine's results:

* ``"interpreted"``: a loop over the ops, one numpy call per gate (``interpreter``);
* ``"compiled"``: the same calls as generated straight-line Python (``compiler``);
* ``"fused"``: the layers found and replayed as matrix products (``fusion``).

``backward()`` gives per-sample gradients for the data inputs and batch-summed gradients for
the parameters (added into each parameter's ``.grad``, as ``Value.backward`` does).

A bad batch (wrong shape, NaN or inf) or a sample a gate refuses (log of a negative in sample 37)
raises an error naming the gate, the operand and the sample; nothing is changed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import DomainError
from ..value import Value
from .compiler import Compiled, Single, compile_schedule, plain_schedule
from .fusion import fused_schedule
from .interpreter import Interpreter, _Refused
from .recording import REDUCTIONS, Program, record

__all__ = ["Tape", "TapeGradients", "TraceMismatchError", "LEVELS"]

LEVELS = ("interpreted", "compiled", "fused")
_FAILURES = (FloatingPointError, _Refused, DomainError, ZeroDivisionError, OverflowError)


class TraceMismatchError(ValueError):
    """A sample takes another path through the traced function than the recorded one.

    ``.sample`` is the sample's index in the batch, ``.slot`` the first op that differs.
    """

    def __init__(self, message: str, sample: int, slot: int) -> None:
        super().__init__(message)
        self.sample = sample
        self.slot = slot


@dataclass(frozen=True)
class TapeGradients:
    """What ``Tape.backward`` returns.

    ``inputs``: ``(N, n_inputs)``, the gradient of the root with respect to each sample's data
    (``None`` if not asked for). ``parameters``: one number per parameter, summed over the batch.
    """

    inputs: np.ndarray | None
    parameters: np.ndarray


class Tape:
    """A circuit recorded once, replayed for a batch.

    ``Tape(root, inputs, parameters)`` records the circuit computing ``root`` from one sample:
    ``inputs`` are its data leaves (in batch column order; a mapping names them), ``parameters``
    the leaves training changes. ``Tape.trace(fn, example, parameters)`` builds that circuit by
    calling ``fn`` on one sample, and can trace again to check that other samples take the same
    path (``check_trace``). See ``docs/tape.md``.
    """

    def __init__(
        self,
        root: Value,
        inputs: Sequence[Value] | Mapping[str, Value],
        parameters: Iterable[Value] = (),
        *,
        outputs: Mapping[str, Value] | None = None,
        reductions: Mapping[Value, tuple[str, Value]] | None = None,
        constants: Iterable[Value] = (),
        level: str = "fused",
    ) -> None:
        program = record(
            root, inputs, parameters, outputs=outputs, reductions=reductions, constants=constants
        )
        self._setup(program, level, None)

    @classmethod
    def trace(
        cls,
        fn: Callable[..., Value | tuple[Value, Mapping[str, Value]]],
        example: Sequence[float],
        parameters: Iterable[Value] = (),
        *,
        names: Sequence[str] | None = None,
        reduce: str | None = None,
        then: Callable[[Value], Value] | None = None,
        constants: Iterable[Value] = (),
        level: str = "fused",
    ) -> Tape:
        """Trace ``fn(*inputs)`` on one sample, ``example``, and record its circuit.

        ``fn`` takes one Value per data input and returns the per-sample Value (or that and a
        mapping of named per-sample Values to keep as outputs). With ``reduce="mean"`` (or
        ``"sum"``) the root is that value's mean over the batch, and ``then`` may build on it
        (``then=lambda loss: loss + l2_penalty(params, 1e-4)``).
        """
        parameters = list(parameters)
        constants = list(constants)
        example = [float(v) for v in np.asarray(example, dtype=float).ravel()]
        names = list(names) if names is not None else [f"x{i}" for i in range(len(example))]
        if len(names) != len(example):
            raise ValueError(f"names has {len(names)} entries but the example has {len(example)} inputs")
        if reduce is not None and reduce not in REDUCTIONS:
            raise ValueError(f"reduce must be one of {REDUCTIONS} or None, got {reduce!r}")
        if then is not None and reduce is None:
            raise ValueError("then= builds on the reduced value: pass reduce='mean' or 'sum' with it")

        def retrace(row: Sequence[float]) -> Program:
            inputs = [Value(v, label=name) for v, name in zip(row, names)]
            result = fn(*inputs)
            per_sample, extra = (result if isinstance(result, tuple) else (result, {}))
            if per_sample.__class__ is not Value:
                raise TypeError(f"fn must return a Value, got {type(per_sample).__name__} {per_sample!r}")
            outputs = {"sample": per_sample, **extra}
            reductions = None
            root = per_sample
            if reduce is not None:
                stat = Value(per_sample.data, label=f"{reduce} over the batch")
                reductions = {stat: (reduce, per_sample)}
                root = then(stat) if then is not None else stat
            return record(
                root,
                dict(zip(names, inputs)),
                parameters,
                outputs=outputs,
                reductions=reductions,
                constants=constants,
            )

        tape = cls.__new__(cls)
        tape._setup(retrace(example), level, retrace)
        return tape

    @classmethod
    def from_program(cls, program: Program, level: str = "fused",
                     retrace: Callable[[Sequence[float]], Program] | None = None) -> Tape:
        """A tape for a program already recorded; ``retrace(row)`` (if given) enables ``check_trace``."""
        tape = cls.__new__(cls)
        tape._setup(program, level, retrace)
        return tape

    def _setup(self, program: Program, level: str, retrace: Callable | None) -> None:
        if level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
        self.program = program
        self.level = level
        self._retrace = retrace
        self._interpreter = Interpreter(program)
        self._compiled: dict[str, Compiled] = {}
        self._state: tuple | None = None

    # -- what it holds ------------------------------------------------------------------------------

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.program.input_names

    @property
    def n_inputs(self) -> int:
        return len(self.program.input_names)

    @property
    def parameters(self) -> tuple[Value, ...]:
        return self.program.parameters

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.program.outputs)

    def __len__(self) -> int:
        return len(self.program)

    def __repr__(self) -> str:
        inputs, params = self.n_inputs, len(self.parameters)
        return (
            f"<Tape: {len(self.program)} ops, {inputs} data input{'' if inputs == 1 else 's'}, "
            f"{params} parameter{'' if params == 1 else 's'}, level {self.level!r}>"
        )

    def source(self, level: str | None = None) -> str:
        """The Python source the compiled (or fused) replay runs."""
        level = level or self.level
        if level == "interpreted":
            raise ValueError("the interpreted level runs no generated source; ask for 'compiled' or 'fused'")
        return self._executor(level).source

    def fused_blocks(self) -> list[str]:
        """What the fused replay groups: one line per matrix product, block-wide gate or dot product."""
        items = fused_schedule(self.program).items
        return [item.describe() for item in items if not isinstance(item, Single)]

    # -- replay -------------------------------------------------------------------------------------

    def forward(self, batch: object) -> float | np.ndarray:
        """Replay the program on ``batch`` (one row per sample, one column per data input).

        Returns the root's value: one number if the program reduces over the batch, else one
        number per sample. Named outputs are read with ``output(name)``.
        """
        X = self._checked_batch(batch)
        P = self._parameter_values()
        n = X.shape[1]
        self._state = None
        if self.level == "interpreted":
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                try:
                    values = self._interpreter.forward(X, P)
                except _FAILURES:
                    values = None
            if values is None:
                values = self._interpreter.forward(X, P, checked=True)
            self._state = ("interpreted", values, n, X, P)
            return self._root_value()
        compiled = self._executor(self.level)
        PA = self._parameter_array = np.array(P)
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                result = compiled.forward(X, P, PA, n)
        except _FAILURES:
            # Find the gate and the sample (this raises), or, for a false alarm, give its values.
            values = self._interpreter.forward(X, P, checked=True)
            self._state = ("interpreted", values, n, X, P)
        else:
            self._state = (self.level, result, n, X, P)
        return self._root_value()

    def output(self, name: str) -> np.ndarray | float:
        """A named output of the last ``forward``, one number per sample (``"sample"``: what fn returned)."""
        if name not in self.program.outputs:
            raise KeyError(f"no output named {name!r}; the outputs are {list(self.program.outputs)}")
        state = self._last_state()
        slot = self.program.outputs[name]
        kind, result, n = state[:3]
        if kind == "interpreted":
            return _as_batch(result[slot], self.program.ops[slot].batched, n)
        position = list(self.program.outputs).index(name)
        return _as_batch(result[1][position], self.program.ops[slot].batched, n)

    def backward(self, seed: float = 1.0, *, inputs: bool = True) -> TapeGradients:
        """Backpropagate the last ``forward`` from the root (seeded with ``seed`` per sample).

        Each parameter's batch-summed gradient is *added* to its ``.grad`` (as ``Value.backward``
        accumulates into leaves) and returned; ``inputs=False`` skips the per-sample input gradients.
        """
        kind, result, n, X, P = self._last_state()
        seed = float(seed)
        if not math.isfinite(seed):
            raise ValueError(f"backward seed must be finite, got {seed!r}")
        with np.errstate(all="ignore"):
            if kind == "interpreted":
                grad_inputs, grad_params = self._interpreter.backward(result, seed, n, inputs)
            else:
                compiled = self._executor(kind)
                grad_inputs = np.zeros((self.n_inputs, n)) if inputs else None
                run = compiled.backward if inputs else compiled.backward_parameters
                grad_params = run(result[2], seed, n, grad_inputs, self._parameter_array)
        finite = np.isfinite(grad_params).all() and (grad_inputs is None or np.isfinite(grad_inputs).all())
        if not finite:
            # Value.backward's rules where a gradient is not finite: redo it carefully, which
            # raises GateGradientError naming the gate and the sample (and changes nothing),
            # or gives finite gradients where the only trouble was an infinite rule times dx = 0.
            values = result if kind == "interpreted" else self._interpreter.forward(X, P, checked=True)
            with np.errstate(all="ignore"):
                grad_inputs, grad_params = self._interpreter.backward(values, seed, n, inputs, careful=True)
        for p, g in zip(self.program.parameters, grad_params.tolist()):
            p.grad += g
        return TapeGradients(grad_inputs.T.copy() if grad_inputs is not None else None, grad_params)

    def check_trace(self, batch: object, rows: Iterable[int] | None = None) -> None:
        """Trace the function again on some samples; raise ``TraceMismatchError`` if one takes another path.

        Python control flow over ``.data`` (``if x.data > 0``) is invisible in a recorded circuit:
        a sample on the other branch would silently replay the wrong gates. Tracing a sample
        again and comparing the programs op by op catches it for the samples checked (by
        default the first, the last and up to 6 spread between).
        """
        if self._retrace is None:
            raise ValueError("this tape was recorded from a root, not traced from a function: "
                             "it cannot trace again (use Tape.trace)")
        X = self._checked_batch(batch).T
        n = X.shape[0]
        if rows is None:
            rows = sorted(set(np.linspace(0, n - 1, min(n, 8)).round().astype(int).tolist()))
        for row in rows:
            if not 0 <= row < n:
                raise IndexError(f"row {row} is outside the batch of {n} samples")
            again = self._retrace(X[row].tolist())
            slot = self.program.first_difference(again)
            if slot is not None:
                mine = self.program.ops[slot].describe(slot) if slot < len(self.program) else "(the end)"
                theirs = again.ops[slot].describe(slot) if slot < len(again) else "(the end)"
                raise TraceMismatchError(
                    f"sample {row} takes another path through the traced function: at op %{slot} the trace "
                    f"recorded `{mine}` but this sample gives `{theirs}`. The function branches on a "
                    f"value (Python control flow over .data); write the branch with gates (max, relu) "
                    f"so one trace serves every sample.",
                    row,
                    slot,
                )

    # -- helpers ------------------------------------------------------------------------------------

    def _executor(self, level: str) -> Compiled:
        compiled = self._compiled.get(level)
        if compiled is None:
            schedule = fused_schedule(self.program) if level == "fused" else plain_schedule(self.program)
            compiled = compile_schedule(self.program, schedule, name=f"{level} tape")
            self._compiled[level] = compiled
        return compiled

    def _last_state(self) -> tuple:
        if self._state is None:
            raise RuntimeError("call forward(batch) first (a failed forward leaves nothing to backpropagate)")
        return self._state

    def _root_value(self) -> float | np.ndarray:
        kind, result, n = self._state[:3]
        root = self.program.root
        value = result[root] if kind == "interpreted" else result[0]
        return _as_batch(value, self.program.ops[root].batched, n)

    def _parameter_values(self) -> list[float]:
        values = [p.data for p in self.program.parameters]
        if not math.isfinite(math.fsum(values)):  # one pass; inf - inf or a NaN anywhere shows here
            for i, v in enumerate(values):
                if not math.isfinite(v):
                    p = self.program.parameters[i]
                    raise ValueError(f"parameter {p.label or i!r} holds {v!r}; parameters must be finite")
        return values

    def _checked_batch(self, batch: object) -> np.ndarray:
        """The batch as ``(n_inputs, N)`` contiguous float64 (a row per data input), or a clear error."""
        names = self.program.input_names
        if isinstance(batch, (str, bytes)):
            raise TypeError(f"batch must be a 2-D array of numbers, got {type(batch).__name__}")
        try:
            array = np.asarray(batch, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"batch must be a rectangular 2-D array of numbers ({exc})") from None
        if array.ndim != 2 or array.shape[1] != len(names):
            raise ValueError(
                f"batch must have shape (n_samples, {len(names)}): one row per sample, one column per "
                f"data input {list(names)}; got shape {array.shape}"
            )
        if array.shape[0] == 0:
            raise ValueError("batch is empty: at least one sample is needed")
        bad = ~np.isfinite(array)
        if bad.any():
            row, col = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"batch holds {float(array[row, col])!r} in sample {row}, data input {names[col]!r} "
                f"(column {col}); {int(bad.sum())} non-finite entries in all. Inputs must be finite numbers"
            )
        return np.ascontiguousarray(array.T)


def _as_batch(value: object, batched: bool, n: int) -> float | np.ndarray:
    if not batched:
        return float(value)
    return np.array(np.broadcast_to(value, (n,)), dtype=float)
