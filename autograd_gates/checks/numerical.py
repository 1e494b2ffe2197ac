"""Numerical derivatives you can trust, or that say why you cannot.

``numerical_grad(f, inputs)`` estimates ``df/dx_i`` for every input by central differences
with Richardson extrapolation:

* the step is relative, ``h = eps ** (1/3) * max(1, |x|)`` (about ``6.06e-6 * max(1, |x|)``),
  rounded to a power of two so that ``x +- h`` and ``x +- 2h`` are exact floats
  (``(x + h) - x == h``);
* ``D(h) = (f(x + h) - f(x - h)) / 2h`` and the estimate is ``D(h) + (D(h) - D(2h)) / 3``,
  which cancels the ``h**2`` error term (4 evaluations of ``f`` per input);
* ``|D(h) - D(2h)|`` is a free estimate of the truncation error; the reported ``error`` adds
  a rounding term ``max(4 * eps * max|f(stencil)|, |fourth difference of f|) / h``: the
  fourth difference of the five values ``f(x - 2h) .. f(x + 2h)`` is ``h**4 * f''''`` for a
  smooth ``f``, so it exposes an ``f`` that rounds worse than ``eps * |f|``.

Each stencil point rebuilds the circuit, so the estimator also sees *where* it is: if a gate
refuses a stencil point (a domain edge), if a gate with a ``piece`` (max, relu, fractional pow)
switches piece inside the stencil (a kink or a tie), or if ``f`` builds a different graph there,
the estimate says so in ``issue``/``detail``. A switch of piece is harmless when the one-sided
slopes on both sides agree (``sigmoid`` at 0 is built from max gates but is smooth); only a
real kink is flagged. On trouble the step is divided by 8 and tried again (3 times by default),
so a kink or an edge *near* ``x`` stops mattering once the stencil no longer reaches it.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from ..engine.value import Value, topological_order

__all__ = [
    "REL_STEP",
    "GradEstimate",
    "NumericalGradient",
    "numerical_grad",
    "relative_step",
    "input_labels",
    "as_inputs",
]

EPS = sys.float_info.epsilon  # 2 ** -52
REL_STEP = EPS ** (1 / 3)  # about 6.06e-6: balances truncation (h**2) against rounding (eps / h)
ROUNDING_FACTOR = 4.0  # rounding error of the extrapolated difference, in units of eps * |f| / h
STEP_SHRINK = 8.0  # each refinement divides h by this

# A gate refusing its operands (GateDomainError is a ValueError, the others are ArithmeticErrors),
# or user code doing the same: at a stencil point this marks a domain edge, never a crash.
STENCIL_FAILURES = (ValueError, ArithmeticError)

# Issue kinds an estimate can carry.
KINK = "kink"
DOMAIN_EDGE = "domain edge"
GRAPH_CHANGES = "graph changes"
NOISY = "noisy"


@dataclass(frozen=True)
class GradEstimate:
    """A numerical derivative with its error bar.

    ``value`` is the Richardson-extrapolated central difference, ``error`` a conservative
    estimate of ``|value - true derivative|`` (not a guaranteed bound: rounding that is
    systematic rather than noise-like can beat it), ``step`` the ``h`` used (a power of two),
    ``evaluations`` the calls of ``f`` it took. ``issue`` is ``""`` for a trustworthy
    estimate, else one of ``"kink"``, ``"domain edge"``, ``"graph changes"``, ``"noisy"``,
    and ``detail`` explains it in words. ``join`` describes a gate that switches piece inside
    the stencil while ``f``'s one-sided slopes agree (``sigmoid`` at 0): the estimate is fine,
    but the engine's convention at that kink may legitimately differ from it (``relu(x) -
    relu(-x)`` at 0). ``float(estimate)`` gives the value.
    """

    value: float
    error: float
    step: float
    evaluations: int
    issue: str = ""
    detail: str = ""
    join: str = ""  # a gate switching piece where f's one-sided slopes agree (sigmoid at 0)

    @property
    def ok(self) -> bool:
        """True when nothing was found that makes the estimate unreliable."""
        return not self.issue

    def __float__(self) -> float:
        return self.value

    def __str__(self) -> str:
        text = f"{self.value:.12g} ± {self.error:.1e}"
        return f"{text} ({self.issue})" if self.issue else text


class NumericalGradient(tuple):
    """The estimates of ``numerical_grad``, one ``GradEstimate`` per input, in input order.

    ``.values`` is the plain list of floats, ``.errors`` the error bars; indexing and
    iteration give the full estimates.
    """

    __slots__ = ()

    @property
    def values(self) -> list[float]:
        return [e.value for e in self]

    @property
    def errors(self) -> list[float]:
        return [e.error for e in self]

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self)

    def __repr__(self) -> str:
        return f"NumericalGradient([{', '.join(str(e) for e in self)}])"


# -- the probe: f's value at a point, plus what the circuit looked like there -------------------


@dataclass(frozen=True)
class Probe:
    """``f`` at one point: its value, the gate of every node, and each node's smooth piece."""

    value: float
    gates: tuple = ()  # the gate of each node in topological order (None for leaves)
    operands: tuple = ()  # the operands' floats of each node
    pieces: tuple = field(init=False)  # gate.piece(*operands) for gates that have one, else None

    def __post_init__(self) -> None:
        pieces = tuple(
            gate.piece(*ops) if gate is not None and gate.piece is not None else None
            for gate, ops in zip(self.gates, self.operands)
        )
        object.__setattr__(self, "pieces", pieces)


