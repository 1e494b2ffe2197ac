"""Saving a model's parameters to a file and loading them back.

The file is JSON: one object naming the format and the model it came from, and the parameters in
``model.parameters()`` order, each with its label and value::

    {"format": "autograd_gates.parameters", "version": 1, "model": "MLP(...)",
     "parameters": [{"label": "L1.n0.w0", "value": 0.0264...}, ...]}

Why JSON rather than numpy's ``.npz``: a model here has hundreds of scalars, not millions, so
size and speed do not matter; JSON is text a student can open, read and diff, it keeps each
parameter's label beside its value (which is what lets ``load`` say *which* parameter does not
fit), Python writes floats to it in the shortest form that reads back bit for bit, and loading it
runs no code (``np.load`` of an object array would need pickle).

``load`` checks everything before it changes anything: the format, the number of parameters,
each label against the model's, each value (a finite number). A mismatch is a ``ValueError`` that
says what was expected and what the file holds; the model is left as it was.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from ..engine.value import Value

__all__ = ["save_parameters", "load_parameters", "FORMAT", "VERSION"]

FORMAT = "autograd_gates.parameters"
VERSION = 1


class HasParameters(Protocol):
    def parameters(self) -> list[Value]: ...


def save_parameters(model: HasParameters, path: str | os.PathLike[str]) -> Path:
    """Write ``model.parameters()`` (labels and values) to ``path`` as JSON; return the path.

    The file is written next to ``path`` and then moved into place, so an error midway never
    leaves half a file where a good one was.
    """
    params = _parameters(model)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "model": repr(model),
        "parameters": [{"label": p.label, "value": p.data} for p in params],
    }
    path = Path(path)
    text = json.dumps(document, indent=1, allow_nan=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent or Path("."), prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_parameters(model: HasParameters, path: str | os.PathLike[str]) -> None:
    """Set ``model``'s parameters to the values saved in ``path`` by ``save_parameters``.

    Raises ``ValueError`` (and changes nothing) if the file is not such a file, or holds a
    different number of parameters, or a different label at some position (a model of another
    shape), or a value that is not a finite number.
    """
    params = _parameters(model)
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not a parameters file: it is not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'{path} is not a parameters file: it has no "format": {FORMAT!r}')
    if document.get("version") != VERSION:
        raise ValueError(
            f"{path} is version {document.get('version')!r} of the format; this library reads {VERSION}"
        )
    saved = document.get("parameters")
    if not isinstance(saved, list):
        raise ValueError(f'{path}: "parameters" must be a list, got {type(saved).__name__}')
    origin = f"{path} was saved from {document.get('model', '?')}; this model is {model!r}"
    if len(saved) != len(params):
        raise ValueError(f"{path} holds {len(saved)} parameters but the model has {len(params)}: {origin}")
    values = []
    for i, (entry, p) in enumerate(zip(saved, params)):
        label, value = _entry(entry, i, path)
        if label != p.label:
            raise ValueError(
                f"parameter {i} is {label!r} in {path} but {p.label!r} in the model: "
                f"the shapes differ ({origin})"
            )
        values.append(value)
    for p, value in zip(params, values):
        p.data = value


def _entry(entry: Any, i: int, path: Path) -> tuple[str, float]:
    if not isinstance(entry, dict) or "label" not in entry or "value" not in entry:
        raise ValueError(
            f'{path}: parameters[{i}] must be an object with a "label" and a "value", got {entry!r}'
        )
    label, value = entry["label"], entry["value"]
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(
            f"{path}: parameters[{i}] ({label!r}) has value {value!r}; a finite number is needed"
        )
    return str(label), float(value)


def _parameters(model: HasParameters) -> list[Value]:
    getter = getattr(model, "parameters", None)
    if not callable(getter):
        raise TypeError(f"model must have .parameters(), got {type(model).__name__}")
    params = list(getter())
    for i, p in enumerate(params):
        if p.__class__ is not Value:
            raise TypeError(f"{type(model).__name__}.parameters()[{i}] is a {type(p).__name__}, not a Value")
    return params
