"""``register_gate``: add an op to the table at run time, checked before it is let in.

One call, and the new op works everywhere the table is read: ``apply_gate`` and
``build``/``parse`` (it is a function of the language), ``explain``, ``draw_dot``, ``gradcheck``,
the hypothesis strategies and the tape::

    from autograd_gates import register_gate, apply_gate, Value
    import math

    register_gate("softsign", forward=lambda a: a / (1 + abs(a)), local=("1 / (1 + abs(a)) ** 2",))
    y = apply_gate("softsign", Value(2.0, "a"))

A gate is refused, with a ``GateRegistrationError`` saying which check failed, and the table is
left exactly as it was, when: its name clashes (with an op, an alias, a constant or a keyword);
its rule texts do not match its arity (a unary gate whose rule mentions ``b``, a forward taking
two operands for one rule); a text does not parse or does not evaluate to a finite number; or,
at sample points inside its stated domain, its rules disagree with a numerical derivative of
its forward (or its composition, if it has one, disagrees with it).
"""

from __future__ import annotations

import inspect
import keyword
import math
import re
from collections.abc import Callable, Sequence

import numpy as np

from ..engine.circuit import build
from ..engine.errors import GateError, GateRegistrationError
from ..engine.formula import RESERVED, Expr, ExpressionError, parse, parse_rule
from ..engine.gates import GateSpec, install, uninstall
from ..engine.table import GATES, OPERAND_NAMES, Condition, Gate
from ..engine.value import Value, apply_gate
from .numerical import REL_STEP
from .suspects import _check_local_rule
from .verdict import Tolerance

__all__ = ["register_gate", "unregister_gate", "UNARY_SAMPLES", "BINARY_SAMPLES"]

# Where a new gate is tried: off the integers, where kinks and domain edges like to sit.
UNARY_SAMPLES = ((-2.7,), (-1.3,), (-0.6,), (0.35,), (0.8,), (1.9,), (3.1,))
BINARY_SAMPLES = tuple((a, b) for a in (-2.3, -0.7, 0.45, 1.6, 2.9) for b in (-1.9, -0.4, 0.6, 1.3, 3.3))
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def register_gate(
    name: str,
    forward: Callable[..., float],
    local: str | Sequence[str],
    *,
    domain: str | Sequence[str | tuple[str, str]] = "",
    composition: str = "",
    definition: str = "",
    array_forward: Callable[..., object] | None = None,
    defaults: Sequence[float] = (),
    symbol: str = "",
    note: str = "",
    samples: Sequence[Sequence[float]] | None = None,
) -> Gate:
    """Check a new op and add it to the table; returns its ``Gate``.

    ``forward`` computes the output from one or two floats; ``local`` gives each operand's
    local derivative as text in the slides' notation (operands ``a``, ``b``, output ``x``; calls
    of the table's functions, ``x if test else y``). ``domain`` is a condition text (``"a > 0"``)
    or several (each may be a ``(text, message)`` pair); ``composition`` makes it a composite
    gate (how it is built from other gates, shown by ``expand=True``); ``definition`` is its
    mathematics for the docs. ``array_forward`` is its numpy twin for the tape (by default the
    float forward mapped over the array). ``samples`` replaces the points it is checked at.
    """
    _check_name(name)
    if not callable(forward):
        raise GateRegistrationError(
            f"register_gate({name!r}): forward must be callable, got {type(forward).__name__}"
        )
    texts = (local,) if isinstance(local, str) else tuple(local)
    if not texts or len(texts) > 2 or not all(isinstance(t, str) for t in texts):
        raise GateRegistrationError(
            f"register_gate({name!r}): local must be one rule text per operand (1 or 2 texts), got {local!r}"
        )
    arity = len(texts)
    operands = OPERAND_NAMES[:arity]
    _check_forward_arity(name, forward, arity)
    for operand, text in zip(operands, texts):
        _check_text(name, f"the rule text for d{operand}", text, (*operands, "x"), parse_rule)
    conditions = _conditions(name, domain, operands)
    if composition:
        _check_text(name, "the composition", composition, operands, parse)
    if definition:
        _check_text(name, "the definition", definition, operands, parse_rule)
    if len(defaults) > arity - 1:
        raise GateRegistrationError(
            f"register_gate({name!r}): at most {arity - 1} default(s), got {len(defaults)}"
        )

    spec = GateSpec(
        name=name,
        local=texts,
        forward=forward,
        array_forward=array_forward or _mapped(forward),
        conditions=conditions,
        definition=definition,
        composition=composition,
        defaults=tuple(float(d) for d in defaults),
        symbol=symbol,
        note=note,
        builtin=False,
    )
    try:
        (gate,) = install([spec])
    except (ExpressionError, ValueError, TypeError, SyntaxError) as exc:
        raise GateRegistrationError(
            f"register_gate({name!r}): its texts could not be compiled: {exc}"
        ) from exc
    try:
        _check_numerically(gate, samples)
    except BaseException:
        uninstall([name])
        raise
    return gate


