"""The built-in gates: every op a user can call, each defined once, in the table below.

An entry gives an op's texts -- its local derivatives in the slides' notation, its domain, and for a
composite its composition -- plus, where a formula is not enough, its forward as a function over
floats and over numpy arrays (``math.tanh``/``numpy.tanh``; a stable sigmoid). ``make_gate``
derives everything else from the texts: the float ``forward`` with its domain checks, ``partials``,
their numpy twins for the tape, and ``piece`` for the gradient checker. So the rule a student
reads in the trace, the drawing and ``docs/gates.md`` is the code that computes the gradient.

Operands are ``a`` and ``b``, the output ``x`` and its gradient ``dx``, as on the slides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .errors import DomainError
from .formula import (
    ARRAY,
    FLOAT,
    Expr,
    comparisons,
    format_formula,
    parse,
    parse_rule,
    python_source,
    repr_number,
    var,
)
from .table import FAMILIES, GATES, OPERAND_NAMES, Condition, Gate

__all__ = [
    "GateSpec",
    "make_gate",
    "install",
    "uninstall",
    "pow_gate",
    "gate_examples",
    "FLOAT_FUNCTIONS",
    "ARRAY_FUNCTIONS",
]

# The namespaces compiled texts run in: each op's forward by the name python_source gives it.
FLOAT_FUNCTIONS: dict[str, object] = {"DomainError": DomainError}  # ieee_partials added below
ARRAY_FUNCTIONS: dict[str, object] = {"where": np.where}
_ERRORS = {"domain": "DomainError", "zero division": "ZeroDivisionError"}


@dataclass(frozen=True)
class GateSpec:
    """What is written by hand for one gate; ``make_gate`` turns it into a ``Gate``."""

    name: str
    local: tuple[str, ...]
    operator: str | None = None
    forward: Callable[..., float] | None = None  # over floats; default: compiled from expr/definition
    array_forward: Callable[..., object] | None = None  # over numpy arrays; default: compiled
    conditions: tuple[Condition, ...] = ()
    definition: str = ""
    composition: str = ""
    aliases: tuple[str, ...] = ()
    defaults: tuple[float, ...] = ()
    symbol: str = ""
    note: str = ""
    latex: str = ""
    exponent: float | None = None
    builtin: bool = True
    expr_tree: Expr | None = field(default=None)  # for the a ** k family


def _define(source: str, name: str, namespace: dict[str, object]) -> Callable[..., object]:
    """The function ``name`` that ``source`` defines, run in ``namespace`` (generated code only)."""
    scope: dict[str, object] = {}
    exec(compile(source, f"<gate {name}>", "exec"), namespace, scope)
    function = scope[name]
    function.__source__ = source  # type: ignore[attr-defined]
    return function  # type: ignore[return-value]


def _expr_text(spec: GateSpec) -> tuple[str, Expr]:
    operands = OPERAND_NAMES[: len(spec.local)]
    if spec.expr_tree is not None:
        return format_formula(spec.expr_tree), spec.expr_tree
    tree = Expr(spec.name, tuple(var(v) for v in operands))
    if spec.operator is None:
        return f"{spec.name}({', '.join(operands)})", tree
    if len(operands) == 1:
        return f"{spec.operator}a", tree
    return f"a {spec.operator} b", tree


def _float_forward(spec: GateSpec, params: str, body: str) -> Callable[..., float]:
    """``body`` over floats, after the domain's conditions: each failing one raises its error."""
    lines = [f"def forward({params}):"]
    for condition in spec.conditions:
        lines.append(f"    if not {python_source(parse_rule(condition.text), FLOAT)}:")
        lines.append(f"        raise {_ERRORS[condition.kind]}({condition.message!r})")
    lines.append(f"    return {body}")
    return _define("\n".join(lines) + "\n", "forward", FLOAT_FUNCTIONS)


