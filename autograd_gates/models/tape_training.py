"""Training on the tape: ``fit(..., engine="tape")`` replays the model's circuit for the whole batch.

The model and its loss are traced once, on one sample, as a per-sample circuit: the model's
gates, then the loss of that one sample with its target as a data input (``(1 - t * s).relu()``
for the hinge). The batch's mean (or sum) and the L2 penalty close the program. Each step then
replays it for the batch with numpy (``engine.tape``, fused: layers become matrix products) and
writes each parameter's gradient into ``.grad``, so the optimizer steps exactly as after
``total.backward()``. The results are the scalar engine's, to rounding.

A loss function of your own (``fit(loss=callable)``) takes the whole batch and can couple
samples, so it cannot be split per sample: it trains on the scalar engine. Each loss by name has
its per-sample form here, written with the same gates in the same order as ``losses.py``, and
branch-free: the softmax cross-entropy picks the target's score with a one-hot vector of data
inputs (``sum_k t_k * z_k``), not with Python indexing, so one trace serves every label.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine.tape import Tape
from ..engine.value import Value
from . import losses
from .activations import logsumexp, softplus

__all__ = ["TapeTrainer", "PER_SAMPLE", "ENGINES", "choose_engine"]

ENGINES = ("auto", "tape", "scalar")


def _outputs(out: Any) -> list[Value]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _hinge(t: list[Value], out: list[Value]) -> Value:
    return (1.0 - t[0] * out[0]).relu()


def _bce_logits(t: list[Value], out: list[Value]) -> Value:
    return softplus(out[0]) - t[0] * out[0]


def _bce(t: list[Value], out: list[Value]) -> Value:
    p = out[0].max(losses.DEFAULT_CLIP).min(1.0 - losses.DEFAULT_CLIP)
    return -(t[0] * p.log() + (1.0 - t[0]) * (1.0 - p).log())


def _softmax_cross_entropy(t: list[Value], out: list[Value]) -> Value:
    picked = t[0] * out[0]
    for tk, zk in zip(t[1:], out[1:]):
        picked = picked + tk * zk  # the target's score: one-hot targets, no branch on the label
    return logsumexp(out) - picked


def _squared(t: list[Value], out: list[Value]) -> Value:
    return (t[0] - out[0]) ** 2


@dataclass(frozen=True)
class PerSample:
    """A loss by name, one sample at a time: ``term(targets, outputs)``, then ``reduce`` over the batch."""

    term: Callable[[list[Value], list[Value]], Value]
    reduce: str = "mean"
    scale: float | None = None  # sum_of_squares: 1/2 of the sum
    one_hot: bool = False  # targets fed as one column per class
    # Class predictions from the outputs (one row per sample), for the accuracy.
    predict: Callable[[np.ndarray], np.ndarray] | None = None


PER_SAMPLE: dict[str, PerSample] = {
    "hinge": PerSample(_hinge, predict=lambda out: np.where(out[:, 0] > 0, 1.0, -1.0)),
    "bce_logits": PerSample(_bce_logits, predict=lambda out: np.where(out[:, 0] > 0, 1.0, 0.0)),
    "bce": PerSample(_bce, predict=lambda out: np.where(out[:, 0] >= 0.5, 1.0, 0.0)),
    "softmax_cross_entropy": PerSample(
        _softmax_cross_entropy, one_hot=True, predict=lambda out: np.argmax(out, axis=1).astype(float)
    ),
    "mse": PerSample(_squared),
    "sum_of_squares": PerSample(_squared, reduce="sum", scale=0.5),
}


# Below this many parameter-samples per step (a SigmoidNeuron on four points: 3 x 4), tracing costs
# more than replaying saves, and the scalar engine finishes first (measured: a few ms either way).
SMALL_STEP = 32


def choose_engine(engine: str, loss: object, n_params: int = SMALL_STEP, batch: int = 1) -> str:
    """``"tape"`` or ``"scalar"`` for ``fit``. ``"auto"`` takes the tape for a loss by name, unless a
    step is tiny (``n_params * batch < SMALL_STEP``), and the scalar engine for a loss function of
    your own (it takes the whole batch, so it cannot be traced one sample at a time)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    by_name = isinstance(loss, str) and loss in PER_SAMPLE
    if engine == "tape" and not by_name:
        raise ValueError(
            "engine='tape' needs a loss by name (one of " + ", ".join(PER_SAMPLE) + "): a loss "
            "function of your own takes the whole batch, so it cannot be traced one sample at a time; "
            "use engine='scalar'"
        )
    if engine == "auto":
        return "tape" if by_name and n_params * batch >= SMALL_STEP else "scalar"
    return engine