def unregister_gate(name: str) -> None:
    """Take a gate added with ``register_gate`` out of the table (built-in gates stay)."""
    gate = GATES.get(name)
    if gate is None:
        raise LookupError(f"no gate named {name!r} in the table")
    if gate.builtin:
        raise ValueError(f"{name!r} is a built-in gate; only gates added with register_gate can be removed")
    uninstall([name])


def _refuse(name: str, why: str) -> GateRegistrationError:
    return GateRegistrationError(f"register_gate({name!r}) refused: {why}; the table is unchanged")


# -- checks on the arguments ---------------------------------------------------------------------


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise GateRegistrationError(
            f"register_gate: the name must be an identifier such as 'softsign', got {name!r}"
        )
    if keyword.iskeyword(name) or name in RESERVED:
        raise _refuse(name, f"{name!r} is a reserved word of the formula language")
    for gate in GATES.values():
        if name == gate.name or name in gate.aliases:
            kind = "built-in" if gate.builtin else "registered"
            raise _refuse(name, f"the name clashes with the {kind} gate {gate.name!r} ({gate.rule})")


def _check_forward_arity(name: str, forward: Callable[..., float], arity: int) -> None:
    try:
        signature = inspect.signature(forward)
    except (TypeError, ValueError):  # some builtins have none: the sample points will tell
        return
    try:
        signature.bind(*([0.0] * arity))
    except TypeError:
        raise _refuse(
            name,
            f"the forward takes {_describe(signature)} but there are {arity} rule text(s), one per operand",
        ) from None