def probe_of(out: object) -> Probe:
    """The probe of ``f``'s output: a Value (its circuit is read too) or a plain number."""
    if isinstance(out, Value):
        order = topological_order(out)
        operands = tuple(tuple(p.data for p in node.parents) for node in order)
        return Probe(out.data, tuple(node.gate for node in order), operands)
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        return Probe(float(out))
    raise TypeError(f"f must return a Value (or a number), got {type(out).__name__} {out!r}")


def _structure(probe: Probe) -> tuple:
    return tuple(None if g is None else (g.name, g.symbol) for g in probe.gates)


def _kink_between(base: Probe, other: Probe) -> int | None:
    """Index of the first node whose piece differs between two probes of the same graph."""
    for k, (p, q) in enumerate(zip(base.pieces, other.pieces)):
        if p != q:
            return k
    return None


def _describe_kink(base: Probe, k: int, what: str, x: float, point: float) -> str:
    gate = base.gates[k]
    ops = ", ".join(f"{n} = {v:.6g}" for n, v in zip(gate.operands, base.operands[k]))
    return (
        f"{gate.name} gate (node #{k}, x = {gate.expr}; {ops}) switches piece between "
        f"{what} = {x!r} and {what} = {point!r}: a kink or a tie"
    )


# -- the step ----------------------------------------------------------------------------------


def relative_step(x: float, rel_step: float = REL_STEP) -> float:
    """``rel_step * max(1, |x|)`` rounded to the nearest power of two.

    A power-of-two step at least a few ulps of ``x`` makes ``x + h``, ``x - h``, ``x + 2h``
    and ``x - 2h`` exact floats (bar a step crossing a power of two, where the difference
    quotients below divide by the actual distance anyway).
    """
    if isinstance(rel_step, bool) or not isinstance(rel_step, (int, float)) or not 0 < rel_step < math.inf:
        raise ValueError(f"rel_step must be a finite number > 0, got {rel_step!r}")
    h = rel_step * max(1.0, abs(x))
    return 2.0 ** round(math.log2(h))


# -- the estimator -----------------------------------------------------------------------------