class TapeTrainer:
    """The model's and loss's per-sample circuit on a tape, for ``fit``'s loop.

    Traced on the first batch's first sample (``check_trace`` then traces a few more samples of
    that batch again, to catch a model that branches on its data).
    """

    def __init__(
        self,
        model: Callable[[Sequence[Value]], Any],
        params: list[Value],
        loss: str,
        n_features: int,
        n_classes: int | None,
        l2: float,
        predict: Callable[[Any], float] | None,
    ) -> None:
        self.model = model
        self.params = params
        self.spec = PER_SAMPLE[loss]
        self.loss = loss
        self.n_features = n_features
        self.n_classes = n_classes
        self.l2 = l2
        self.custom_predict = predict  # None: the loss's own, computed on the arrays
        self.tape: Tape | None = None
        self.n_outputs = 0

    def _columns(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.spec.one_hot:
            targets = np.zeros((len(y), self.n_classes))
            targets[np.arange(len(y)), y.astype(int)] = 1.0
        else:
            targets = y[:, None]
        return np.hstack([X, targets])

    def prepare(self, X: np.ndarray, y: np.ndarray) -> None:
        """Trace on the first sample; trace a few samples again to check they take the same path."""
        if self.spec.one_hot and self.n_classes is None:
            raise ValueError(
                f"{self.loss} on the tape needs the number of classes: the model has no n_outputs"
            )
        self.tape = self._trace(self._columns(X, y))
        if self.spec.one_hot and self.n_outputs != self.n_classes:
            raise ValueError(
                f"the model gives {self.n_outputs} outputs but says n_outputs = {self.n_classes}"
            )

    def _trace(self, batch: np.ndarray) -> Tape:
        spec, n = self.spec, self.n_features
        params = self.params
        l2 = self.l2

        def per_sample(*inputs: Value):
            out = _outputs(self.model(list(inputs[:n])))
            self.n_outputs = len(out)
            term = spec.term(list(inputs[n:]), out)
            return term, {f"out{k}": o for k, o in enumerate(out)}

        def total(reduced: Value) -> Value:
            if spec.scale is not None:
                reduced = spec.scale * reduced
            return reduced + losses.l2_penalty(params, l2) if l2 else reduced

        names = [f"x{i}" for i in range(n)] + [f"t{k}" for k in range(batch.shape[1] - n)]
        tape = Tape.trace(per_sample, batch[0], params, names=names, reduce=spec.reduce, then=total)
        tape.check_trace(batch)
        return tape

    def forward(self, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """The batch's total loss, and the model's outputs (one row per sample)."""
        if self.tape is None:
            self.prepare(X, y)
        total = self.tape.forward(self._columns(X, y))
        outputs = np.column_stack([self.tape.output(f"out{k}") for k in range(self.n_outputs)])
        if self.loss == "bce":
            _check_probabilities(outputs[:, 0])
        return float(total), outputs

    def correct(self, outputs: np.ndarray, y: np.ndarray) -> int:
        """How many samples the outputs classify right."""
        if self.custom_predict is not None:
            predicted = [self.custom_predict([Value(v) for v in row]) for row in outputs.tolist()]
            return int(sum(p == t for p, t in zip(predicted, y.tolist())))
        return int(np.sum(self.spec.predict(outputs) == y))

    def backward(self) -> None:
        """Each parameter's gradient of the last batch's total, added into its ``.grad``."""
        self.tape.backward(inputs=False)


def _check_probabilities(p: np.ndarray) -> None:
    bad = ~((p >= 0.0) & (p <= 1.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"probabilities[{i}] = {float(p[i])!r} is not a probability in [0, 1]")

