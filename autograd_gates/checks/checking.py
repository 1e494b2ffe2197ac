"""``gradcheck``: compare backward's gradient with a numerical one, and say who is wrong.

For every input ``x_i`` the analytic derivative ``a`` (from ``backward()``) is compared with
the numerical estimate ``n ± error`` of ``numerical_grad``. The pass rule is::

    |a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error

with ``atol = 1e-8``, ``rtol = 1e-6``, ``err_factor = 1`` by default. Each input gets one of
three verdicts:

* ``pass``;
* ``fail`` -- the rule does not hold;
* ``inconclusive`` -- the numerical derivative cannot be trusted: a kink or tie inside the
  stencil (relu at 0, a max tie) whose one-sided slopes differ, a domain edge (a gate
  refuses a stencil point), a graph that changes shape, or an estimate too noisy to judge
  (``error > noise_rtol * |n| + atol``).

The report's outcome is ``fail`` if any input fails, else ``inconclusive`` if any input is,
else ``pass`` -- and ``fail`` whenever the search below finds a wrong gate in the circuit,
even if its errors cancel in ``f`` or no input could be judged. The pass rule lives in
``verdict.py``, the search for the **suspect gate** in ``suspects.py``, the report in
``report.py``; this module runs the check.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Sequence

from ..engine.circuit import ExprFunction, index_names
from ..engine.errors import GateGradientError
from ..engine.formula import Expr
from ..engine.value import Value, topological_order
from .numerical import (
    NOISY,
    REL_STEP,
    as_inputs,
    estimate_derivative,
    input_labels,
    point_function,
    probe_of,
    relative_step,
    require_nonnegative,
)
from .report import GradcheckError, GradcheckInconclusive, GradcheckReport, InputCheck, Suspect
from .suspects import check_local_rules, find_suspect
from .verdict import FAIL, INCONCLUSIVE, PASS, Tolerance, hint

__all__ = [
    "gradcheck",
    "GradcheckReport",
    "GradcheckError",
    "GradcheckInconclusive",
    "InputCheck",
    "Suspect",
    "Tolerance",
    "find_suspect",
    "check_local_rules",
    "hint",
]


def gradcheck(
    f: Callable[..., Value] | Expr,
    inputs: Sequence[float] | float,
    *,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    err_factor: float = 1.0,
    noise_rtol: float = 1e-3,
    rel_step: float = REL_STEP,
    labels: Sequence[str] = (),
    raise_exception: bool = True,
    find_suspects: bool = True,
    check_rules: bool = True,
) -> GradcheckReport:
    """Check ``backward()``'s gradient of ``f`` at ``inputs`` against a numerical one.

    ``f`` takes one ``Value`` per input (positional) and returns a ``Value``, or is an ``Expr``
    (a parsed or generated expression, whose variables take the inputs in order: ``x0, x1, ...``
    for indexed names, else their order of first use); ``inputs`` are numbers (or Values, whose
    data and labels are used). Per input the rule is
    ``|a - n| <= atol + rtol * max(|a|, |n|) + err_factor * error`` (see the module doc).

    Returns a ``GradcheckReport``. With ``raise_exception=True`` (the default) a failure
    raises ``GradcheckError`` (an ``AssertionError``) and an inconclusive check raises
    ``GradcheckInconclusive``; both carry ``.report``. With ``raise_exception=False`` the
    report is returned whatever the outcome.

    When the outcome is not ``pass`` the report names a suspect gate (``find_suspects``).
    With ``check_rules`` (the default) every gate's local rule in the circuit is checked even
    when all inputs agree, and a wrong rule makes the outcome ``fail``: errors of a wrong rule
    can cancel in ``f``, and the next ``f`` will not be so lucky::

        >>> from autograd_gates import gradcheck
        >>> gradcheck(lambda a, b: a * b + a.exp(), [2.0, -1.0]).outcome
        'pass'
    """
    require_nonnegative(atol=atol, rtol=rtol, err_factor=err_factor, noise_rtol=noise_rtol)
    relative_step(1.0, rel_step)  # a bad rel_step is refused before f runs
    tolerance = Tolerance(float(atol), float(rtol), float(err_factor), float(noise_rtol))
    xs, given = as_inputs(inputs)
    if isinstance(f, Expr):
        f = _expression_function(f, len(xs))
    if isinstance(labels, str) or labels and len(labels) != len(xs):
        raise ValueError(f"labels must give one name per input ({len(xs)}), got {labels!r}")
    names = input_labels(f, len(xs), list(labels) or given)

    leaves = [Value(x, label) for x, label in zip(xs, names)]
    root = f(*leaves)
    if not isinstance(root, Value):
        raise TypeError(
            f"f must return a Value built from the Values it receives, got {type(root).__name__} {root!r}"
        )
    try:
        root.backward()
        refused = None
    except GateGradientError as exc:  # a local derivative is infinite here (sqrt at 0): nothing to compare
        refused = exc
        for leaf in leaves:
            leaf.grad = math.nan
    base = probe_of(root)
    circuit = set(topological_order(root))

    rows = []
    for i, (x, leaf) in enumerate(zip(xs, leaves)):
        estimate = estimate_derivative(
            point_function(f, xs, names, i),
            x,
            base,
            what=names[i],
            rel_step=rel_step,
            noise_rtol=noise_rtol,
            noise_atol=atol,
        )
        verdict, allowed = tolerance.judge(leaf.grad, estimate)
        if leaf not in circuit and estimate.value == 0 and verdict == INCONCLUSIVE:
            # An input f never uses: no gradient can reach it, and f(x + h) == f(x - h) to the bit,
            # whatever the rounding bound on a large f says.
            verdict, note = PASS, "f does not use this input (its leaf is not in the circuit)"
        elif verdict == FAIL:
            note = hint(leaf.grad, estimate.value, allowed)
        elif verdict == INCONCLUSIVE and refused is not None:
            note = f"backward refused, so there is no number to compare: {refused}"
        elif verdict == INCONCLUSIVE and estimate.join and not estimate.issue:
            note = (
                f"kink convention: {estimate.join}; f is smooth there but backward follows the gate's "
                f"convention at its kink (relu'(0) = 0, a tie splits in half), so a mismatch is no proof"
            )
        elif verdict == INCONCLUSIVE:
            note = f"{estimate.issue or NOISY}: " + (
                estimate.detail
                or f"the estimate is uncertain by {estimate.error:.1e}, too much to judge {leaf.grad:.6g}"
            )
        else:
            note = ""
        rows.append(InputCheck(names[i], x, leaf.grad, estimate, allowed, verdict, note))

    verdicts = {r.verdict for r in rows}
    outcome = FAIL if FAIL in verdicts else INCONCLUSIVE if INCONCLUSIVE in verdicts else PASS
    suspect, diagnosis = None, ""
    if refused is not None:
        diagnosis = str(refused)
    elif outcome != PASS and find_suspects:
        suspect, diagnosis = find_suspect(root, tolerance, rel_step=rel_step)
    elif check_rules:
        # Wrong rules can cancel out in f (a sign flip on every mul of a path with two muls):
        # the gradient agrees, the circuit is still broken.
        suspect, _ = check_local_rules(root, tolerance, rel_step=rel_step)
    if suspect is not None:
        outcome = FAIL  # a definite mismatch inside the circuit, even if no input could be judged
    report = GradcheckReport(
        outcome=outcome,
        rows=tuple(rows),
        function=_describe(f),
        value=root.data,
        tolerance=tolerance,
        reproduce=_reproduce(f, xs, tolerance, rel_step),
        suspect=suspect,
        diagnosis=diagnosis,
    )
    if raise_exception and outcome == FAIL:
        raise GradcheckError(report)
    if raise_exception and outcome == INCONCLUSIVE:
        raise GradcheckInconclusive(report)
    return report


# -- describing f and reproducing the check ---------------------------------------------------


def _expression_function(expr: Expr, n: int) -> ExprFunction:
    """The tree as a function of ``n`` inputs: ``x0 .. x{n-1}`` if it is written in those."""
    names = index_names(expr)
    if len(names) != n and all(re.fullmatch(r"x\d+", v) for v in names):
        names = tuple(f"x{i}" for i in range(n))
    return ExprFunction(expr, names)


def _describe(f: Callable[..., object]) -> str:
    description = getattr(f, "description", None)
    if isinstance(description, str):
        return description
    name = getattr(f, "__qualname__", None) or type(f).__name__
    try:
        source = inspect.getsourcefile(f)  # type: ignore[arg-type]
        where = f"{source}:{inspect.getsourcelines(f)[1]}" if source and not source.startswith("<") else ""
    except (TypeError, OSError):
        where = ""
    return f"{name} ({where})" if where else name


def _reproduce(f: Callable[..., object], xs: list[float], tolerance: Tolerance, rel_step: float) -> str:
    options = ""
    defaults = Tolerance()
    for name in ("atol", "rtol", "err_factor", "noise_rtol"):
        if getattr(tolerance, name) != getattr(defaults, name):
            options += f", {name}={getattr(tolerance, name)!r}"
    if rel_step != REL_STEP:
        options += f", rel_step={rel_step!r}"
    call = f"gradcheck(f, [{', '.join(repr(x) for x in xs)}]{options})"
    setup = getattr(f, "setup", None)
    if isinstance(setup, str):
        return f"from autograd_gates import gradcheck; {setup}; {call}"
    name = getattr(f, "__name__", "f")
    if name.isidentifier() and name != "f":
        call = call.replace("gradcheck(f,", f"gradcheck({name},", 1)
    return call