def estimate_derivative(
    evaluate: Callable[[float], Probe],
    x: float,
    base: Probe,
    *,
    what: str = "x",
    rel_step: float = REL_STEP,
    max_refinements: int = 3,
    noise_rtol: float = 1e-3,
    noise_atol: float = 1e-8,
) -> GradEstimate:
    """The derivative at ``x`` of the one-argument ``evaluate``, whose probe at ``x`` is ``base``.

    This is the engine of ``numerical_grad``; the gradient checker also uses it on a single
    gate's forward and on a replay of the circuit above one node.

    The step starts at ``relative_step(x)`` and is divided by 8 while a kink, a domain edge or
    truncation spoils the estimate. When instead rounding noise leaves it too uncertain to judge
    (an ill-conditioned ``f`` such as ``tanh(x) ** exp(x)`` near 10), the step is multiplied by 8
    while that lowers the error estimate: a wider stencil divides the same noise by a larger ``h``.
    """
    h = relative_step(x, rel_step)
    evaluations = 0
    best: GradEstimate | None = None  # the clean estimate with the smallest error so far
    trouble: GradEstimate | None = None  # the last estimate spoilt by an edge, a kink or a branch
    rounding_bound = False
    for _ in range(max_refinements + 1):
        found, rounding_bound = _stencil(evaluate, x, base, h, what)
        evaluations += found.evaluations
        if found.issue:
            trouble = found
            h /= STEP_SHRINK
            continue
        if best is not None and found.error >= best.error:
            # A smaller step made it worse: what looked like truncation was rounding noise.
            rounding_bound = True
            break
        best = found
        if rounding_bound:
            break  # rounding dominates: a smaller step would only make the estimate worse
        h /= STEP_SHRINK

    def trusted(estimate: GradEstimate) -> float:
        return noise_rtol * abs(estimate.value) + noise_atol

    if best is not None and rounding_bound and best.error > trusted(best):
        # Too noisy to judge: widen the step. A rounding error of f that is a staircase (tanh near 1
        # raised to a large power) fools the fourth difference, so each wider estimate's error bar
        # also covers its distance from the narrower one.
        last, h = best, best.step
        for _ in range(max_refinements):
            h *= STEP_SHRINK
            found, _ = _stencil(evaluate, x, base, h, what)
            evaluations += found.evaluations
            if found.issue:
                break  # the wider stencil met a kink, an edge or a branch
            found = replace(found, error=max(found.error, abs(found.value - last.value)))
            last = found
            if found.error >= best.error:
                break  # truncation took over
            best = found
            if best.error <= trusted(best):
                break

    if best is None:
        assert trouble is not None
        return replace(trouble, evaluations=evaluations)
    if best.error > trusted(best):
        detail = (
            f"the estimate {best.value:.6g} at {what} = {x!r} is uncertain by {best.error:.1e} "
            f"(h = {best.step:.3g}), more than the {trusted(best):.1e} (noise_rtol * |n| + atol) that "
            f"judging it needs"
        )
        return replace(best, evaluations=evaluations, issue=NOISY, detail=detail)
    return replace(best, evaluations=evaluations)


def _stencil(
    evaluate: Callable[[float], Probe], x: float, base: Probe, h: float, what: str
) -> tuple[GradEstimate, bool]:
    """One Richardson estimate with step ``h`` (with an ``issue`` if the stencil met a domain edge,
    a graph change or a kink), and whether rounding rather than truncation dominated its error."""
    points = (x - 2 * h, x - h, x + h, x + 2 * h)
    probes: list[Probe] = []
    base_structure = _structure(base)
    for point in points:
        try:
            probe = evaluate(point)
        except STENCIL_FAILURES as exc:
            return GradEstimate(
                math.nan, math.inf, h, len(probes), DOMAIN_EDGE, f"at {what} = {point!r}: {exc}"
            ), False
        used = len(probes) + 1
        if not math.isfinite(probe.value):
            return GradEstimate(
                math.nan, math.inf, h, used, DOMAIN_EDGE, f"f is not finite at {what} = {point!r}"
            ), False
        if _structure(probe) != base_structure:
            detail = f"f builds a different graph at {what} = {point!r} (a Python branch on .data?)"
            return GradEstimate(math.nan, math.inf, h, used, GRAPH_CHANGES, detail), False
        probes.append(probe)

    fm2, fm1, fp1, fp2 = (p.value for p in probes)
    d1 = (fp1 - fm1) / (points[2] - points[1])
    d2 = (fp2 - fm2) / (points[3] - points[0])
    value = d1 + (d1 - d2) / 3.0
    truncation = abs(d1 - d2)
    # Rounding: eps * |f| for a well-conditioned f, but an ill-conditioned f (tanh near 1
    # raised to a large power) rounds far worse; the fourth difference of the five values
    # (h**4 times the fourth derivative for a smooth f, so tiny) measures that noise directly
    # (as ECnoise does).
    f0 = base.value
    fourth = abs(fm2 - 4.0 * fm1 + 6.0 * f0 - 4.0 * fp1 + fp2)
    scale = max(abs(fm2), abs(fm1), abs(fp1), abs(fp2), abs(f0))
    rounding = max(ROUNDING_FACTOR * EPS * scale, fourth) / h
    error = truncation + rounding
    # A kink inflates both `fourth` and `truncation`, so the join test below uses rounding only.
    join_error = ROUNDING_FACTOR * EPS * scale / h

    join = ""
    for point, probe in zip(points, probes):
        k = _kink_between(base, probe)
        if k is not None:
            # A switch of piece is a kink only if the one-sided slopes disagree.
            right = (-3.0 * f0 + 4.0 * fp1 - fp2) / (2.0 * h)
            left = (3.0 * f0 - 4.0 * fm1 + fm2) / (2.0 * h)
            join = _describe_kink(base, k, what, x, point) + f" (one-sided slopes {left:.6g} and {right:.6g})"
            if abs(right - left) > 1e-8 + 1e-6 * max(abs(right), abs(left)) + 4.0 * join_error:
                return GradEstimate(value, error, h, 4, KINK, join), False
            break
    return GradEstimate(value, error, h, 4, join=join), truncation <= STEP_SHRINK * rounding