def _describe(signature: inspect.Signature) -> str:
    positional = [
        p for p in signature.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return f"{len(positional)} operand(s) {signature}"


def _check_text(
    name: str, what: str, text: str, allowed: Sequence[str], reader: Callable[[str], Expr]
) -> Expr:
    if not isinstance(text, str):
        raise _refuse(name, f"{what} must be text, got {type(text).__name__} {text!r}")
    try:
        tree = reader(text)
    except ExpressionError as exc:
        raise _refuse(
            name, f"{what} {text!r} does not parse: {exc.message} at position {exc.position}"
        ) from None
    extra = [v for v in tree.variables if v not in allowed]
    if extra:
        raise _refuse(
            name,
            f"{what} {text!r} uses {', '.join(extra)}, but a gate with {len(allowed) - ('x' in allowed)} "
            f"operand(s) can only use {', '.join(allowed)}",
        )
    return tree


def _conditions(name: str, domain: object, operands: Sequence[str]) -> tuple[Condition, ...]:
    items = [domain] if isinstance(domain, str) else list(domain)  # type: ignore[call-overload]
    conditions = []
    for item in items:
        if isinstance(item, Condition):
            text, message = item.text, item.message
        elif isinstance(item, tuple) and len(item) == 2:
            text, message = item
        else:
            text, message = item, f"{name} is defined only where {item}"
        if not text:
            continue
        _check_text(name, "the domain", text, operands, parse_rule)
        conditions.append(Condition(text, message))
    return tuple(conditions)


def _mapped(forward: Callable[..., float]) -> Callable[..., object]:
    """The float forward over arrays, element by element (NaN where it refuses)."""

    def safe(*args: float) -> float:
        try:
            return float(forward(*args))
        except (ArithmeticError, ValueError):
            return math.nan

    vectorized = np.vectorize(safe, otypes=[float])
    return lambda *arrays: vectorized(*arrays)


# -- the numerical checks at sample points ----------------------------------------------------------


def _check_numerically(gate: Gate, samples: Sequence[Sequence[float]] | None) -> None:
    name = gate.name
    points = _points(gate, samples)
    inside = []
    for point in points:
        try:
            node = apply_gate(gate, *[Value(v, n) for v, n in zip(point, gate.operands)])
        except GateError:
            continue  # outside the stated domain
        except Exception as exc:  # the user's forward may raise anything
            raise _refuse(name, f"its forward raised {exc!r} at {_at(gate, point)}") from exc
        if not gate.at_kink(*point):
            inside.append((point, node))
    if not inside:
        raise _refuse(
            name,
            f"none of the sample points lies inside its domain ({gate.domain or 'all reals'}) off its kinks; "
            "pass samples=[...] with points where it is defined",
        )
    tolerance = Tolerance()
    confirmed = 0
    for point, node in inside:
        _check_rule_texts(gate, point, node)
        suspect, unsure = _check_local_rule(0, node, tolerance, REL_STEP)
        if suspect is not None:
            raise _refuse(
                name, f"its local rule disagrees with its forward at {_at(gate, point)}: {suspect.message}"
            )
        confirmed += not unsure
        if gate.composition_tree is not None:
            _check_composition(gate, point, node)
        _check_array_forward(gate, point, node.data)
    if not confirmed:
        raise _refuse(
            name, "no sample point could confirm its rule numerically (each was a kink or too noisy)"
        )


def _points(gate: Gate, samples: Sequence[Sequence[float]] | None) -> list[tuple[float, ...]]:
    if samples is None:
        return list(UNARY_SAMPLES if gate.arity == 1 else BINARY_SAMPLES)
    points = [tuple(float(v) for v in p) for p in samples]
    if not points or any(len(p) != gate.arity for p in points):
        raise _refuse(gate.name, f"samples must be points of {gate.arity} number(s) each, got {samples!r}")
    return points


def _at(gate: Gate, point: Sequence[float]) -> str:
    return ", ".join(f"{n} = {v!r}" for n, v in zip(gate.operands, point))


def _check_rule_texts(gate: Gate, point: Sequence[float], node: Value) -> None:
    try:
        partials = gate.partials(*point, node.data)
    except Exception as exc:
        raise _refuse(gate.name, f"its rule texts do not evaluate at {_at(gate, point)}: {exc!r}") from exc
    for operand, value in zip(gate.operands, partials):
        if not isinstance(value, float) or not math.isfinite(value):
            raise _refuse(
                gate.name,
                f"the rule text for d{operand} does not evaluate to a finite number at {_at(gate, point)} "
                f"(it gives {value!r})",
            )


def _check_composition(gate: Gate, point: Sequence[float], node: Value) -> None:
    leaves = [Value(v, n) for v, n in zip(point, gate.operands)]
    try:
        built = build(gate.composition_tree, dict(zip(gate.operands, leaves)))  # type: ignore[arg-type]
    except GateError as exc:
        raise _refuse(gate.name, f"its composition refuses {_at(gate, point)}: {exc}") from exc
    if not math.isclose(built.data, node.data, rel_tol=1e-9, abs_tol=1e-12):
        raise _refuse(
            gate.name,
            f"its composition {gate.composition!r} gives {built.data!r} at {_at(gate, point)}, "
            f"its forward {node.data!r}",
        )
    built.backward()
    for leaf, local, operand in zip(leaves, gate.partials(*point, node.data), gate.operands):
        if not math.isclose(leaf.grad, local, rel_tol=1e-7, abs_tol=1e-10):
            raise _refuse(
                gate.name,
                f"its rule gives d{operand} = {local!r} * dx at {_at(gate, point)}, but backprop through "
                f"its composition {gate.composition!r} gives {leaf.grad!r}",
            )


def _check_array_forward(gate: Gate, point: Sequence[float], expected: float) -> None:
    with np.errstate(all="ignore"):
        got = gate.array_forward(*(np.array([v]) for v in point))
    value = float(np.asarray(got).reshape(-1)[0])
    if not math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12):
        raise _refuse(
            gate.name, f"its array_forward gives {value!r} at {_at(gate, point)}, its forward {expected!r}"
        )