def make_gate(spec: GateSpec) -> Gate:
    """A table entry from its hand-written parts: texts parsed, functions compiled from them.

    The op itself must already be in ``GATES`` (``install`` puts a provisional entry there
    first), so texts that call it, or that call each other (sin and cos), can be read.
    """
    arity = len(spec.local)
    operands = OPERAND_NAMES[:arity]
    params = ", ".join(operands)
    expr, expr_tree = _expr_text(spec)
    local_trees = tuple(parse_rule(t) for t in spec.local)
    definition_tree = parse_rule(spec.definition) if spec.definition else None
    composition_tree = parse(spec.composition) if spec.composition else None
    # Without a kernel, the forward is the definition (binary_step) or the operator itself (a * b).
    formula = definition_tree if spec.forward is None and definition_tree is not None else expr_tree
    if spec.forward is None:
        forward = _float_forward(spec, params, python_source(formula, FLOAT))
    elif spec.conditions:
        FLOAT_FUNCTIONS[f"kernel_{spec.name}"] = spec.forward
        forward = _float_forward(spec, params, f"kernel_{spec.name}({params})")
    else:
        forward = spec.forward
    array_forward = spec.array_forward or _define(
        f"def array_forward({params}):\n    return {python_source(formula, ARRAY)}\n",
        "array_forward",
        ARRAY_FUNCTIONS,
    )

    local_array = ", ".join(python_source(t, ARRAY) for t in local_trees)
    array_partials = _define(
        f"def array_partials({params}, x):\n    return ({local_array},)\n", "array_partials", ARRAY_FUNCTIONS
    )
    # A factory, so the generated function finds its array twin in a closure and every op
    # function in the shared namespace, late-bound (sin's rule calls cos, cos's calls sin).
    make_partials = _define(
        f"def make_partials(array_partials):\n"
        f"    def partials({params}, x):\n"
        f"        try:\n"
        f"            return ({', '.join(python_source(t, FLOAT) for t in local_trees)},)\n"
        # 0 ** -0.5 or 1 / 0 at a domain edge: IEEE arithmetic gives inf, as the calculus does.
        f"        except (ArithmeticError, ValueError):\n"
        f"            return ieee_partials(array_partials, {params}, x)\n"
        f"    return partials\n",
        "make_partials",
        FLOAT_FUNCTIONS,
    )
    partials = make_partials(array_partials)
    array_defined = None
    if spec.conditions:
        tests = " & ".join(python_source(parse_rule(c.text), ARRAY) for c in spec.conditions)
        array_defined = _define(
            f"def array_defined({params}):\n    return {tests}\n", "array_defined", ARRAY_FUNCTIONS
        )
    steps = ", ".join(
        f"d{v} = {format_formula(Expr('mul', (tree, var('dx'))))}" for v, tree in zip(operands, local_trees)
    )
    shown = expr
    if definition_tree is not None:
        definition = format_formula(definition_tree)
        shown += f" = ({definition})" if definition_tree.op == "if" else f" = {definition}"
    return Gate(
        name=spec.name,
        arity=arity,
        expr=expr,
        rule=f"x = {shown}  ->  {steps}",
        local=spec.local,
        symbol=spec.symbol or spec.operator or spec.name,
        forward=forward,
        partials=partials,
        array_forward=array_forward,
        array_partials=array_partials,
        array_defined=array_defined,
        piece=_piece(
            spec, operands, (*local_trees, *(() if definition_tree is None else (definition_tree,)))
        ),
        expr_tree=expr_tree,
        local_trees=local_trees,
        operator=spec.operator,
        aliases=spec.aliases,
        defaults=spec.defaults,
        conditions=spec.conditions,
        definition=spec.definition,
        composition=spec.composition,
        composition_tree=composition_tree,
        definition_tree=definition_tree,
        note=spec.note,
        latex=spec.latex,
        exponent=spec.exponent,
        builtin=spec.builtin,
    )


def _ieee_partials(array_partials: Callable[..., tuple[object, ...]], *args: float) -> tuple[float, ...]:
    with np.errstate(all="ignore"):
        values = array_partials(*(np.float64(v) for v in args))
    return tuple(float(v) for v in values)


FLOAT_FUNCTIONS["ieee_partials"] = _ieee_partials


def _piece(
    spec: GateSpec, operands: Sequence[str], trees: Sequence[Expr]
) -> Callable[..., tuple[int, ...]] | None:
    """Which smooth piece the operands lie on: the sign of every comparison in the gate's texts.

    A relu's ``a > 0`` gives ``(sign(a),)``; a divisor's ``b != 0`` gives ``(sign(b),)``, so the
    pole counts as a seam. A 0 in the result means the operands sit exactly on a seam.
    """
    pairs: list[tuple[Expr, Expr]] = []
    for tree in (*trees, *(parse_rule(c.text) for c in spec.conditions)):
        for left, right in comparisons(tree):
            if (left, right) not in pairs and (right, left) not in pairs:
                pairs.append((left, right))
    if not pairs:
        return None
    signs = []
    for left, right in pairs:
        lhs, rhs = python_source(left, FLOAT), python_source(right, FLOAT)
        signs.append(f"(({lhs} > {rhs}) - ({lhs} < {rhs}))")
    params = ", ".join(operands)
    return _define(f"def piece({params}):\n    return ({', '.join(signs)},)\n", "piece", FLOAT_FUNCTIONS)