# -- the public function -----------------------------------------------------------------------


def require_nonnegative(**options: float) -> None:
    """A ValueError naming the first option that is not a finite number >= 0."""
    for name, value in options.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def as_inputs(inputs: object) -> tuple[list[float], list[str]]:
    """The inputs as floats (a number, Values or numbers) and any labels the Values carry."""
    one_number = isinstance(inputs, (int, float, Value)) and not isinstance(inputs, bool)
    if one_number or getattr(inputs, "ndim", 1) == 0:  # a 0-d numpy array is one number too
        inputs = [inputs]
    if not hasattr(inputs, "__iter__"):
        raise TypeError(f"inputs must be a number or a sequence of numbers, got {type(inputs).__name__}")
    xs: list[float] = []
    labels: list[str] = []
    for i, item in enumerate(inputs):  # type: ignore[arg-type]
        if isinstance(item, Value):
            xs.append(item.data)
            labels.append(item.label)
            continue
        if isinstance(item, bool) or not hasattr(item, "__float__"):
            raise TypeError(f"input {i} must be a number, got {type(item).__name__} {item!r}")
        value = float(item)  # type: ignore[arg-type]
        if not math.isfinite(value):
            raise ValueError(f"input {i} must be finite, got {value!r}")
        xs.append(value)
        labels.append("")
    if not xs:
        raise ValueError("inputs is empty: give f at least one number to differentiate at")
    return xs, labels


def input_labels(f: Callable[..., object], n: int, given: Sequence[str] = ()) -> list[str]:
    """Names for the inputs: labels the caller gave, else f's parameter names, else x0, x1, ..."""
    names: list[str] = []
    try:
        params = [
            p
            for p in inspect.signature(f).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(params) == n:
            names = [p.name for p in params]
    except (TypeError, ValueError):
        pass
    labels = []
    for i in range(n):
        if i < len(given) and given[i]:
            labels.append(given[i])
        elif names:
            labels.append(names[i])
        else:
            labels.append(f"x{i}")
    return labels


def point_function(
    f: Callable[..., object], xs: Sequence[float], labels: Sequence[str], i: int
) -> Callable[[float], Probe]:
    """``t -> probe of f(x_0, ..., x_i = t, ..., x_n)``, building fresh leaves each time."""

    def evaluate(t: float) -> Probe:
        leaves = [Value(t if j == i else x, label) for j, (x, label) in enumerate(zip(xs, labels))]
        return probe_of(f(*leaves))

    return evaluate


def numerical_grad(
    f: Callable[..., object],
    inputs: Sequence[float] | float,
    *,
    rel_step: float = REL_STEP,
    max_refinements: int = 3,
    noise_rtol: float = 1e-3,
    noise_atol: float = 1e-8,
) -> NumericalGradient:
    """Estimate the gradient of ``f`` at ``inputs`` by central differences + Richardson.

    ``f`` takes one ``Value`` per input (positional) and returns a ``Value``; ``inputs``
    are numbers. Returns one ``GradEstimate`` per input; ``.values`` gives a plain list::

        >>> from autograd_gates import numerical_grad
        >>> g = numerical_grad(lambda a, b: a * b + b.exp(), [2.0, 0.0])
        >>> [round(v, 9) for v in g.values]
        [0.0, 3.0]

    Each estimate carries ``error`` (a conservative estimate, not a guaranteed bound:
    ``|D(h) - D(2h)|`` plus rounding), ``step`` and ``issue`` (``"kink"``, ``"domain edge"``,
    ``"graph changes"``, ``"noisy"``, or ``""`` when the estimate can be trusted).
    """
    if isinstance(max_refinements, bool) or not isinstance(max_refinements, int) or max_refinements < 0:
        raise ValueError(f"max_refinements must be an int >= 0, got {max_refinements!r}")
    require_nonnegative(noise_rtol=noise_rtol, noise_atol=noise_atol)
    relative_step(1.0, rel_step)  # a bad rel_step is refused before f runs
    xs, given = as_inputs(inputs)
    labels = input_labels(f, len(xs), given)
    base = probe_of(f(*(Value(x, label) for x, label in zip(xs, labels))))
    return NumericalGradient(
        estimate_derivative(
            point_function(f, xs, labels, i),
            xs[i],
            base,
            what=labels[i],
            rel_step=rel_step,
            max_refinements=max_refinements,
            noise_rtol=noise_rtol,
            noise_atol=noise_atol,
        )
        for i in range(len(xs))
    )
