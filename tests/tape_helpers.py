"""What the tape tests share: the scalar engine's answers for a batch, and how close is close.

The reference is the scalar engine itself: the traced function is built again for every sample
with Values, and ``backward()`` run on each (parameters accumulate, as the tape sums them).

Closeness is relative to the size of the computation: a tape value must lie within ``1e-12``
of the largest magnitude among the *scalar circuit's* values for that sample, and a gradient
(a data input's, per sample, or a parameter's, summed over the batch) within ``1e-12`` of the
size of the sum it is: backward run on magnitudes (``|local derivative| * |dx|`` along every
path), in every sample. That is what "equal to rounding" means when additions are reordered (a
matrix product adds the same terms in another order) or when a table function rounds its last bit
differently from numpy's: a result that cancels down to nearly 0 keeps an error of the size of
its terms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from autograd_gates import Value, topological_order
from autograd_gates.engine.tape import LEVELS, Tape

RTOL = 1e-12


@dataclass
class Reference:
    values: np.ndarray  # (N,) the root per sample
    input_grads: np.ndarray  # (N, n_inputs)
    param_grads: np.ndarray  # (n_params,) summed over the batch
    value_scale: np.ndarray  # (N,) the largest |value| in each sample's circuit
    input_scale: np.ndarray  # (N, n_inputs) the sum of |terms| of each input's gradient
    param_scale: np.ndarray  # (n_params,) the sum of |terms| of each parameter's gradient, all samples
    circuits: list  # each sample's root, kept for inspection (kinks)


def scalar_reference(fn: Callable[..., Value], batch: np.ndarray, params: Sequence[Value],
                     names: Sequence[str] | None = None) -> Reference:
    batch = np.asarray(batch, dtype=float)
    names = names or [f"x{i}" for i in range(batch.shape[1])]
    values, input_grads, value_scale, input_scale = [], [], [], []
    per_sample = []
    roots = []
    param_scale = np.zeros(len(params))
    for row in batch.tolist():
        for p in params:
            p.grad = 0.0
        xs = [Value(v, label=n) for v, n in zip(row, names)]
        root = fn(*xs)
        root.backward()
        nodes = topological_order(root)
        terms = _term_sizes(nodes)
        values.append(root.data)
        input_grads.append([x.grad for x in xs])
        value_scale.append(max(abs(n.data) for n in nodes))
        input_scale.append([terms.get(id(x), 0.0) for x in xs])
        param_scale += [terms.get(id(p), 0.0) for p in params]
        per_sample.append([p.grad for p in params])
        roots.append(root)
    for p in params:
        p.grad = 0.0
    per_sample = np.array(per_sample).reshape(len(values), len(params))
    return Reference(
        values=np.array(values),
        input_grads=np.array(input_grads),
        param_grads=per_sample.sum(axis=0),
        value_scale=np.array(value_scale),
        input_scale=np.array(input_scale),
        param_scale=param_scale,
        circuits=roots,
    )


def _term_sizes(nodes: list[Value]) -> dict[int, float]:
    """For each node, the size of the sum its gradient is: backward with every local derivative
    and every upstream gradient taken by its magnitude (the sum over all paths of ``|products|``).

    A gradient that cancels to nearly 0 anywhere on the way (``e / e``) keeps the size of its terms.
    """
    sizes: dict[int, float] = {id(nodes[-1]): 1.0}
    for node in reversed(nodes):
        size = sizes.get(id(node), 0.0)
        if node.gate is None or size == 0.0:
            continue
        operands = node.parents
        partials = node.gate.partials(*(p.data for p in operands), node.data)
        for operand, partial in zip(operands, partials):
            sizes[id(operand)] = sizes.get(id(operand), 0.0) + abs(partial) * size
    return sizes


def assert_close(actual: np.ndarray, expected: np.ndarray, scale: np.ndarray, what: str) -> None:
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    scale = np.broadcast_to(np.asarray(scale, dtype=float), expected.shape)
    allowed = RTOL * np.maximum(np.maximum(scale, np.abs(expected)), 1e-300)
    error = np.abs(actual - expected)
    bad = ~(error <= allowed)
    if bad.any():
        i = np.unravel_index(int(np.argmax(bad)), bad.shape)
        raise AssertionError(
            f"{what}: at {tuple(int(k) for k in i)} the tape gives {actual[i]!r}, the scalar engine "
            f"{expected[i]!r} (error {error[i]:.3g}, allowed {allowed[i]:.3g}); {int(bad.sum())} differ"
        )


def check_tape_against_scalar(fn: Callable[..., Value], batch: np.ndarray, params: Sequence[Value],
                              levels: Sequence[str] = LEVELS) -> Reference:
    """Every level's per-sample values, input gradients and summed parameter gradients match."""
    reference = scalar_reference(fn, batch, params)
    for level in levels:
        tape = Tape.trace(fn, batch[0], params, level=level)
        before = [p.grad for p in params]
        values = tape.forward(batch)
        grads = tape.backward()
        assert_close(values, reference.values, reference.value_scale, f"{level}: values")
        assert_close(grads.inputs, reference.input_grads, reference.input_scale, f"{level}: input gradients")
        assert_close(grads.parameters, reference.param_grads, reference.param_scale, f"{level}: param grads")
        # ... and they were added into each parameter's .grad
        assert_close([p.grad - b for p, b in zip(params, before)], reference.param_grads,
                     reference.param_scale, f"{level}: .grad")
        for p in params:
            p.grad = 0.0
    return reference