def _provisional(spec: GateSpec) -> Gate:
    """An entry that only says the op's name and shape, so texts that call it can be parsed."""

    def refuse(*args: object) -> object:
        raise RuntimeError(f"gate {spec.name!r} is still being defined")

    arity = len(spec.local)
    return Gate(
        name=spec.name,
        arity=arity,
        expr="",
        local=spec.local,
        symbol=spec.name,
        forward=refuse,
        partials=refuse,
        array_forward=refuse,
        array_partials=refuse,
        array_defined=None,
        piece=None,
        expr_tree=Expr(spec.name, tuple(var(v) for v in OPERAND_NAMES[:arity])),
        local_trees=(),
        operator=spec.operator,
        aliases=spec.aliases,
        defaults=spec.defaults,
        builtin=spec.builtin,
    )


def install(specs: Sequence[GateSpec]) -> list[Gate]:
    """Add gates to the table together (their texts may call one another); returns them."""
    for spec in specs:
        GATES[spec.name] = _provisional(spec)
        if spec.forward is not None:
            FLOAT_FUNCTIONS[f"op_{spec.name}"] = spec.forward
        if spec.array_forward is not None:
            ARRAY_FUNCTIONS[f"op_{spec.name}"] = spec.array_forward
    try:
        made = []
        for spec in specs:
            gate = make_gate(spec)
            GATES[spec.name] = gate
            FLOAT_FUNCTIONS[f"op_{spec.name}"] = gate.forward
            ARRAY_FUNCTIONS[f"op_{spec.name}"] = gate.array_forward
            made.append(gate)
    except BaseException:
        uninstall([spec.name for spec in specs])
        raise
    return made


def uninstall(names: Sequence[str]) -> None:
    """Take gates out of the table, and their functions out of the namespaces compiled texts use."""
    for name in names:
        GATES.pop(name, None)
        for namespace in (FLOAT_FUNCTIONS, ARRAY_FUNCTIONS):
            namespace.pop(f"op_{name}", None)
            namespace.pop(f"kernel_{name}", None)


# -- kernels: forwards a formula cannot write (stable, or a libm function) --------------------


def _sigmoid(a: float) -> float:
    # Only exp of a non-positive number: finite for every float a.
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _sigmoid_array(a: object) -> object:
    a = np.asarray(a, dtype=float)
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(a: float) -> float:
    return (a if a > 0 else 0.0) + math.log1p(math.exp(-abs(a)))


def _softplus_array(a: object) -> object:
    return np.maximum(a, 0.0) + np.log1p(np.exp(-np.abs(a)))


def _elu(a: float, b: float) -> float:
    return a if a > 0 else b * math.expm1(a)


def _elu_array(a: object, b: object) -> object:
    return np.where(np.greater(a, 0), a, np.multiply(b, np.expm1(np.minimum(a, 0.0))))


def _positive(name: str, what: str = "a > 0") -> Condition:
    return Condition(what, f"{name} is defined only for {what}")


_TIE = "a tie splits dx evenly between a and b (what central differences and PyTorch give)"
_LEFT = "at a == 0 the slides' rule takes the left piece"


BUILTIN = (
    GateSpec("add", ("1", "1"), operator="+"),
    GateSpec(
        "sub", ("1", "-1"), operator="-", composition="a + b * (-1)",
        note="one gate for a - b, so a subtraction is one node, not a + b * (-1)",
    ),
    GateSpec("mul", ("b", "a"), operator="*"),
    GateSpec("neg", ("-1",), operator="-", composition="a * (-1)"),
    GateSpec(
        "div", ("1 / b", "-a / (b * b)"), operator="/",
        conditions=(Condition("b != 0", "division by zero: the divisor b is 0", "zero division"),),
    ),
    GateSpec(
        "pow", ("b * a ** (b - 1)", "x * log(a)"), operator="**", aliases=("pow",),
        forward=lambda a, b: a**b, array_forward=np.power,
        conditions=(Condition(
            "a > 0",
            "a ** b with a Value exponent b needs a positive base a (d/db = x * log(a)); "
            "use a number exponent for a <= 0",
        ),),
        note="a number exponent (a ** 2) is the a ** k gate instead, defined for negative a too",
    ),
    GateSpec(
        "max", ("(1 if a > b else 1 / 2 if a == b else 0)", "(1 if b > a else 1 / 2 if a == b else 0)"),
        forward=lambda a, b: a if a >= b else b, array_forward=np.maximum, aliases=("maximum",),
        note=_TIE,
    ),
    GateSpec(
        "min", ("(1 if a < b else 1 / 2 if a == b else 0)", "(1 if b < a else 1 / 2 if a == b else 0)"),
        forward=lambda a, b: a if a <= b else b, array_forward=np.minimum, aliases=("minimum",),
        composition="-max(-a, -b)", note=_TIE,
    ),
    GateSpec(
        "abs", ("(1 if a > 0 else -1 if a < 0 else 0)",), forward=abs, array_forward=np.abs,
        composition="max(a, -a)", definition="(a if a >= 0 else -a)", latex=r"\left|#\right|",
        note="at a == 0 the derivative is 0, as for max(a, -a) whose tie splits",
    ),
    GateSpec(
        "relu", ("(1 if a > 0 else 0)",), forward=lambda a: a if a > 0 else 0.0,
        array_forward=lambda a: np.maximum(a, 0.0), definition="max(0, a)",
        note=f"relu'(0) = 0: {_LEFT}; a gate of its own, since a max gate would split the tie",
    ),
    GateSpec(
        "binary_step", ("0",), definition="(1 if a >= 0 else 0)",
        note="the perceptron's step: no gradient flows through it (the slides write '?' at 0)",
    ),
    GateSpec(
        "leaky_relu", ("(1 if a > 0 else b)", "(0 if a > 0 else a)"), defaults=(0.01,),
        definition="(a if a > 0 else b * a)", composition="relu(a) + b * (a - relu(a))",
        note=f"b is the slope for a <= 0 (0.01 by default; a Value for PReLU); {_LEFT}",
    ),
    GateSpec(
        "elu", ("(1 if a > 0 else b * exp(a))", "(0 if a > 0 else exp(a) - 1)"), defaults=(1.0,),
        forward=_elu, array_forward=_elu_array, definition="(a if a > 0 else b * (exp(a) - 1))",
        composition="relu(a) + b * (exp(a - relu(a)) - 1)",
        note=f"b is alpha (1 by default); b * exp(a) is the slides' f(a) + alpha; {_LEFT}",
    ),
    GateSpec("exp", ("x",), forward=math.exp, array_forward=np.exp),
    GateSpec("log", ("1 / a",), forward=math.log, array_forward=np.log, conditions=(_positive("log"),)),
    GateSpec(
        "sqrt", ("1 / (2 * x)",), forward=math.sqrt, array_forward=np.sqrt, composition="a ** 0.5",
        conditions=(_positive("sqrt", "a >= 0"),), latex=r"\sqrt{#}",
        note="at a == 0 the derivative is infinite",
    ),
    GateSpec(
        "sigmoid", ("x * (1 - x)",), forward=_sigmoid, array_forward=_sigmoid_array,
        definition="1 / (1 + exp(-a))", composition="exp(min(a, 0)) / (1 + exp(-abs(a)))",
        latex=r"\sigma\left(#\right)",
    ),
    GateSpec(
        "tanh", ("1 - x * x",), forward=math.tanh, array_forward=np.tanh,
        definition="(exp(a) - exp(-a)) / (exp(a) + exp(-a))", composition="2 * sigmoid(2 * a) - 1",
    ),
    GateSpec(
        "softplus", ("sigmoid(a)",), forward=_softplus, array_forward=_softplus_array,
        definition="log(1 + exp(a))", composition="max(a, 0) + log(1 + exp(-abs(a)))",
    ),
    GateSpec("arctan", ("1 / (1 + a * a)",), forward=math.atan, array_forward=np.arctan),
    GateSpec("sin", ("cos(a)",), forward=math.sin, array_forward=np.sin),
    GateSpec("cos", ("-sin(a)",), forward=math.cos, array_forward=np.cos),
)  # fmt: skip

install(BUILTIN)


# -- the a ** k family: one gate per number exponent k -------------------------------------------


def pow_gate(k: float) -> Gate:
    """The gate ``x = a ** k`` for a number exponent ``k`` (one shared gate per ``k``)."""
    return _pow_gate(float(k))


@lru_cache(maxsize=1024)  # bounded: a program may raise to many different float exponents
def _pow_gate(k: float) -> Gate:
    text = repr_number(k)
    integral = k == int(k)
    if k == 2:
        local = "2 * a"
    elif k in (0, 1):
        local = text
    else:
        local = f"{text} * a ** {repr_number(k - 1)}"
    conditions = []
    if k < 0:
        conditions.append(
            Condition("a != 0", f"0 cannot be raised to the negative power {text}", "zero division")
        )
    if not integral:
        conditions.append(
            Condition("a >= 0", f"a negative base to the fractional power {text} is not a real number")
        )
    return make_gate(
        GateSpec(
            "pow", (local,), symbol=f"**{text}", conditions=tuple(conditions), exponent=k,
            expr_tree=Expr("powk", (var("a"),), k),
            note="" if integral or k > 1 else "at a == 0 the derivative is infinite",
        )
    )  # fmt: skip


FAMILIES["pow"] = pow_gate


def gate_examples() -> list[Gate]:
    """Every gate in the table, with the a ** k family at representative exponents.

    Tests parametrize over this list, so a gate added to the table is checked the day it is added.
    """
    return [*GATES.values(), *(pow_gate(k) for k in (2, 3, 1, 0, -1, -2, 0.5, 1.5, -0.5))]
